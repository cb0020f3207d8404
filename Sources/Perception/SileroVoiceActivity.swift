import DSP
import RealModule

/// Silero VAD 6 (16 kHz), run natively: the network of `silero_vad_16k.safetensors` — a 256-point STFT
/// (hop 128) as a fixed convolution, four Conv1d + ReLU layers (129→128→64→64→128 channels, strides 1,2,2,1),
/// an LSTM cell of 128 and a 1×1 convolution with a sigmoid — over windows of 512 samples (32 ms) with the
/// previous window's last 64 samples as context and the LSTM state carried from window to window.
///
/// The weights are immutable and shared; each audio stream has its own `SileroVoiceActivity.Stream`.
/// Probabilities equal the package's reference implementation (`tinygrad_model.py`) within 1e-4 per window
/// (tested on committed fixtures).
public struct SileroVoiceActivity: Sendable {
    /// Sampling rate the network takes, hertz.
    public static let sampleRate = 16_000.0
    /// Samples per window (32 ms).
    public static let windowLength = 512
    /// Samples of the previous window prepended as context.
    public static let contextLength = 64
    static let fftSize = 256, fftHop = 128, bins = 129, hidden = 128

    /// Periodic Hann window of the STFT basis (row 0 of the basis), 256 values.
    let window: [Float]
    let conv1: Conv1d, conv2: Conv1d, conv3: Conv1d, conv4: Conv1d
    let lstm: LSTMLayer
    /// 1×1 output convolution: 128 weights and a bias.
    let headWeights: [Float], headBias: Float

    /// Loads the network from the pinned weight file (located as `PretrainedWeights` describes, or at `path`).
    /// - Throws: `PerceptionError` when the file is missing, corrupt or not this network.
    public init(path: String? = nil) throws(PerceptionError) {
        let file = try PretrainedWeights.sileroVAD.open(path: path)
        let basis = try file.floats("stft_conv.weight", shape: [258, 1, 256])
        // The basis must be a Hann-windowed DFT (real rows w·cos, imaginary rows −w·sin): then an FFT computes it.
        let w = Array(basis[0..<256])
        var worst: Float = 0
        for k in 0..<129 {
            for n in 0..<256 {
                let phase = 2 * Double.pi * Double(k * n % 256) / 256
                worst = max(worst, abs(basis[k * 256 + n] - w[n] * Float(Double.cos(phase))),
                            abs(basis[(129 + k) * 256 + n] + w[n] * Float(Double.sin(phase))))
            }
        }
        guard worst < 1e-5 else {
            throw .malformedWeights(path: file.path, detail: "stft_conv.weight is not a windowed DFT basis (deviation \(worst))")
        }
        window = w
        conv1 = try Conv1d(file, "conv1", input: 129, output: 128, stride: 1)
        conv2 = try Conv1d(file, "conv2", input: 128, output: 64, stride: 2)
        conv3 = try Conv1d(file, "conv3", input: 64, output: 64, stride: 2)
        conv4 = try Conv1d(file, "conv4", input: 64, output: 128, stride: 1)
        lstm = LSTMLayer(inputSize: 128, hiddenSize: 128,
                         weightIH: try file.floats("lstm_cell.weight_ih", shape: [512, 128]),
                         weightHH: try file.floats("lstm_cell.weight_hh", shape: [512, 128]),
                         biasIH: try file.floats("lstm_cell.bias_ih", shape: [512]),
                         biasHH: try file.floats("lstm_cell.bias_hh", shape: [512]))
        headWeights = try file.floats("final_conv.weight", shape: [1, 128, 1])
        headBias = try file.floats("final_conv.bias", shape: [1])[0]
    }

    /// A new stream: zero LSTM state and zero context, as the package's `reset_states()`.
    public func makeStream() -> Stream { Stream(network: self) }

    /// Speech probability (0…1) of every 512-sample window of a 16 kHz signal, the last window zero-padded
    /// (as the package's `audio_forward`): window k covers samples 512·k ..< 512·(k+1).
    public func windowProbabilities(_ signal: [Float]) -> [Float] {
        var stream = makeStream()
        var out: [Float] = []
        out.reserveCapacity(signal.count / 512 + 1)
        var window = [Float](repeating: 0, count: Self.windowLength)
        var start = 0
        while start < signal.count {
            let n = min(Self.windowLength, signal.count - start)
            for i in 0..<Self.windowLength { window[i] = i < n ? signal[start + i] : 0 }
            out.append(window.withUnsafeBufferPointer { stream.probability($0) })
            start += Self.windowLength
        }
        return out
    }

    /// The number of windows that must be computed before 10 ms frame `frame` (centre 160·f + 80 at 16 kHz) can be
    /// interpolated: the window whose centre (512·k + 256) is the first at or after the frame's centre, plus one.
    public static func windowsNeeded(forFrame frame: Int) -> Int {
        let position = Double(frame * 160 + 80 - windowLength / 2) / Double(windowLength)
        return position <= 0 ? 1 : Int(position.rounded(.up)) + 1
    }

    /// The probability of 10 ms frame `frame` (samples 160·f ..< 160·(f+1), centre 160·f + 80): the linear
    /// interpolation between the two windows whose centres (512·k + 256) surround it; frames before the first or
    /// after the last computed centre take that window's value. `window(k)` returns window k's probability for
    /// k in 0 ..< `windowCount` (the caller may have forgotten windows no frame at or after this one needs).
    /// Returns 0 when no window is computed. The one interpolation rule of the package.
    @inlinable
    public static func frameProbability(frame: Int, windowCount: Int, window: (Int) -> Float) -> Float {
        guard windowCount > 0 else { return 0 }
        let position = Double(frame * 160 + 80 - windowLength / 2) / Double(windowLength)
        if position <= 0 { return window(0) }
        let k = Int(position)
        if k + 1 >= windowCount { return window(windowCount - 1) }
        let t = Float(position - Double(k))
        return window(k) * (1 - t) + window(k + 1) * t
    }

