public import AudioCore
import DSP
public import Perception

/// Silero VAD over part of a recording, for the speech gate: the recording is brought to 16 kHz mono once, on first
/// use, and each question runs the network from a fresh state over the asked span, stopping as soon as it has found
/// enough speech.
public final class SpeechConfirmation: @unchecked Sendable {
    // Not shared across threads: one per recording, used by the thread that scores it.
    private let audio: AudioBuffer
    private var signal: [Float]?

    /// Prepares confirmation for `audio` (nothing is computed until asked).
    public init(audio: AudioBuffer) { self.audio = audio }

    /// Seconds of 32 ms windows with speech probability ≥ 0.5 in `start…end` (seconds), counted until `enough`.
    public func speechSeconds(_ start: Double, _ end: Double, network: SileroVoiceActivity, enough: Double) -> Double {
        let x = monoSignal()
        let window = SileroVoiceActivity.windowLength
        let rate = SileroVoiceActivity.sampleRate
        let first = max(0, Int(start * rate)), last = min(x.count, Int(end * rate))
        var stream = network.makeStream()
        var buffer = [Float](repeating: 0, count: window)
        var found = 0.0
        var position = first
        while position < last && found < enough {
            let n = min(window, last - position)
            for i in 0..<window { buffer[i] = i < n ? x[position + i] : 0 }
            if buffer.withUnsafeBufferPointer({ stream.probability($0) }) >= 0.5 { found += Double(window) / rate }
            position += window
        }
        return found
    }

    private func monoSignal() -> [Float] {
        if let signal { return signal }
        let mono = audio.channelCount == 1 ? audio.samples : ChannelMixer.mono(audio)
        var out = mono
        if audio.sampleRate != SileroVoiceActivity.sampleRate {
            out = (try? Resampler.resample(AudioBuffer(mono: mono, sampleRate: audio.sampleRate), to: SileroVoiceActivity.sampleRate).samples) ?? []
        }
        signal = out
        return out
    }
}
