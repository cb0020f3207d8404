public import AudioCore
import DSP
import Foundation
public import Perception

/// What the filter decided for one 10 ms frame.
public enum FrameDecision: String, Sendable, Codable {
    /// No voice: kept.
    case nonSpeech = "non_speech"
    /// The primary talker: kept.
    case primary
    /// Another talker: redacted.
    case other
    /// Speech the filter cannot attribute (too little speech yet, no primary talker, a score between the thresholds,
    /// possible speech away from the primary talker): redacted unless `--overlap keep`.
    case uncertain
}

/// How the primary talker is found.
public enum PrimaryTalkerMode: Sendable {
    /// The talker of the enrollment clips (unit-length embedding from `PrivacyFilter.enroll`).
    case enrolled(Enrollment)
    /// The talker who dominates the recording by speech time (see `PrivacyFilter.dominantTalker`).
    case dominant
}

/// The enrolled talker: embedding and how much speech it came from.
public struct Enrollment: Sendable {
    /// Unit-length GE2E speaker embedding (256 non-negative values).
    public var embedding: [Float]
    /// Seconds of speech it was computed from.
    public var speechSeconds: Double
}

/// A stretch of speech the filter scored as a whole (a segment of the decision core, whole-file runs).
public struct SpeechChunk: Sendable, Codable {
    /// Frames (10 ms) it covers, first to last speech frame.
    public var frames: Range<Int>
    /// Speech frames in it.
    public var speechFrames: Int
    /// Score of its whole embedding against the primary talker (`SpeakerScoring`), nil without a primary talker.
    public var score: Float?
    /// Mean level of its speech relative to the loudest segment, dB (≤ 0).
    public var relativeLevelDB: Float
    /// The decision of its last scored frame (its whole speech seen).
    public var decision: FrameDecision
}

/// The per-frame analysis of a recording.
public struct RedactionPlan: Sendable {
    /// Decision per 10 ms frame (frame f = f·10 ms ..< (f+1)·10 ms of the input).
    public var decisions: [FrameDecision]
    /// Silero speech probability per frame (0…1).
    public var speechProbability: [Float]
    /// The segments of speech and what was decided for each (whole-file runs; empty for streams).
    public var chunks: [SpeechChunk]
    /// Speaker score against the primary talker behind each frame's decision (nil for frames not scored).
    public var primaryScore: [Float?]
    /// Fused probability that each frame is the primary talker (nil for frames not scored).
    public var primaryProbability: [Float?]
    /// Level of each scored frame's segment speech relative to the loudest speech so far, dB (nil for frames not scored).
    public var relativeLevelDB: [Float?]
    /// Whether each frame is removed (after the overlap policy and guard bands).
    public var redacted: [Bool]
    /// How the primary talker was chosen.
    public var primaryDecision: String
    /// Confidence of the primary-talker decision (0…1).
    public var primaryConfidence: Double
    /// Frames past a frame the decision about it depends on at most.
    public var lookaheadFrames: Int
}

/// The privacy filter on pretrained speech perception: Silero VAD finds speech, Resemblyzer's GE2E encoder embeds
/// each segment of it, and a segment is kept only when its embedding is close enough to the primary talker's — the
/// enrolled person, or the talker who dominates the recording. Everything else that sounds like speech is removed:
/// fail closed. Whole-file and streaming redaction run the same decision core (`RedactionEngine`), the file with a
/// whole segment of look-ahead, the stream with at most 0.5 s.
public struct PrivacyFilter: Sendable {
    /// Overlap / uncertainty policy.
    public enum OverlapPolicy: String, Sendable, CaseIterable {
        /// Remove uncertain speech: fail closed.
        case mute
        /// Keep uncertain speech next to the primary talker's (within `primaryMargin` of a primary frame: where it can
        /// overlap it); uncertain speech away from the primary talker is still removed.
        case keep
    }

