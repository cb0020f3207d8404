import Foundation
import RealModule

/// Resemblyzer's GE2E speaker encoder (Apache-2.0), run natively: 40-band mel power frames
/// (`MelSpectrogram`) → 3 LSTM layers of 256 → linear 256 → ReLU → unit length. An utterance embedding is the
/// renormalised mean of the embeddings of 1.6 s partials (160 frames) taken 77 frames apart, as
/// `VoiceEncoder.embed_utterance` (rate 1.3, minimum coverage 0.75). Equal to the package's reference within
/// 1e-4 per value on committed fixtures.
///
/// Embeddings are 256 non-negative values of unit length, so cosines lie in 0…1.
public struct SpeakerEncoder: Sendable {
    /// Embedding size.
    public static let dimension = 256
    /// Frames in a partial utterance (1.6 s).
    public static let partialFrames = 160
    /// Frames between partial starts (round(16000 / 1.3 / 160)).
    public static let partialStep = 77

    let layers: [LSTMLayer]
    /// [256][256] and 256.
    let linearWeights: [Float], linearBias: [Float]
    /// The mel front end.
    public let mel = MelSpectrogram()

    /// Loads the encoder from the pinned weight file (located as `PretrainedWeights` describes, or at `path`).
    /// - Throws: `PerceptionError` when the file is missing, corrupt or not this network.
    public init(path: String? = nil) throws(PerceptionError) {
        let file = try PretrainedWeights.resemblyzerGE2E.open(path: path)
        var layers: [LSTMLayer] = []
        for l in 0..<3 {
            let input = l == 0 ? MelSpectrogram.bandCount : 256
            layers.append(LSTMLayer(inputSize: input, hiddenSize: 256,
                                    weightIH: try file.floats("lstm.weight_ih_l\(l)", shape: [1024, input]),
                                    weightHH: try file.floats("lstm.weight_hh_l\(l)", shape: [1024, 256]),
                                    biasIH: try file.floats("lstm.bias_ih_l\(l)", shape: [1024]),
                                    biasHH: try file.floats("lstm.bias_hh_l\(l)", shape: [1024])))
        }
        self.layers = layers
        linearWeights = try file.floats("linear.weight", shape: [256, 256])
        linearBias = try file.floats("linear.bias", shape: [256])
    }

    /// The recurrent state of one run of frames: what `push` has seen since the last `reset`.
    public struct Stream: Sendable {
        let encoder: SpeakerEncoder
        /// Per layer: [input | h].
        var states: [[Float]]
        var cells: [[Float]]
        var gates = [Float](repeating: 0, count: 1024)
        /// Frames pushed since the last reset.
        public private(set) var frameCount = 0

        init(encoder: SpeakerEncoder) {
            self.encoder = encoder
            states = encoder.layers.map { [Float](repeating: 0, count: $0.inputSize + $0.hiddenSize) }
            cells = encoder.layers.map { _ in [Float](repeating: 0, count: 256) }
        }

        /// Back to the zero state (a new partial utterance).
        public mutating func reset() {
            for l in states.indices {
                for j in states[l].indices { states[l][j] = 0 }
                for j in cells[l].indices { cells[l][j] = 0 }
            }
            frameCount = 0
        }

        /// Steps the three layers over one mel frame (40 values).
        public mutating func push(melFrame: UnsafeBufferPointer<Float>) {
            let layers = encoder.layers
            for j in 0..<MelSpectrogram.bandCount { states[0][j] = melFrame[j] }
            for l in 0..<layers.count {
                if l > 0 {
                    let offset = layers[l - 1].inputSize
                    for j in 0..<256 { states[l][j] = states[l - 1][offset + j] }
                }
                states[l].withUnsafeMutableBufferPointer { s in
                    cells[l].withUnsafeMutableBufferPointer { c in
                        gates.withUnsafeMutableBufferPointer { g in layers[l].step(state: s.baseAddress!, cell: c.baseAddress!, gates: g.baseAddress!) }
                    }
                }
            }
            frameCount += 1
        }

