public import AudioCore
import Foundation

/// How removed speech is replaced.
public enum RedactionMethod: String, Sendable, CaseIterable, Codable {
    /// Attenuated by `attenuationDB` (silence by default).
    case mute
    /// Replaced by white noise at −50 dBFS RMS.
    case noise
    /// Replaced by a 1 kHz tone at −30 dBFS (a bleep).
    case tone
}

/// Applies a frame mask to audio: removed 10 ms frames are replaced per `method`; every boundary
/// gets a raised-cosine crossfade of `crossfadeSeconds` placed on the kept side, so removed frames
/// are fully replaced and there are no clicks.
public struct Redactor: Sendable {
    /// Replacement.
    public var method: RedactionMethod
    /// Attenuation of removed audio, dB (≥ 0; `mute` with 60 dB by default; the replaced audio is
    /// scaled by 10^(−dB/20) under the noise or tone too).
    public var attenuationDB: Double
    /// Crossfade length, seconds (0…0.05).
    public var crossfadeSeconds: Double

    /// Creates a redactor.
    public init(method: RedactionMethod = .mute, attenuationDB: Double = 60, crossfadeSeconds: Double = 0.01) {
        self.method = method
        self.attenuationDB = attenuationDB
        self.crossfadeSeconds = crossfadeSeconds
    }

    /// `audio` with the frames marked in `removed` (frame f = f·10 ms ..< (f+1)·10 ms) replaced.
    public func apply(_ audio: AudioBuffer, removed: [Bool]) -> AudioBuffer {
        let frames = audio.frameCount, channels = audio.channelCount
        let perFrame = audio.sampleRate / 100
        // Gain of the original per sample: 1 kept, g removed; ramps on the kept side of each boundary.
        let floorGain = Float(Foundation.pow(10, -attenuationDB / 20))
        var gain = [Float](repeating: 1, count: frames)
        for i in 0..<frames {
            let f = Int(Double(i) / perFrame)
            if f < removed.count, removed[f] { gain[i] = floorGain }
        }
        let ramp = max(1, Int(crossfadeSeconds * audio.sampleRate))
        // Distance to the nearest removed sample, forward and backward, bounded by the ramp.
        var distance = [Int](repeating: ramp, count: frames)
        var last = -ramp - 1
        for i in 0..<frames { if gain[i] < 1 { last = i } else { distance[i] = min(distance[i], i - last) } }
        last = frames + ramp + 1
        for i in stride(from: frames - 1, through: 0, by: -1) { if gain[i] < 1 { last = i } else { distance[i] = min(distance[i], last - i) } }
        for i in 0..<frames where gain[i] == 1 && distance[i] < ramp {
            let t = Float(distance[i]) / Float(ramp)  // 0 next to the removed region … 1 at ramp length
            let shape = 0.5 - 0.5 * Foundation.cos(Float.pi * t)
            gain[i] = floorGain + (1 - floorGain) * shape
        }
        var rng = SplitMixNoise(seed: 0x5EED)
        var out = audio.samples
        for i in 0..<frames where gain[i] < 1 {
            let fill: Float
            switch method {
            case .mute: fill = 0
            case .noise: fill = rng.gaussian() * 0.00316 * (1 - gain[i])  // −50 dBFS RMS
            case .tone: fill = 0.0316 * Foundation.sin(2 * Float.pi * 1_000 * Float(i) / Float(audio.sampleRate)) * (1 - gain[i])
            }
            for c in 0..<channels { out[i * channels + c] = out[i * channels + c] * gain[i] + fill }
        }
        return AudioBuffer(sampleRate: audio.sampleRate, channelCount: channels, samples: out)
    }
}

/// A small deterministic Gaussian source for comfort noise.
struct SplitMixNoise {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func gaussian() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Float.pi * v)
    }
}