    /// Thresholds.
    public let model: RedactionModel
    /// The pretrained networks.
    public let perception: PretrainedPerception
    /// Non-speech frames that end a segment (default 20 = 200 ms).
    public var segmentGapFrames = 20
    /// Speech frames after which a segment is cut (default 200 = 2 s).
    public var maximumSegmentSpeechFrames = 200
    /// Fewest speech frames behind an embedding used for a decision (default 30 = 0.3 s); less is uncertain.
    public var minimumSpeechFrames = 30
    /// Frames removed on each side of every removed frame (default 5 = 50 ms).
    public var guardFrames = 5
    /// Frames before a possible-speech frame searched for a primary frame that covers it (default 10 = 100 ms);
    /// whole-file runs also search as far after it.
    public var primaryMargin = 10
    /// Overlap / uncertainty policy (default `.mute`).
    public var overlap = OverlapPolicy.mute
    /// Shortest enrollment speech, seconds.
    public static let minimumEnrollmentSeconds = 1.0

    /// Creates a filter with the shared pretrained networks (`PretrainedPerception.shared()`).
    /// - Throws: `RedactionError.weights` when a weight file is missing or corrupt.
    public init(model: RedactionModel) throws(RedactionError) {
        do { perception = try PretrainedPerception.shared() } catch { throw .weights(error) }
        self.model = model
    }

    /// Creates a filter with given networks.
    public init(model: RedactionModel, perception: PretrainedPerception) {
        self.model = model
        self.perception = perception
    }

    /// Speech probability of every 10 ms frame of a 16 kHz analysis signal (Silero on the level-normalised signal,
    /// `VoiceActivityFront`: the same rule the decision core applies).
    public func speechProbabilities(_ signal: [Float]) -> [Float] {
        var history = SampleHistory()
        history.append(contentsOf: signal)
        var front = VoiceActivityFront(network: perception.voiceActivity)
        front.advance(history, ended: true)
        return (0..<AnalysisSignal.frameCount(samples: signal.count)).map { front.frameProbability($0, ended: true) ?? 0 }
    }

    /// Speech frames of a signal by the filter's hysteresis, widened by `margin` frames on each side.
    func speechMask(_ p: [Float], margin: Int = 0) -> [Bool] {
        var speech = [Bool](repeating: false, count: p.count)
        var inSpeech = false
        for f in p.indices {
            inSpeech = Double(p[f]) >= model.speechOnThreshold || (inSpeech && Double(p[f]) >= model.speechOffThreshold)
            speech[f] = inSpeech
        }
        guard margin > 0 else { return speech }
        var widened = speech
        for f in p.indices where speech[f] { for g in max(0, f - margin)...min(p.count - 1, f + margin) { widened[g] = true } }
        return widened
    }

    /// GE2E embedding of the speech in `signal` (16 kHz): its speech frames (±50 ms) joined, embedded as Resemblyzer
    /// embeds an utterance (mean of 1.6 s partials). Nil without speech.
    public func embedding(_ signal: [Float]) -> (embedding: [Float], speechSeconds: Double)? {
        let p = speechProbabilities(signal)
        let speech = speechMask(p)
        let seconds = Double(speech.filter { $0 }.count) / 100
        let kept = speechMask(p, margin: 5)
        var joined: [Float] = []
        for f in kept.indices where kept[f] {
            let start = f * AnalysisSignal.hop
            joined.append(contentsOf: signal[start..<min(signal.count, start + AnalysisSignal.hop)])
        }
        guard seconds > 0, !joined.isEmpty else { return nil }
        Self.normalizeVolume(&joined)
        guard let e = try? perception.speakerEncoder.embedUtterance(joined).embedding else { return nil }
        return (e, seconds)
    }

    /// Level the speaker encoder's input is brought to, dBFS RMS (Resemblyzer's `audio_norm_target_dBFS`: the encoder
    /// takes mel *power*, so its input level matters).
    static let encoderLevelDBFS: Float = -30

