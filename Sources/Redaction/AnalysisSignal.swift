public import AudioCore
import DSP

/// The mono 16 kHz signal every redaction analysis runs on.
public enum AnalysisSignal {
    /// Analysis rate, hertz.
    public static let sampleRate = 16_000.0
    /// Frame hop, samples (10 ms).
    public static let hop = 160
    /// Analysis frame length, samples (25 ms).
    public static let frameLength = 400

    /// `audio` mixed to mono and resampled (soxr) to 16 kHz.
    /// Samples beyond ±`RedactionEngine.analysisClamp` are clamped (`RedactionEngine.clampedForAnalysis`).
    /// - Throws: `RedactionError.unsupportedAudio` for audio without channels or below 4 kHz;
    ///   `RedactionError.nonFiniteSample` for a NaN or infinite sample.
    public static func make(_ audio: AudioBuffer) throws(RedactionError) -> [Float] {
        guard audio.channelCount >= 1, audio.sampleRate >= 4_000 else {
            throw .unsupportedAudio(detail: "\(audio.channelCount) channels at \(audio.sampleRate) Hz")
        }
        try audio.samples.withUnsafeBufferPointer { (p) throws(RedactionError) in
            try RedactionError.checkFinite(p, channelCount: audio.channelCount, sampleRate: audio.sampleRate)
        }
        var mono = audio.channelCount == 1 ? audio.samples : ChannelMixer.mono(audio)
        for i in mono.indices { mono[i] = RedactionEngine.clampedForAnalysis(mono[i]) }
        if audio.sampleRate == sampleRate { return mono }
        do {
            return try Resampler.resample(AudioBuffer(mono: mono, sampleRate: audio.sampleRate), to: sampleRate).samples
        } catch {
            throw .unsupportedAudio(detail: "resampling from \(audio.sampleRate) Hz failed: \(error)")
        }
    }

    /// Frames of a signal of `count` samples: frame f covers samples f·hop ..< f·hop + frameLength
    /// (zero-padded at the end), so frame f's centre is at f·hop + frameLength / 2.
    public static func frameCount(samples count: Int) -> Int { count > 0 ? (count + hop - 1) / hop : 0 }
}
