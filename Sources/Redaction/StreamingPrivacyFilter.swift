public import AudioCore
import DSP
import Foundation
import Learning

/// One 10 ms frame as the streaming filter finalises it.
public struct StreamingFrame: Sendable {
    /// Frame index (frame f = f·10 ms ..< (f+1)·10 ms of the input).
    public var index: Int
    /// Speech probability (0…1).
    public var speechProbability: Float
    /// Final decision (after the possible-speech rule).
    public var decision: FrameDecision
    /// Probability that the frame is the primary talker (0…1), nil when not scored.
    public var primaryProbability: Float?
    /// Cosine with the primary talker (dominant mode: normalised within the stream), nil when not scored.
    public var score: Float?
    /// Whether it is removed (after the overlap policy and guard bands).
    public var redacted: Bool
}

/// The privacy filter as a stream: push blocks of audio in, get redacted audio out after a fixed look-ahead
/// (`lookaheadSeconds`, at most 0.5 s with the defaults), in constant memory whatever the stream's length.
///
/// It runs a causal variant of `PrivacyFilter`'s analysis with the same trained parts: the same voice activity
/// model (±250 ms context), and per speech frame a speaker embedding of the speech in the last
/// `embeddingHistoryFrames` frames and the next `decisionLookaheadFrames`, the median level of the speech around
/// the frame relative to the running 95th-percentile speech level, and the spectral tilt, fused into the probability
/// that the frame is the primary talker. Dominant mode keeps the embeddings of the last ~2 minutes (one per 0.5 s)
/// and picks the talker holding most of that speech; until at least 3 s of speech has been heard, or while no talker
/// holds half of it, speech is removed (fail closed).
///
/// The output depends only on the input samples, never on how they were cut into blocks: a whole file pushed at
/// once gives the same samples as any sequence of blocks (`redactWholeFile` is exactly that). One instance serves
/// one stream on one thread.
public final class StreamingPrivacyFilter {
    private var engine: StreamingEngine

    /// Creates a stream.
    /// - Parameters:
    ///   - filter: trained parts and policies.
    ///   - mode: enrolled (reference embedding) or dominant.
    ///   - redactor: replacement method, attenuation and crossfade (≤ 10 ms keeps the look-ahead ≤ 0.5 s).
    ///   - sampleRate: input rate, hertz (≥ 4 kHz).
    ///   - channelCount: interleaved input channels (≥ 1).
    ///   - decisionLookaheadFrames: frames after a frame its speaker decision may look at (default 10 = 100 ms).
    ///   - coverageLookaheadFrames: frames after a possible-speech frame searched for a primary frame that covers it (default 3).
    ///   - embeddingHistoryFrames: frames before a frame whose speech enters its speaker embedding (default 100 = 1 s).
    /// - Throws: `RedactionError.unsupportedAudio` for a rate or channel count it cannot analyse.
    public init(filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor = Redactor(), sampleRate: Double, channelCount: Int,
                decisionLookaheadFrames: Int = 10, coverageLookaheadFrames: Int = 3, embeddingHistoryFrames: Int = 100) throws(RedactionError) {
        engine = try StreamingEngine(filter: filter, mode: mode, redactor: redactor, sampleRate: sampleRate, channelCount: channelCount,
                                     decisionLookaheadFrames: decisionLookaheadFrames, coverageLookaheadFrames: coverageLookaheadFrames,
                                     embeddingHistoryFrames: embeddingHistoryFrames)
    }

    deinit { engine.analyzer.deallocate() }