    /// Scales `samples` to `encoderLevelDBFS` RMS (as Resemblyzer's `normalize_volume`, in both directions).
    static func normalizeVolume(_ samples: inout [Float]) {
        let rms = (samples.reduce(Float(0)) { $0 + $1 * $1 } / Float(max(1, samples.count))).squareRoot()
        guard rms > 1e-6 else { return }
        let gain = Float.pow(10, encoderLevelDBFS / 20) / rms
        for i in samples.indices { samples[i] *= gain }
    }

    /// The enrolled talker from one or more clips of their speech (short words and names count: any speech Silero finds).
    /// - Throws: `RedactionError.enrollmentTooShort` below `minimumEnrollmentSeconds` of speech in all.
    public func enroll(_ clips: [(path: String, audio: AudioBuffer)]) throws(RedactionError) -> Enrollment {
        var signal: [Float] = []
        for clip in clips { signal += try AnalysisSignal.make(clip.audio) }
        let paths = clips.map(\.path).joined(separator: ", ")
        let result = embedding(signal)
        guard let (e, seconds) = result, seconds >= Self.minimumEnrollmentSeconds else {
            throw .enrollmentTooShort(path: paths, speechSeconds: result?.speechSeconds ?? 0,
                                      minimumSeconds: Self.minimumEnrollmentSeconds)
        }
        return Enrollment(embedding: e, speechSeconds: seconds)
    }