    /// The state of one audio stream: the LSTM's h and c and the last 64 samples of the previous window.
    public struct Stream: Sendable {
        let network: SileroVoiceActivity
        /// [context (64) | window (512) | reflection (64)].
        var padded = [Float](repeating: 0, count: 640)
        /// [x (128) | h (128)] for the LSTM, c (128), gates (512).
        var lstmState = [Float](repeating: 0, count: 256)
        var cell = [Float](repeating: 0, count: 128)
        var gates = [Float](repeating: 0, count: 512)
        // Scratch: FFT frame and spectrum, feature maps.
        var frame = [Float](repeating: 0, count: 256)
        var spectrum = [Float](repeating: 0, count: 258)
        var magnitudes = [Float](repeating: 0, count: 129 * 4)
        var map1 = [Float](repeating: 0, count: 128 * 4)
        var map2 = [Float](repeating: 0, count: 64 * 2)
        var map3 = [Float](repeating: 0, count: 64)
        var column = [Float](repeating: 0, count: 129 * 3)
        let fft = RealFFT(size: 256)

        init(network: SileroVoiceActivity) { self.network = network }

        /// Speech probability (0…1) of the next 512 samples (16 kHz, full scale ±1); advances the state.
        /// - Precondition: `window.count == 512`.
        public mutating func probability(_ window: UnsafeBufferPointer<Float>) -> Float {
            precondition(window.count == SileroVoiceActivity.windowLength, "Silero windows are 512 samples at 16 kHz")
            let net = network
            // Context, window, right reflection (x[575 − 1 − j] for the j-th padded sample).
            for i in 0..<512 { padded[64 + i] = window[i] }
            for j in 0..<64 { padded[576 + j] = padded[574 - j] }
            // STFT magnitudes, channel-major [bin][t] for t = 0..<4.
            for t in 0..<4 {
                for n in 0..<256 { frame[n] = padded[t * 128 + n] * net.window[n] }
                frame.withUnsafeBufferPointer { f in spectrum.withUnsafeMutableBufferPointer { s in fft.forward(f.baseAddress!, s.baseAddress!) } }
                for k in 0..<129 {
                    let re = spectrum[2 * k], im = spectrum[2 * k + 1]
                    magnitudes[k * 4 + t] = (re * re + im * im).squareRoot()
                }
            }
            net.conv1.apply(magnitudes, length: 4, into: &map1, column: &column)
            net.conv2.apply(map1, length: 4, into: &map2, column: &column)
            net.conv3.apply(map2, length: 2, into: &map3, column: &column)
            // conv4 writes the LSTM input (the first 128 values of its state).
            var scratch: [Float] = []
            swap(&scratch, &column)
            lstmState.withUnsafeMutableBufferPointer { x in net.conv4.apply(map3, length: 1, into: x, column: &scratch) }
            swap(&scratch, &column)
            lstmState.withUnsafeMutableBufferPointer { s in
                cell.withUnsafeMutableBufferPointer { c in
                    gates.withUnsafeMutableBufferPointer { g in net.lstm.step(state: s.baseAddress!, cell: c.baseAddress!, gates: g.baseAddress!) }
                }
            }
            var z = net.headBias
            for k in 0..<128 { z += net.headWeights[k] * max(0, lstmState[128 + k]) }
            // Context for the next window: the last 64 samples of this one.
            for i in 0..<64 { padded[i] = window[448 + i] }
            return 1 / (1 + Float.exp(-z))
        }
    }
}

/// A 1-D convolution with kernel 3, padding 1 and ReLU, over channel-major maps ([channel][time]).
struct Conv1d: Sendable {
    let input: Int, output: Int, stride: Int
    /// [output][input][3].
    let weights: [Float]
    let bias: [Float]

    init(_ file: SafeTensors, _ name: String, input: Int, output: Int, stride: Int) throws(PerceptionError) {
        self.input = input
        self.output = output
        self.stride = stride
        weights = try file.floats("\(name).weight", shape: [output, input, 3])
        bias = try file.floats("\(name).bias", shape: [output])
    }

    /// Output length for an input of `length` frames.
    func outputLength(_ length: Int) -> Int { (length + 2 - 3) / stride + 1 }

    /// y = ReLU(conv(x)): `x` holds input×length values, `y` room for output×outputLength(length).
    func apply(_ x: [Float], length: Int, into y: inout [Float], column: inout [Float]) {
        y.withUnsafeMutableBufferPointer { apply(x, length: length, into: $0, column: &column) }
    }

    /// `column` is scratch of at least input×3 values.
    func apply(_ x: [Float], length: Int, into y: UnsafeMutableBufferPointer<Float>, column: inout [Float]) {
        let outLength = outputLength(length), width = input * 3
        // im2col: one column of input×3 taps per output step (zeros past the edges), then one dot per output channel.
        weights.withUnsafeBufferPointer { w in
            column.withUnsafeMutableBufferPointer { col in
                for t in 0..<outLength {
                    let centre = t * stride
                    for i in 0..<input {
                        for k in 0..<3 {
                            let s = centre + k - 1
                            col[i * 3 + k] = s >= 0 && s < length ? x[i * length + s] : 0
                        }
                    }
                    for o in 0..<output {
                        let row = w.baseAddress! + o * width
                        var acc: Float = 0
                        for j in 0..<width { acc = Relaxed.multiplyAdd(row[j], col[j], acc) }
                        y[o * outLength + t] = max(0, acc + bias[o])
                    }
                }
            }
        }
    }
}
