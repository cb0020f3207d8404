public import AudioCore
import DSP
import Foundation
import Learning

/// What the filter decided for one 10 ms frame.
public enum FrameDecision: String, Sendable, Codable {
    /// No voice: kept.
    case nonSpeech = "non_speech"
    /// The primary talker: kept.
    case primary
    /// Another talker: redacted.
    case other
    /// Speech the filter cannot attribute (mixed talkers, too little speech in the window, no
    /// dominant talker): redacted unless `--overlap keep` and the score is above the lower threshold.
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
    /// Unit-length speaker embedding.
    public var embedding: [Float]
    /// Seconds of speech it was computed from.
    public var speechSeconds: Double
}

/// A stretch of speech the filter decides on as a whole.
public struct SpeechChunk: Sendable, Codable {
    /// Frames (10 ms) it covers.
    public var frames: Range<Int>
    /// Speech frames in it.
    public var speechFrames: Int
    /// Cosine of its embedding with the primary talker's (−1…1), nil without a reference.
    public var score: Float?
    /// Median frame level relative to the recording's 95th-percentile speech level, dB (≤ about 0).
    public var relativeLevelDB: Float
    /// Energy above 2.5 kHz relative to 0.3–2.5 kHz, dB: distant talkers lose highs.
    public var tiltDB: Float
    /// Probability that it is the primary talker (0…1), from the fused cues.
    public var primaryProbability: Float
    /// The decision.
    public var decision: FrameDecision
}

/// The per-frame analysis of a recording.
public struct RedactionPlan: Sendable {
    /// Decision per 10 ms frame (frame f = f·10 ms ..< (f+1)·10 ms of the input).
    public var decisions: [FrameDecision]
    /// Speech probability per frame (0…1).
    public var speechProbability: [Float]
    /// The chunks of speech and what was decided for each.
    public var chunks: [SpeechChunk]
    /// Smoothed probability that each frame is the primary talker (0…1; nil for non-speech or unattributable frames).
    public var primaryProbability: [Float?]
    /// Whether each frame is removed (after the overlap policy and guard bands).
    public var redacted: [Bool]
    /// How the primary talker was chosen.
    public var primaryDecision: String
    /// Confidence of the primary-talker decision (0…1).
    public var primaryConfidence: Double
    /// Frames past a frame the decision about it depends on: what a streaming run of this analysis would
    /// have to wait for (voice-activity context + the longest chunk + the talker-change window).
    public var lookaheadFrames: Int
}

/// The privacy filter: voice activity, speaker embeddings and proximity cues decide, for every chunk of
/// speech, whether it is the primary talker; everything else is redacted. Fail-closed: speech it cannot
/// attribute to the primary talker is removed.
///
/// Speech frames (voice activity ≥ the model's threshold) are grouped into chunks — runs separated by at
/// least 100 ms of non-speech, cut into pieces of at most `maximumChunkFrames` — and each chunk gets three
/// cues: the cosine of its speaker embedding with the primary talker's, its level relative to the
/// recording's speech level, and its spectral tilt. A logistic fusion of the cues (`RedactionModel.fusion`)
/// gives the probability that the chunk is the primary talker.
public struct PrivacyFilter: Sendable {
    /// Overlap / uncertainty policy.
    public enum OverlapPolicy: String, Sendable, CaseIterable {
        /// Remove uncertain (mixed or unattributable) speech: fail closed.
        case mute
        /// Keep uncertain speech.
        case keep
    }