    /// Analyses and redacts a whole recording with the decision core (a whole segment of look-ahead; dominant mode
    /// first surveys the recording for its talker).
    public func run(_ audio: AudioBuffer, mode: PrimaryTalkerMode, redactor: Redactor = Redactor()) throws(RedactionError) -> (plan: RedactionPlan, audio: AudioBuffer) {
        // Whole-file runs first survey the recording: dominant mode for its talker, enrolled mode for whether the enrolled
        // talker is in it at all (so speech before the evidence is complete is not lost).
        var survey = try RedactionEngine(filter: self, mode: mode, redactor: redactor, sampleRate: audio.sampleRate, channelCount: audio.channelCount,
                                         decisionLookaheadFrames: Self.wholeSegment, coverageLookaheadFrames: primaryMargin, lookaheadBudget: nil)
        survey.keepsAllSegments = true
        var discarded: [Float] = []
        try audio.samples.withUnsafeBufferPointer { (p) throws(RedactionError) in try survey.process(p, appendingTo: &discarded) }
        try survey.finish(appendingTo: &discarded)
        var fixed: (embedding: [Float]?, confidence: Double, description: String)?, presence: Float?
        switch mode {
        case .dominant: fixed = Self.dominantTalker(survey.segments, neighbourhood: Float(model.dominantNeighbourhood))
        case let .enrolled(enrollment):
            presence = Self.presenceScore(survey.segments, reference: enrollment.embedding, neighbourhood: Float(model.presenceNeighbourhood))
        }
        var engine = try RedactionEngine(filter: self, mode: mode, fixedDominantTalker: fixed, fixedPresence: presence, redactor: redactor,
                                         sampleRate: audio.sampleRate, channelCount: audio.channelCount,
                                         decisionLookaheadFrames: Self.wholeSegment, coverageLookaheadFrames: primaryMargin, lookaheadBudget: nil)
        engine.keepsAllSegments = true
        var decisions: [FrameDecision] = [], speech: [Float] = [], scores: [Float?] = [], redacted: [Bool] = []
        var probabilities: [Float?] = [], levels: [Float?] = []
        engine.onFrame = { frame in
            decisions.append(frame.decision); speech.append(frame.speechProbability)
            scores.append(frame.score); redacted.append(frame.redacted)
            probabilities.append(frame.primaryProbability); levels.append(frame.relativeLevelDB)
        }
        var out: [Float] = []
        out.reserveCapacity(audio.samples.count)
        try audio.samples.withUnsafeBufferPointer { (p) throws(RedactionError) in try engine.process(p, appendingTo: &out) }
        try engine.finish(appendingTo: &out)
        // Every channel that is not a scaled copy of the mix is analysed on its own too (same talker, same presence):
        // a voice in anti-phase between channels cancels in the mix, and a voice on one channel only is quieter there.
        // A frame any analysis removes is removed from every channel.
        var channelRemovals = 0
        for c in 0..<audio.channelCount where audio.channelCount > 1 && Self.differsFromMix(audio, channel: c) {
            var single = try RedactionEngine(filter: self, mode: mode, fixedDominantTalker: fixed, fixedPresence: presence, redactor: redactor,
                                             sampleRate: audio.sampleRate, channelCount: 1, decisionLookaheadFrames: Self.wholeSegment,
                                             coverageLookaheadFrames: primaryMargin, lookaheadBudget: nil)
            single.keepsAllSegments = true
            var removed: [Bool] = []
            single.onFrame = { removed.append($0.redacted) }
            var discardedChannel: [Float] = []
            let samples = audio.channel(c)
            try samples.withUnsafeBufferPointer { (p) throws(RedactionError) in try single.process(p, appendingTo: &discardedChannel) }
            try single.finish(appendingTo: &discardedChannel)
            for f in 0..<min(removed.count, redacted.count) where removed[f] && !redacted[f] {
                redacted[f] = true
                channelRemovals += 1
            }
        }
        if channelRemovals > 0 { out = redactor.apply(audio, removed: redacted).samples }
        let loudest = engine.segments.map(\.levelDB).max() ?? 0
        let reference: [Float]? = {
            if case let .enrolled(e) = mode { return e.embedding }
            return fixed?.embedding
        }()
        let scoring = SpeakerScoring(cohort: model.cohort)
        let referenceStatistics = reference.map { scoring.statistics($0) } ?? (0, 1)
        let chunks = engine.segments.map { s in
            let score = reference.map { r in scoring.score(s.embedding, reference: r, referenceStatistics: referenceStatistics) }
            let decided = s.frames.compactMap { $0 < decisions.count && scores[$0] != nil ? decisions[$0] : nil }
            let decision = decided.last ?? .uncertain
            return SpeechChunk(frames: s.frames, speechFrames: s.speechFrames, score: score, relativeLevelDB: s.levelDB - loudest, decision: decision)
        }
        let lookahead = (chunks.map { $0.frames.count }.max() ?? 0) + primaryMargin + guardFrames
        let primaryDecision = engine.primaryDecision
            + (channelRemovals > 0 ? String(format: "; %.2f s more removed by per-channel analysis", Double(channelRemovals) / 100) : "")
        let plan = RedactionPlan(decisions: decisions, speechProbability: speech, chunks: chunks, primaryScore: scores,
                                 primaryProbability: probabilities, relativeLevelDB: levels, redacted: redacted,
                                 primaryDecision: primaryDecision, primaryConfidence: engine.primaryConfidence, lookaheadFrames: lookahead)
        return (plan, AudioBuffer(sampleRate: audio.sampleRate, channelCount: audio.channelCount, samples: out))
    }

    /// Whether channel `c` of `audio` holds more than a scaled copy of the channel mix: the part of it the mix does
    /// not explain (least-squares gain) carries at least 1 % of its energy (−20 dB).
    static func differsFromMix(_ audio: AudioBuffer, channel c: Int) -> Bool {
        let n = audio.channelCount, x = audio.samples
        var cross = 0.0, mixEnergy = 0.0, energy = 0.0
        for i in 0..<audio.frameCount {
            var mix: Float = 0
            for k in 0..<n { mix += RedactionEngine.clampedForAnalysis(x[i * n + k]) }
            let m = Double(mix) / Double(n)
            let v = Double(RedactionEngine.clampedForAnalysis(x[i * n + c]))
            cross += v * m; mixEnergy += m * m; energy += v * v
        }
        guard energy > 0 else { return false }
        guard mixEnergy > 0 else { return true }
        let unexplained = energy - cross * cross / mixEnergy
        return unexplained >= 0.01 * energy
    }

