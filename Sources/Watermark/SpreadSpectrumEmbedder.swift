public import AudioCore
import DSP

/// Embeds a keyed watermark carrying a payload into audio.
///
/// Each bit is spread over several time–frequency cells chosen by the key and embedded by
/// spread-transform dither modulation: the keyed projection of the cells' log energies is moved
/// to the nearest point of the bit's quantiser lattice. Because the change is a gain on the
/// audio's own spectrum it is shaped by the content (masked where the audio is loud, absent
/// where it is silent), and because the spreading vector sums to zero, overall gain and fixed
/// filtering do not disturb it.
public struct SpreadSpectrumEmbedder: Sendable {
    /// The key.
    public let key: WatermarkKey
    /// The payload.
    public let payload: Payload
    /// Strength: 1 is the default; the quantiser step and distortion scale with it (0.25…4). The
    /// detector must be given the same strength.
    public let strength: Double

    /// Quantiser step at strength 1, in natural-log energy units of the projection.
    public static let baseStep: Float = 0.9
    /// Largest change of one cell's energy, natural-log units (±2.6 dB at strength 1).
    public static let maximumCellChange: Float = 0.6

    /// Creates an embedder.
    /// - Parameter strength: 0.25…4; higher is more robust and more audible.
    public init(key: WatermarkKey, payload: Payload, strength: Double = 1) throws(WatermarkError) {
        guard (0.25...4).contains(strength) else {
            throw .unsupportedAudio(detail: "strength \(strength); expected 0.25 to 4")
        }
        self.key = key
        self.payload = payload
        self.strength = strength
    }

    /// Splits a projection change `delta` over a bit's cells (log-energy changes c_i with
    /// Σ u_i c_i = delta) so that the added signal energy Σ E_i c_i² is smallest: c_i ∝ u_i / E_i,
    /// i.e. quiet cells (masked by their louder neighbours) take most of the change and loud cells,
    /// which dominate the audible error, little. Each |c_i| is capped at `maximumCellChange`; what
    /// the cap cuts is spread again over the other cells (two rounds). `levels` are natural-log
    /// energies; the result goes to `changes` (same count as `u`). Allocates nothing.
    static func allocate(_ delta: Float, spreading u: UnsafeBufferPointer<Float>, levels: UnsafeBufferPointer<Float>,
                         into changes: UnsafeMutableBufferPointer<Float>) {
        let n = u.count
        var top = -Float.infinity
        for i in 0..<n { top = max(top, levels[i]) }
        precondition(n <= 64, "at most 64 cells per bit")
        // Weights ∝ 1/E_i (bounded), on the stack.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { w in
            var free: UInt64 = ~0
            for i in 0..<n {
                w[i] = Float.exp(min(20, top - levels[i]))
                changes[i] = 0
            }
            var remaining = delta
            for _ in 0..<3 {
                var norm: Float = 0
                for i in 0..<n where free & (1 << i) != 0 { norm += u[i] * u[i] * w[i] }
                guard norm > 0, abs(remaining) > 1e-6 else { break }
                let scale = remaining / norm
                for i in 0..<n where free & (1 << i) != 0 {
                    let c = changes[i] + scale * u[i] * w[i]
                    let capped = max(-maximumCellChange, min(maximumCellChange, c))
                    if capped != c { free &= ~(1 << UInt64(i)) }
                    changes[i] = capped
                }
                var achieved: Float = 0
                for i in 0..<n { achieved += u[i] * changes[i] }
                remaining = delta - achieved
            }
        }
    }

    /// `allocate(_:spreading:levels:into:)` on arrays (for tests and tools).
    static func allocate(_ delta: Float, spreading u: [Float], levels: [Float]) -> [Float] {
        var changes = [Float](repeating: 0, count: u.count)
        u.withUnsafeBufferPointer { u in
            levels.withUnsafeBufferPointer { l in
                changes.withUnsafeMutableBufferPointer { allocate(delta, spreading: u, levels: l, into: $0) }
            }
        }
        return changes
    }

    /// A stream that marks audio fed in blocks of any size (fixed 80 ms latency, constant memory).
    public func makeStream(sampleRate: Double, channelCount: Int) throws(WatermarkError) -> WatermarkEmbeddingStream {
        try WatermarkEmbeddingStream(embedder: self, sampleRate: sampleRate, channelCount: channelCount)
    }

    /// The marked copy of `audio` (same rate, channels and length): the stream run over the whole buffer.
    /// - Throws: `WatermarkError.audioTooShort` when not even one block fits.
    public func embed(_ audio: AudioBuffer) throws(WatermarkError) -> AudioBuffer {
        let layout = try WatermarkLayout(sampleRate: audio.sampleRate, payloadSize: payload.size)
        let minimum = layout.blockSeconds
        guard audio.duration >= minimum else { throw .audioTooShort(seconds: audio.duration, minimumSeconds: minimum) }
        let stream = try makeStream(sampleRate: audio.sampleRate, channelCount: audio.channelCount)
        var out: [Float] = []
        out.reserveCapacity(audio.samples.count)
        audio.samples.withUnsafeBufferPointer { stream.process($0, appendingTo: &out) }
        stream.finish(appendingTo: &out)
        return AudioBuffer(sampleRate: audio.sampleRate, channelCount: audio.channelCount, samples: out)
    }
}

extension Float {
    static func exp(_ x: Float) -> Float { Float(Foundation_exp(Double(x))) }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