    /// The trained parts.
    public let model: RedactionModel
    /// Longest chunk, frames (default 50 = 0.5 s); longer runs are cut into equal pieces.
    public var maximumChunkFrames = 50
    /// Fewest speech frames for a speaker embedding (default 20 = 0.2 s); shorter chunks are uncertain.
    public var minimumChunkSpeech = 20
    /// Frames on each side compared when looking for a talker change inside a run (default 30 = 0.3 s).
    public var changeWindow = 30
    /// Level difference (dB) between the two sides that marks a talker change (default 6).
    public var changeJumpDB: Float = 6
    /// Frames removed on each side of every redacted run (default 5 = 50 ms), so onsets and tails go too.
    public var guardFrames = 5
    /// Overlap / uncertainty policy (default `.mute`).
    public var overlap = OverlapPolicy.mute
    /// Frames with a speech probability of at least this (but under the model's speech threshold) are possible
    /// speech: removed unless a primary chunk covers them (default 0.1; 1 turns it off).
    public var possibleSpeechThreshold: Float = 0.1
    /// Dominant mode: chunks whose embeddings have at least this cosine belong to one talker (default 0.3).
    public var dominantNeighbourhood: Float = 0.3
    /// Frames around a primary chunk it also covers for the possible-speech rule (default 10 = 100 ms).
    public var primaryMargin = 10
    /// Gaps between primary stretches up to this many frames count as primary (default 30 = 300 ms).
    public var primaryGap = 30
    /// Shortest enrollment speech, seconds.
    public static let minimumEnrollmentSeconds = 1.0

    private let activity = VoiceActivityFeatures()
    private let speaker = SpeakerFeatures()

    /// Creates a filter.
    public init(model: RedactionModel) { self.model = model }

    /// Speech probability of every frame of a 16 kHz analysis signal.
    public func speechProbabilities(_ signal: [Float]) -> [Float] {
        let features = activity.compute(signal)
        return (0..<features.frameCount).map { f in
            let z = model.voiceActivity.score(features[f])
            return Float(1 / (1 + Foundation.exp(-z)))
        }
    }

    /// Embedding of the speech frames of `signal` (16 kHz), with the seconds of speech; nil without speech.
    public func embedding(_ signal: [Float]) -> (embedding: [Float], speechSeconds: Double)? {
        let p = speechProbabilities(signal)
        let frames = p.indices.filter { Double(p[$0]) >= model.speechThreshold }
        guard let stats = SpeakerFeatures.statistics(speaker.frames(signal), frames: frames) else { return nil }
        return (model.speakerProjection.project(stats), Double(frames.count) / 100)
    }

    /// The enrolled talker from one or more clips of their speech.
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