    /// The trained parts and policies.
    public var filter: PrivacyFilter { engine.filter }
    /// How removed audio is replaced.
    public var redactor: Redactor { engine.redactor }
    /// Input sample rate, hertz.
    public var sampleRate: Double { engine.sampleRate }
    /// Interleaved input channels.
    public var channelCount: Int { engine.channelCount }
    /// Called for every 10 ms frame as it is finalised, in order.
    public var onFrame: ((StreamingFrame) -> Void)? {
        get { engine.onFrame }
        set { engine.onFrame = newValue }
    }
    /// The primary-talker decision as it stands, in words.
    public var primaryDecision: String { engine.primaryDecision }
    /// Its confidence (0…1).
    public var primaryConfidence: Double { engine.primaryConfidence }
    /// The log of what has been removed so far (frames finalised so far).
    public var log: RedactionLog { engine.log.finished() }
    /// How far the output lags the input at most, seconds: the voice-activity context (250 ms), the speaker decision's
    /// and the possible-speech rule's look-ahead, the guard band, the analysis windows (30 ms), one frame of
    /// granularity, the crossfade and the resampler's delay. 0.47 s with the defaults at 16 kHz.
    public var lookaheadSeconds: Double { engine.lookaheadSeconds }
    /// The largest lag of the output behind the input seen so far, seconds (input pushed minus output emitted).
    public var measuredLagSeconds: Double { engine.measuredLagSeconds }

    /// Floats held in the stream's history buffers (tests check the memory bound with it).
    var retainedValues: Int { engine.retainedValues }

    /// Pushes a block of interleaved samples and appends the redacted samples that are now final to `output`.
    /// - Throws: `RedactionError.unsupportedAudio` when the resampler fails or the stream has ended.
    public func process(_ interleaved: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(RedactionError) {
        try engine.process(interleaved, appendingTo: &output)
    }

    /// Pushes a block of interleaved samples (array form).
    public func process(_ interleaved: [Float], appendingTo output: inout [Float]) throws(RedactionError) {
        try interleaved.withUnsafeBufferPointer { (p) throws(RedactionError) in try engine.process(p, appendingTo: &output) }
    }

    /// Ends the stream and appends the rest of the redacted audio to `output`.
    public func finish(appendingTo output: inout [Float]) throws(RedactionError) {
        try engine.finish(appendingTo: &output)
    }

    /// Redacts a whole buffer through the stream (one push, then `finish`).
    public static func redactWholeFile(_ audio: AudioBuffer, filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor = Redactor(),
                                       onFrame: ((StreamingFrame) -> Void)? = nil) throws(RedactionError) -> (audio: AudioBuffer, stream: StreamingPrivacyFilter) {
        let stream = try StreamingPrivacyFilter(filter: filter, mode: mode, redactor: redactor, sampleRate: audio.sampleRate, channelCount: audio.channelCount)
        stream.onFrame = onFrame
        var out: [Float] = []
        out.reserveCapacity(audio.samples.count)
        try stream.process(audio.samples, appendingTo: &out)
        try stream.finish(appendingTo: &out)
        return (AudioBuffer(sampleRate: audio.sampleRate, channelCount: audio.channelCount, samples: out), stream)
    }

    /// Runs a whole buffer through the stream and collects the per-frame analysis as a plan (no chunks), with the
    /// redacted audio.
    public static func plan(_ audio: AudioBuffer, filter: PrivacyFilter, mode: PrimaryTalkerMode,
                            redactor: Redactor = Redactor()) throws(RedactionError) -> (plan: RedactionPlan, audio: AudioBuffer) {
        var decisions: [FrameDecision] = [], speech: [Float] = [], primary: [Float?] = [], redacted: [Bool] = []
        let (output, stream) = try redactWholeFile(audio, filter: filter, mode: mode, redactor: redactor) { frame in
            decisions.append(frame.decision); speech.append(frame.speechProbability)
            primary.append(frame.primaryProbability); redacted.append(frame.redacted)
        }
        let plan = RedactionPlan(decisions: decisions, speechProbability: speech, chunks: [], primaryProbability: primary, redacted: redacted,
                                 primaryDecision: stream.primaryDecision, primaryConfidence: stream.primaryConfidence,
                                 lookaheadFrames: Int((stream.lookaheadSeconds * 100).rounded(.up)))
        return (plan, output)
    }

}
