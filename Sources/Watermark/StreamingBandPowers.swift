import AudioCore
import DSP

/// Band powers of audio fed in blocks of any size, for each of the detector's sub-hop offsets.
///
/// Channels are mixed to mono first: the embedder applies the same gain to every channel, so any
/// mix carries the mark, and one FFT per frame suffices.
///
/// Keeps only the samples the next frames need (one frame per channel), so memory grows with the
/// number of frames (24 floats per frame and offset) and not with the audio. The frames are the
/// same as `STFT` with `.startAligned` frames of the signal shifted by each offset, including the
/// zero-padded last frame.
final class StreamingBandPowers {
    let layout: WatermarkLayout
    let channelCount: Int
    let offsets: [Int]
    /// Frequency scales analysed (band edges multiplied by each).
    let frequencyScales: [Double]
    private let scaledEdges: [[Int]]
    /// [scale][offset] → frame-major band powers (`bandCount` values per frame).
    private(set) var powers: [[[Float]]]
    private(set) var received = 0
    /// Global index of the first frame still held (frames before it were dropped).
    private(set) var firstFrame = 0
    /// Frames held at every offset.
    var frameCount: Int { powers.first.map { $0.map { $0.count / layout.bandCount }.min() ?? 0 } ?? 0 }

    /// Forgets the first `n` frames of every offset and scale (a detector that has searched them).
    func dropFrames(_ n: Int) {
        guard n > 0 else { return }
        for scale in powers.indices {
            for offset in powers[scale].indices { powers[scale][offset].removeFirst(min(n * layout.bandCount, powers[scale][offset].count)) }
        }
        firstFrame += n
    }
    private var buffer: [Float]
    private var bufferStart = 0
    private var nextFrame: [Int]
    private let fft: RealFFT
    private let window: [Float]
    // FFTW-aligned scratch buffers (the SIMD plans need the allocator's alignment).
    private let frame: UnsafeMutableBufferPointer<Float>
    private let spectrum: UnsafeMutableBufferPointer<Float>
    private var bands: [Float]

    init(layout: WatermarkLayout, channelCount: Int, frequencyScales: [Double] = [1]) {
        self.layout = layout
        self.channelCount = channelCount
        offsets = (0..<4).map { $0 * layout.hop / 4 }
        self.frequencyScales = frequencyScales
        scaledEdges = frequencyScales.map { layout.bandEdges(frequencyScale: $0) }
        powers = Array(repeating: Array(repeating: [], count: 4), count: frequencyScales.count)
        bands = [Float](repeating: 0, count: layout.bandCount)
        buffer = []
        nextFrame = offsets
        fft = RealFFT(size: layout.fftSize)
        window = WindowKind.sqrtHann.values(length: layout.frameLength)
        frame = RealFFT.allocate(layout.fftSize)
        spectrum = RealFFT.allocate(layout.fftSize + 2)
        for k in 0..<layout.fftSize { frame[k] = 0 }
    }

    deinit {
        RealFFT.deallocate(frame)
        RealFFT.deallocate(spectrum)
    }

    /// Adds interleaved samples.
    func add(_ interleaved: UnsafeBufferPointer<Float>) {
        let frames = interleaved.count / channelCount
        if channelCount == 1 {
            buffer.append(contentsOf: interleaved)
        } else {
            let scale = 1 / Float(channelCount)
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channelCount { sum += interleaved[f * channelCount + c] }
                buffer.append(sum * scale)
            }
        }
        received += frames
        analyse(upTo: received, padded: false)
        // Drop samples no pending frame needs.
        let keepFrom = nextFrame.min() ?? received
        let drop = keepFrom - bufferStart
        if drop > 65_536 {
            buffer.removeFirst(drop)
            bufferStart = keepFrom
        }
    }

    /// Analyses the last, zero-padded frames once the stream has ended.
    func finish() {
        analyse(upTo: received, padded: true)
    }

    private func analyse(upTo end: Int, padded: Bool) {
        let n = layout.frameLength, h = layout.hop
        for (i, offset) in offsets.enumerated() {
            let length = end - offset
            let total = length > 0 ? max(1, (length - (n - h) + h - 1) / h) : 0
            while true {
                let start = nextFrame[i]
                let index = (start - offset) / h
                if padded { guard index < total else { break } } else { guard start + n <= end else { break } }
                let first = start - bufferStart
                buffer.withUnsafeBufferPointer { src in
                    window.withUnsafeBufferPointer { w in
                        let available = max(0, min(n, src.count - first))
                        for k in 0..<available { frame[k] = src[first + k] * w[k] }
                        for k in available..<n { frame[k] = 0 }
                    }
                }
                fft.forward(frame.baseAddress!, spectrum.baseAddress!)
                let y = spectrum, binLimit = layout.fftSize / 2 + 1
                for (scale, edges) in scaledEdges.enumerated() {
                    for b in 0..<layout.bandCount {
                        var acc: Float = 0
                        for k in edges[b]..<min(edges[b + 1], binLimit) {
                            acc += y[2 * k] * y[2 * k] + y[2 * k + 1] * y[2 * k + 1]
                        }
                        bands[b] = acc
                    }
                    powers[scale][i].append(contentsOf: bands)
                }
                nextFrame[i] = start + h
            }
        }
    }
}
