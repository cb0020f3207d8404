import Synchronization

/// Both pretrained networks, loaded once per process (loading verifies ~7 MB of weights against their digests).
public struct PretrainedPerception: Sendable {
    /// Silero VAD.
    public let voiceActivity: SileroVoiceActivity
    /// Resemblyzer's GE2E speaker encoder.
    public let speakerEncoder: SpeakerEncoder

    private static let cache = Mutex<PretrainedPerception?>(nil)

    /// The networks from the default weight locations (`PretrainedWeights`), loaded on first use and then shared.
    /// - Throws: `PerceptionError` when a weight file is missing or corrupt (not cached: a later call tries again).
    public static func shared() throws(PerceptionError) -> PretrainedPerception {
        if let loaded = cache.withLock({ $0 }) { return loaded }
        let loaded = PretrainedPerception(voiceActivity: try SileroVoiceActivity(), speakerEncoder: try SpeakerEncoder())
        cache.withLock { $0 = loaded }
        return loaded
    }

    /// Loads both networks from explicit files.
    public init(voiceActivityPath: String?, speakerEncoderPath: String?) throws(PerceptionError) {
        self.init(voiceActivity: try SileroVoiceActivity(path: voiceActivityPath), speakerEncoder: try SpeakerEncoder(path: speakerEncoderPath))
    }

    init(voiceActivity: SileroVoiceActivity, speakerEncoder: SpeakerEncoder) {
        self.voiceActivity = voiceActivity
        self.speakerEncoder = speakerEncoder
    }
}