    /// The per-frame analysis of a whole recording (`run` without keeping the audio).
    public func plan(_ audio: AudioBuffer, mode: PrimaryTalkerMode) throws(RedactionError) -> RedactionPlan {
        try run(audio, mode: mode).plan
    }

    /// Look-ahead that lets every decision see its whole segment.
    static let wholeSegment = 1 << 40

    /// How present the enrolled talker is among closed segments: for each segment of ≥ 0.5 s, its neighbourhood (segments
    /// of ≥ 0.5 s whose embeddings have cosine ≥ `neighbourhood` with it: one talker) — if it holds at least
    /// `RedactionEngine.confirmationFrames` of speech — gives a speech-weighted mean embedding; the score is the largest
    /// cosine of such a mean with the enrollment (−1 when no neighbourhood is large enough). Means over many segments
    /// are far less noisy than single segments, so an absent talker rarely scores high.
    static func presenceScore(_ segments: [RedactionEngine.SegmentSummary], reference: [Float], neighbourhood: Float) -> Float {
        let usable = segments.filter { $0.speechFrames >= 50 }
        let cosine = SpeakerScoring.cosine
        var best: Float = -1
        for s in usable {
            var mean = [Float](repeating: 0, count: s.embedding.count), speech = 0
            for t in usable where cosine(s.embedding, t.embedding) >= neighbourhood {
                for j in mean.indices { mean[j] += t.embedding[j] * Float(t.speechFrames) }
                speech += t.speechFrames
            }
            guard speech >= RedactionEngine.confirmationFrames else { continue }
            best = max(best, cosine(SpeakerEncoder.normalized(mean), reference))
        }
        return best
    }

    /// The dominant talker among closed segments: the segment whose neighbourhood (embedding cosine ≥ `neighbourhood`)
    /// holds the most speech, counting as candidates only segments of at least 0.5 s within 10 dB of the loudest; the
    /// talker's embedding is that neighbourhood's speech-weighted mean. Confidence = the share of all speech in segments
    /// of at least 0.5 s that the neighbourhood holds; below 0.5 nobody dominates, the embedding is nil and all speech is
    /// removed (fail closed). Less than 1 s of such speech is no talker either.
    static func dominantTalker(_ segments: [RedactionEngine.SegmentSummary], neighbourhood: Float) -> (embedding: [Float]?, confidence: Double, description: String) {
        let usable = segments.filter { $0.speechFrames >= 50 }
        let total = usable.reduce(0.0) { $0 + Double($1.speechFrames) }
        guard total >= 100 else {
            return (nil, 0, String(format: "no dominant talker: %.1f s of speech in segments of 0.5 s or more (need 1 s)", total / 100))
        }
        let cosine = SpeakerScoring.cosine
        let loudest = usable.map(\.levelDB).max() ?? 0
        var best = 0, bestWeight = -1.0
        for i in usable.indices where usable[i].levelDB >= loudest - 10 {
            let weight = usable.reduce(0.0) { $0 + (cosine(usable[i].embedding, $1.embedding) >= neighbourhood ? Double($1.speechFrames) : 0) }
            if weight > bestWeight { best = i; bestWeight = weight }
        }
        var mean = [Float](repeating: 0, count: usable[best].embedding.count)
        for s in usable where cosine(usable[best].embedding, s.embedding) >= neighbourhood {
            for j in mean.indices { mean[j] += s.embedding[j] * Float(s.speechFrames) }
        }
        let share = max(0, bestWeight) / total
        guard share >= 0.5 else {
            return (nil, share, String(format: "no dominant talker: the largest talker holds %.0f %% of the speech", share * 100))
        }
        return (SpeakerEncoder.normalized(mean), share, String(format: "dominant talker: %.0f %% of the speech", share * 100))
    }
}