    /// Analyses a recording: speech probability per frame, chunks with their cues and decisions, and the mask.
    public func plan(_ audio: AudioBuffer, mode: PrimaryTalkerMode) throws(RedactionError) -> RedactionPlan {
        let signal = try AnalysisSignal.make(audio)
        let p = speechProbabilities(signal)
        let n = p.count
        let speech = p.map { Double($0) >= model.speechThreshold }
        var chunks = self.chunks(signal, speech: speech)
        let reference: [Float]?, decision: String, confidence: Double
        switch mode {
        case let .enrolled(enrollment):
            reference = enrollment.embedding
            decision = String(format: "enrolled talker (%.1f s of enrollment speech)", enrollment.speechSeconds)
            confidence = 1
        case .dominant:
            (reference, confidence, decision) = Self.dominantTalker(chunks.map(\.embedding), weights: chunks.map { Double($0.chunk.speechFrames) },
                                                                    levels: chunks.map(\.chunk.relativeLevelDB), neighbourhood: dominantNeighbourhood)
        }
        var decisions = [FrameDecision](repeating: .nonSpeech, count: n)
        let keepThreshold = isDominantMode(mode) ? model.dominantKeepThreshold : model.keepThreshold
        let keep = Float(keepThreshold), lower = Float(max(0, keepThreshold - model.uncertainMargin))
        var probability = [Float?](repeating: nil, count: n)
        // Enrolled: raw cosines with the enrollment; dominant: cosines normalised within the recording.
        var isDominant = false
        if case .dominant = mode { isDominant = true }
        let scores: [Float?] = reference.map { r in
            isDominant ? Self.normalizedScores(chunks, reference: r) : chunks.map { c in c.embedding.map { e in zip(e, r).reduce(Float(0)) { $0 + $1.0 * $1.1 } } }
        } ?? chunks.map { _ in nil }
        for i in chunks.indices {
            var chunk = chunks[i].chunk
            if chunks[i].embedding != nil, reference != nil, let score = scores[i] {
                chunk.score = score
                chunk.primaryProbability = model.primaryProbability(score: score, relativeLevelDB: chunk.relativeLevelDB, tiltDB: chunk.tiltDB,
                                                                    dominant: isDominant)
                chunk.decision = chunk.primaryProbability >= keep ? .primary : (chunk.primaryProbability < lower ? .other : .uncertain)
                for f in chunk.frames where speech[f] { probability[f] = chunk.primaryProbability }
            } else {
                chunk.decision = .uncertain
            }
            for f in chunk.frames where speech[f] { decisions[f] = chunk.decision }
            chunks[i].chunk = chunk
        }
        // Fail closed on quiet voices: frames below the speech threshold but above `possibleSpeechThreshold`
        // that no primary chunk covers are uncertain, not silence.
        var insidePrimary = [Bool](repeating: false, count: n)
        for chunk in chunks where chunk.chunk.decision == .primary {
            // A primary chunk also covers `primaryMargin` frames around it (word onsets and tails the VAD scores low).
            for f in max(0, chunk.chunk.frames.lowerBound - primaryMargin)..<min(n, chunk.chunk.frames.upperBound + primaryMargin) { insidePrimary[f] = true }
        }
        // Short gaps between primary stretches (pauses inside the talker's speech) count as primary too.
        var lastPrimary: Int?
        for f in 0..<n where insidePrimary[f] {
            if let last = lastPrimary, f - last > 1, f - last <= primaryGap, !(last..<f).contains(where: { decisions[$0] == .other }) {
                for g in last..<f { insidePrimary[g] = true }
            }
            lastPrimary = f
        }
        for f in 0..<n where !speech[f] && p[f] >= possibleSpeechThreshold && !insidePrimary[f] { decisions[f] = .uncertain }
        var redacted = decisions.map { d in
            switch d {
            case .nonSpeech, .primary: false
            case .other: true
            case .uncertain: overlap == .mute
            }
        }
        if guardFrames > 0 {
            let original = redacted
            for f in 0..<n where original[f] {
                for g in max(0, f - guardFrames)...min(n - 1, f + guardFrames) { redacted[g] = true }
            }
        }
        return RedactionPlan(decisions: decisions, speechProbability: p, chunks: chunks.map(\.chunk), primaryProbability: probability, redacted: redacted,
                             primaryDecision: decision, primaryConfidence: confidence,
                             lookaheadFrames: VoiceActivityFeatures.lookaheadFrames + maximumChunkFrames + changeWindow)
    }