        /// The last layer's hidden state (256 values): what `SpeakerEncoder.embedding(hidden:)` turns into an embedding.
        public var hidden: ArraySlice<Float> {
            let last = states.count - 1
            return states[last][encoder.layers[last].inputSize...]
        }
    }

    /// A new run from the zero state.
    public func makeStream() -> Stream { Stream(encoder: self) }

    /// The embedding of a last-layer hidden state: linear → ReLU → unit length (all zeros when the ReLU leaves nothing).
    public func embedding(hidden: some Collection<Float>) -> [Float] {
        let h = Array(hidden)
        precondition(h.count == 256, "hidden state has 256 values")
        var out = [Float](repeating: 0, count: Self.dimension)
        linearWeights.withUnsafeBufferPointer { w in
            for r in 0..<Self.dimension {
                var acc: Float = 0
                let row = w.baseAddress! + r * 256
                for j in 0..<256 { acc = Relaxed.multiplyAdd(row[j], h[j], acc) }
                out[r] = max(0, acc + linearBias[r])
            }
        }
        return Self.normalized(out)
    }

    /// Embedding of a run of mel frames (frame-major, 40 values each) from a zero state: the last layer's final
    /// hidden state → linear → ReLU → unit length.
    public func embed(melFrames: UnsafeBufferPointer<Float>) -> [Float] {
        var stream = makeStream()
        for t in 0..<(melFrames.count / MelSpectrogram.bandCount) {
            stream.push(melFrame: UnsafeBufferPointer(rebasing: melFrames[(t * 40)..<((t + 1) * 40)]))
        }
        return embedding(hidden: stream.hidden)
    }

    /// Embedding of an utterance (16 kHz samples) as Resemblyzer's `embed_utterance` computes it, with the partial
    /// embeddings. At least one partial is always used (the signal is zero-padded up to it).
    /// - Throws: `PerceptionError.invalidInput` for an empty signal.
    public func embedUtterance(_ signal: [Float]) throws(PerceptionError) -> (embedding: [Float], partials: [[Float]]) {
        guard !signal.isEmpty else { throw .invalidInput(detail: "empty signal: nothing to embed") }
        let slices = Self.partialSlices(sampleCount: signal.count)
        var padded = signal
        let needed = slices[slices.count - 1].upperBound * MelSpectrogram.hop
        if needed >= padded.count { padded += [Float](repeating: 0, count: needed - padded.count) }
        let frames = mel.frames(padded)
        let partials = slices.map { s in
            frames.withUnsafeBufferPointer { f in
                embed(melFrames: UnsafeBufferPointer(rebasing: f[(s.lowerBound * 40)..<(s.upperBound * 40)]))
            }
        }
        var mean = [Float](repeating: 0, count: Self.dimension)
        for p in partials { for j in 0..<Self.dimension { mean[j] += p[j] / Float(partials.count) } }
        return (Self.normalized(mean), partials)
    }

    /// Frame ranges of the partials of an utterance of `sampleCount` samples (Resemblyzer's
    /// `compute_partial_slices` with rate 1.3 and minimum coverage 0.75).
    public static func partialSlices(sampleCount: Int) -> [Range<Int>] {
        let frames = Int((Double(sampleCount + 1) / Double(MelSpectrogram.hop)).rounded(.up))
        let steps = max(1, frames - partialFrames + partialStep + 1)
        var slices = stride(from: 0, to: steps, by: partialStep).map { $0..<($0 + partialFrames) }
        let last = slices[slices.count - 1]
        let coverage = Double(sampleCount - last.lowerBound * MelSpectrogram.hop) / Double(partialFrames * MelSpectrogram.hop)
        if coverage < 0.75 && slices.count > 1 { slices.removeLast() }
        return slices
    }

    /// `v` scaled to unit length (unchanged when it is all zeros).
    public static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}
