public import AudioCore
import DSP
import Foundation

/// One 10 ms frame as the decision core finalises it.
public struct StreamingFrame: Sendable {
    /// Frame index (frame f = f·10 ms ..< (f+1)·10 ms of the input).
    public var index: Int
    /// Silero speech probability (0…1).
    public var speechProbability: Float
    /// Final decision (after the possible-speech rule).
    public var decision: FrameDecision
    /// Fused probability that the frame is the primary talker (0…1), nil when not scored.
    public var primaryProbability: Float?
    /// Speaker score against the primary talker behind the decision (`SpeakerScoring`), nil when not scored.
    public var score: Float?
    /// Level of the segment's speech relative to the loudest speech so far, dB, nil when not scored.
    public var relativeLevelDB: Float?
    /// Whether it is removed (after the overlap policy and guard bands).
    public var redacted: Bool
}

/// The privacy filter as a stream: push blocks of audio in, get redacted audio out after a fixed look-ahead
/// (`lookaheadSeconds`, at most 0.5 s with the defaults), in constant memory whatever the stream's length.
///
/// It runs the filter's one decision core (`RedactionEngine`, the same as whole-file redaction) with the speaker
/// decision of a frame limited to the speech of its segment up to `decisionLookaheadFrames` after it (the rest of the
/// 0.5 s budget goes to Silero's window, the possible-speech rule, the guard band, the crossfade and the resampler).
/// Dominant mode picks the talker holding most of the last 256 segments' speech once 3 s of speech has been heard;
/// until then, or while no talker holds half of it, speech is removed (fail closed).
///
/// The output depends only on the input samples, never on how they were cut into blocks: a whole file pushed at
/// once gives the same samples as any sequence of blocks (`redactWholeFile` is exactly that). One instance serves
/// one stream on one thread.
public final class StreamingPrivacyFilter {
    private var engine: RedactionEngine

    /// Creates a stream.
    /// - Parameters:
    ///   - filter: thresholds, networks and policies.
    ///   - mode: enrolled (reference embedding) or dominant.
    ///   - redactor: replacement method, attenuation and crossfade (≤ 10 ms keeps the look-ahead ≤ 0.5 s).
    ///   - sampleRate: input rate, hertz (≥ 4 kHz).
    ///   - channelCount: interleaved input channels (≥ 1).
    ///   - decisionLookaheadFrames: most frames after a frame its speaker decision may look at (default 40; cut to keep
    ///     the whole lag within 0.5 s).
    ///   - coverageLookaheadFrames: frames after a possible-speech frame searched for a primary frame that covers it (default 3).
    /// - Throws: `RedactionError.unsupportedAudio` for a rate or channel count it cannot analyse.
    public init(filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor = Redactor(), sampleRate: Double, channelCount: Int,
                decisionLookaheadFrames: Int = 40, coverageLookaheadFrames: Int = 3) throws(RedactionError) {
        engine = try RedactionEngine(filter: filter, mode: mode, redactor: redactor, sampleRate: sampleRate, channelCount: channelCount,
                                     decisionLookaheadFrames: decisionLookaheadFrames, coverageLookaheadFrames: coverageLookaheadFrames,
                                     lookaheadBudget: Self.lookaheadBudget)
    }

    /// The look-ahead the defaults keep within, seconds.
    public static let lookaheadBudget = 0.5

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
    /// How far the output lags the input at most, seconds: Silero's window and interpolation (53 ms), the speaker
    /// decision's and the possible-speech rule's look-ahead, the guard band, one frame of granularity, the crossfade and
    /// the resampler's delay (≤ 0.5 s).
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
        var decisions: [FrameDecision] = [], speech: [Float] = [], scores: [Float?] = [], redacted: [Bool] = []
        var probabilities: [Float?] = [], levels: [Float?] = []
        let (output, stream) = try redactWholeFile(audio, filter: filter, mode: mode, redactor: redactor) { frame in
            decisions.append(frame.decision); speech.append(frame.speechProbability)
            scores.append(frame.score); redacted.append(frame.redacted)
            probabilities.append(frame.primaryProbability); levels.append(frame.relativeLevelDB)
        }
        let plan = RedactionPlan(decisions: decisions, speechProbability: speech, chunks: [], primaryScore: scores,
                                 primaryProbability: probabilities, relativeLevelDB: levels, redacted: redacted,
                                 primaryDecision: stream.primaryDecision, primaryConfidence: stream.primaryConfidence,
                                 lookaheadFrames: Int((stream.lookaheadSeconds * 100).rounded(.up)))
        return (plan, output)
    }

}
