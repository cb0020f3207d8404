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

    /// `audio` with the frames marked in `removed` (frame f = f·10 ms ..< (f+1)·10 ms) replaced. Samples past the
    /// last frame take the last frame's decision (a tail the analysis did not reach is not kept when its frame is removed).
    public func apply(_ audio: AudioBuffer, removed: [Bool]) -> AudioBuffer {
        var renderer = MaskRenderer(redactor: self, sampleRate: audio.sampleRate, channelCount: audio.channelCount)
        var out: [Float] = []
        out.reserveCapacity(audio.samples.count)
        audio.samples.withUnsafeBufferPointer { x in
            renderer.render(0..<audio.frameCount, totalFrames: audio.frameCount, input: { x[$0] }, isRemoved: { f in
                removed.isEmpty || removed[min(f, removed.count - 1)]
            }, into: &out)
        }
        return AudioBuffer(sampleRate: audio.sampleRate, channelCount: audio.channelCount, samples: out)
    }
}

/// Turns a frame mask into output samples, one sample frame at a time in order — the one implementation behind
/// whole-file (`Redactor.apply`) and streaming redaction, so both write the same samples for the same mask.
///
/// Removed samples are scaled by the floor gain and get the replacement (noise or tone) added; kept samples within
/// the crossfade length of a removed one ramp (raised cosine) between the floor gain and 1.
struct MaskRenderer {
    let redactor: Redactor
    let sampleRate: Double
    let channelCount: Int
    /// Crossfade length, sample frames.
    let ramp: Int
    /// Sample frames per 10 ms analysis frame.
    let perFrame: Double
    private let floorGain: Float
    private var noise = SplitMix64(seed: 0x5EED)

    init(redactor: Redactor, sampleRate: Double, channelCount: Int) {
        self.redactor = redactor
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        ramp = max(1, Int(redactor.crossfadeSeconds * sampleRate))
        perFrame = sampleRate / 100
        floorGain = Float(Foundation.pow(10, -redactor.attenuationDB / 20))
    }

    /// The analysis frame holding sample frame `i`.
    @inline(__always) func frame(of i: Int) -> Int { Int(Double(i) / perFrame) }

    /// Renders sample frames `range` (in order, continuing the previous call) of a stream of `totalFrames` sample
    /// frames (`Int.max` while unknown: then every sample within `ramp` after the range must still be unread-safe,
    /// i.e. `range.upperBound + ramp` must not pass the end). `input(k)` gives interleaved sample k; `isRemoved(f)`
    /// analysis frame f's mask.
    mutating func render(_ range: Range<Int>, totalFrames: Int, input: (Int) -> Float, isRemoved: (Int) -> Bool, into output: inout [Float]) {
        let channels = channelCount
        for i in range {
            var gain: Float = 1
            if isRemoved(frame(of: i)) {
                gain = floorGain
            } else if (frame(of: max(0, i - ramp))...frame(of: max(i, min(totalFrames - 1, i + ramp)))).contains(where: isRemoved) {
                // A removed sample may lie within the ramp: the nearest one sets the gain.
                var distance = ramp
                for d in 1..<ramp {
                    if (i + d < totalFrames && isRemoved(frame(of: i + d))) || (i - d >= 0 && isRemoved(frame(of: i - d))) { distance = d; break }
                }
                if distance < ramp {
                    let t = Float(distance) / Float(ramp)
                    gain = floorGain + (1 - floorGain) * (0.5 - 0.5 * Foundation.cos(Float.pi * t))
                }
            }
            if gain < 1 {
                let fill: Float
                switch redactor.method {
                case .mute: fill = 0
                case .noise: fill = noise.gaussianFloat() * 0.00316 * (1 - gain)  // −50 dBFS RMS
                case .tone: fill = 0.0316 * Foundation.sin(2 * Float.pi * 1_000 * Float(i % max(1, Int(sampleRate))) / Float(sampleRate)) * (1 - gain)
                }
                for c in 0..<channels { output.append(input(i * channels + c) * gain + fill) }
            } else {
                for c in 0..<channels { output.append(input(i * channels + c)) }
            }
        }
    }
}