    /// Frame level (dB) and energies above and below 2.5 kHz of the speech frames (others: −120 dB, 0, 0).
    func frameLevels(_ signal: [Float], speech: [Bool]) -> (level: [Float], high: [Float], low: [Float]) {
        let n = speech.count
        var level = [Float](repeating: -120, count: n), high = [Float](repeating: 0, count: n), low = [Float](repeating: 0, count: n)
        let fft = RealFFT(size: 512)
        let frame = RealFFT.allocate(512), spectrum = RealFFT.allocate(514)
        defer { RealFFT.deallocate(frame); RealFFT.deallocate(spectrum) }
        let window = WindowKind.hann.values(length: 400)
        for f in 0..<n where speech[f] {
            let start = f * AnalysisSignal.hop + AnalysisSignal.hop / 2 - 200
            var energy: Float = 0
            for i in 0..<400 {
                let k = start + i
                let v = k >= 0 && k < signal.count ? signal[k] : 0
                frame[i] = v * window[i]
                energy += v * v
            }
            level[f] = Self.levelDB(energy: energy, samples: 400)
            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
            (high[f], low[f]) = Self.tiltEnergies { k in spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1] }
        }
        return (level, high, low)
    }

    /// Mean-square level of a frame's `samples` samples with summed squares `energy`, dB.
    static func levelDB(energy: Float, samples: Int) -> Float { 10 * Foundation.log10(energy / Float(samples) + 1e-12) }

    /// Energies above and below 2.5 kHz over 312 Hz … 7 kHz of a 512-point power spectrum at 16 kHz (`power(k)` of bin k):
    /// the spectral-tilt cue (distant talkers lose highs).
    @inline(__always) static func tiltEnergies(_ power: (Int) -> Float) -> (high: Float, low: Float) {
        var high: Float = 0, low: Float = 0
        for k in 10..<224 { if k < 80 { low += power(k) } else { high += power(k) } }
        return (high, low)
    }

    /// The 95th-percentile level of the speech frames, dB.
    static func referenceLevel(_ level: [Float], speech: [Bool]) -> Float {
        let levels = level.indices.filter { speech[$0] }.map { level[$0] }.sorted()
        return levels.isEmpty ? 0 : levels[min(levels.count - 1, Int(Double(levels.count) * 0.95))]
    }

    private func isDominantMode(_ mode: PrimaryTalkerMode) -> Bool {
        if case .dominant = mode { return true }
        return false
    }

    /// Cosine of each chunk's embedding with `reference`, normalised within the recording: minus the
    /// speech-weighted mean over its chunks, divided by their standard deviation (so a channel mismatch between
    /// enrollment and recording, which shifts every cosine, does not move the decision). Nil without an embedding.
    static func normalizedScores(_ chunks: [(chunk: SpeechChunk, embedding: [Float]?)], reference: [Float]) -> [Float?] {
        let raw = chunks.map { c in c.embedding.map { e in zip(e, reference).reduce(Float(0)) { $0 + $1.0 * $1.1 } } }
        var sum = 0.0, squares = 0.0, weight = 0.0
        for (c, s) in zip(chunks, raw) {
            guard let s else { continue }
            let w = Double(c.chunk.speechFrames)
            sum += w * Double(s); squares += w * Double(s) * Double(s); weight += w
        }
        guard weight > 0 else { return raw }
        let mean = sum / weight, spread = max(0.05, (max(0, squares / weight - mean * mean)).squareRoot())
        return raw.map { $0.map { Float((Double($0) - mean) / spread) } }
    }

    /// Cuts `run` where the mean speech level of the `minimumFrames` before and after a frame differ by at least
    /// `jumpDB` (the largest such difference first, recursively), keeping pieces of at least `minimumFrames`.
    static func splitAtLevelChanges(_ run: Range<Int>, level: [Float], speech: [Bool], minimumFrames: Int, jumpDB: Float) -> [Range<Int>] {
        guard run.count >= 2 * minimumFrames else { return [run] }
        func mean(_ r: Range<Int>) -> Float? {
            let values = r.filter { speech[$0] }.map { level[$0] }
            return values.count >= minimumFrames / 2 ? values.reduce(0, +) / Float(values.count) : nil
        }
        var best: (at: Int, jump: Float)?
        for t in (run.lowerBound + minimumFrames)...(run.upperBound - minimumFrames) {
            guard let left = mean((t - minimumFrames)..<t), let right = mean(t..<(t + minimumFrames)) else { continue }
            let jump = abs(left - right)
            if jump >= jumpDB, jump > (best?.jump ?? 0) { best = (t, jump) }
        }
        guard let cut = best?.at else { return [run] }
        return splitAtLevelChanges(run.lowerBound..<cut, level: level, speech: speech, minimumFrames: minimumFrames, jumpDB: jumpDB)
            + splitAtLevelChanges(cut..<run.upperBound, level: level, speech: speech, minimumFrames: minimumFrames, jumpDB: jumpDB)
    }

    /// Chunks of speech with their cues (score and probability not yet set) and embeddings.
    func chunks(_ signal: [Float], speech: [Bool]) -> [(chunk: SpeechChunk, embedding: [Float]?)] {
        let n = speech.count
        let features = speaker.frames(signal)
        let (level, high, low) = frameLevels(signal, speech: speech)
        let reference = Self.referenceLevel(level, speech: speech)
        // Runs of speech separated by ≥ 100 ms of non-speech, split where the level jumps (a talker change),
        // cut into pieces of at most maximumChunkFrames.
        var runs: [Range<Int>] = []
        var f = 0
        while f < n {
            guard speech[f] else { f += 1; continue }
            var end = f + 1, gap = 0
            var g = f + 1
            while g < n && gap < 10 { if speech[g] { gap = 0; end = g + 1 } else { gap += 1 }; g += 1 }
            for segment in Self.splitAtLevelChanges(f..<end, level: level, speech: speech, minimumFrames: changeWindow, jumpDB: changeJumpDB) {
                let pieces = max(1, Int((Double(segment.count) / Double(maximumChunkFrames)).rounded(.up)))
                for k in 0..<pieces {
                    runs.append((segment.lowerBound + segment.count * k / pieces)..<(segment.lowerBound + segment.count * (k + 1) / pieces))
                }
            }
            f = end
        }
        return runs.map { run in
            let frames = run.filter { speech[$0] }
            let levels = frames.map { level[$0] }.sorted()
            let h = frames.reduce(Float(0)) { $0 + high[$1] }, l = frames.reduce(Float(0)) { $0 + low[$1] }
            let chunk = SpeechChunk(frames: run, speechFrames: frames.count, score: nil,
                                    relativeLevelDB: (levels.isEmpty ? -120 : levels[levels.count / 2]) - reference,
                                    tiltDB: 10 * Foundation.log10((h + 1e-12) / (l + 1e-12)), primaryProbability: 0, decision: .uncertain)
            let embedding = frames.count >= minimumChunkSpeech
                ? SpeakerFeatures.statistics(features, frames: frames).map { model.speakerProjection.project($0) } : nil
            return (chunk, embedding)
        }
    }

    /// The dominant talker: the chunk embedding whose neighbourhood (cosine ≥ `neighbourhood`) holds the most speech,
    /// counting only chunks within 10 dB of the loudest speech; the reference is that neighbourhood's mean.
    /// Confidence = the share of all attributable speech the neighbourhood holds; below 0.5 nobody dominates,
    /// the reference is nil and every speech chunk is uncertain (fail closed).
    static func dominantTalker(_ embeddings: [[Float]?], weights: [Double], levels: [Float], neighbourhood: Float = 0.5) -> (embedding: [Float]?, confidence: Double, description: String) {
        let candidates = embeddings.indices.filter { embeddings[$0] != nil }
        let total = candidates.reduce(0.0) { $0 + weights[$1] }
        guard total > 0 else { return (nil, 0, "no speech long enough to attribute") }
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var best = candidates[0], bestWeight = -1.0
        for i in candidates where levels[i] >= -10 {
            let weight = candidates.reduce(0.0) { $0 + (cosine(embeddings[i]!, embeddings[$1]!) >= neighbourhood ? weights[$1] : 0) }
            if weight > bestWeight { best = i; bestWeight = weight }
        }
        let members = candidates.filter { cosine(embeddings[best]!, embeddings[$0]!) >= neighbourhood }
        var mean = [Float](repeating: 0, count: embeddings[best]!.count)
        for m in members { for j in mean.indices { mean[j] += embeddings[m]![j] * Float(weights[m]) } }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let share = max(0, bestWeight) / total
        guard share >= 0.5, norm > 0 else {
            return (nil, share, String(format: "no dominant talker: the largest talker holds %.0f %% of the attributable speech", share * 100))
        }
        return (mean.map { $0 / norm }, share, String(format: "dominant talker: %.0f %% of the attributable speech", share * 100))
    }
}
