import AudioCore
import DSP
import Foundation
import Perception

/// The privacy filter's one decision core. Whole-file (`PrivacyFilter.plan`) and streaming
/// (`StreamingPrivacyFilter`) redaction both run it; they differ only in how far a decision may look ahead
/// (`decisionLookaheadFrames`: a whole segment for files, ≤ 0.5 s in all for streams) and, in dominant mode, in
/// where the talker comes from (the whole recording, or what has been heard so far).
///
/// Stages, each run as far as its inputs allow (so any block sizes give the same output), on 10 ms frames
/// (frame f = samples 160·f ..< 160·(f+1) of the 16 kHz analysis signal):
/// 1. Perception: Silero speech probability on the level-normalised signal (`VoiceActivityFront`; 32 ms windows
///    interpolated to frames) and the GE2E mel frame.
/// 2. Segments: speech by hysteresis (`speechOnThreshold` / `speechOffThreshold`); a segment runs from a speech
///    frame until `segmentGapFrames` of non-speech or `maximumSegmentSpeechFrames` of speech; the GE2E encoder
///    steps over the segment's speech frames from a zero state, so its hidden state after frame t embeds the
///    segment's speech up to t.
/// 3. Decisions: a speech frame f is scored with the embedding of its segment's speech up to
///    min(f + lookahead, segment end): its cosine with the primary talker (enrollment, or dominant talker) ≥ keep →
///    primary; < keep − margin → another talker; between, too little speech (`minimumSpeechFrames`) or no primary
///    talker yet → uncertain.
/// 4. Possible speech (probability ≥ `possibleSpeechThreshold`, not speech) with no primary frame within
///    `primaryMargin` before or `coverageLookaheadFrames` after it is uncertain; uncertain frames are removed
///    unless the overlap policy keeps them; other talkers are removed.
/// 5. Guard bands: `guardFrames` around every removed frame. 6. Output rendered with crossfades.
struct RedactionEngine {
    /// Trained thresholds, networks and policies.
    let filter: PrivacyFilter
    /// How removed audio is replaced.
    let redactor: Redactor
    /// Input sample rate, hertz.
    let sampleRate: Double
    /// Interleaved input channels.
    let channelCount: Int
    /// Frames after a speech frame whose speech may enter its decision.
    let decisionLookaheadFrames: Int
    /// Frames after a possible-speech frame searched for a primary frame that covers it.
    let coverageLookaheadFrames: Int
    /// Called for every frame as it is finalised, in order.
    var onFrame: ((StreamingFrame) -> Void)?
    /// The primary-talker decision as it stands, in words.
    var primaryDecision: String
    /// Its confidence (0…1).
    var primaryConfidence: Double
    /// The log of what has been removed so far.
    var log = RedactionLogBuilder()
    /// Closed segments in order (whole-file runs keep them for the report; streams keep the last 256).
    private(set) var segments: [SegmentSummary] = []
    /// Keep every closed segment (whole-file runs) instead of the last 256.
    var keepsAllSegments = false

    /// A closed segment.
    struct SegmentSummary {
        /// Frames from its first to its last speech frame.
        var frames: Range<Int>
        /// Speech frames in it.
        var speechFrames: Int
        /// GE2E embedding of all its speech.
        var embedding: [Float]
        /// Mean mel-energy level of its speech frames, dB (relative values only).
        var levelDB: Float
    }

    private let isDominant: Bool
    /// Dominant mode with the talker fixed beforehand (whole-file: from a survey of the recording).
    private let referenceIsFixed: Bool
    private var reference: [Float]?
    private let resampler: Resampler?
    private let resamplerDelaySeconds: Double
    private let network: PretrainedPerception
    private let mel: MelSpectrogram
    private var signal = SampleHistory()
    private var ended = false
    private var frameTotal = Int.max
    // Stage 1.
    private var voiceActivity: VoiceActivityFront
    /// Sum of squares of each 10 ms frame of the analysis signal.
    private var frameEnergy = FrameTable(width: 1)
    /// Per frame: speech probability, level (dB), mel (40).
    private var perceived = FrameTable(width: 2 + MelSpectrogram.bandCount)
    // Stage 2.
    private var encoder: SpeakerEncoder.Stream
    /// Per frame: speech (0/1), segment id (−1 outside), speech frames of the segment so far, sum of their levels (dB),
    /// the speech reference level so far (dB), hidden state (256).
    private var segmented = FrameTable(width: 5 + 256)
    static let hiddenColumn = 5
    // Running 95th percentile of speech-frame levels: 0.25 dB bins over −140…+40 dB.
    private var levelHistogram = [Int](repeating: 0, count: 720)
    private var levelCount = 0
    /// Enrolled mode: the segmentation frame at which the enrolled talker was confirmed present (nil: not yet).
    private var confirmedAt: Int?
    /// Enrolled mode: the best presence score so far (`PrivacyFilter.presenceScore`).
    private(set) var presenceScore: Float = -1
    private var presenceIsFixed = false
    private var openSegment: (id: Int, start: Int, lastSpeech: Int, speech: Int, levelSum: Float)?
    /// Speech frames of one talker's segments needed before they may confirm the enrolled talker (2 s).
    static let confirmationFrames = 200
    private var nextSegmentID = 0
    private var gapFrames = 0
    /// Last speech frame and the frame at whose segmentation it closed, of each closed segment still referenced by
    /// undecided frames.
    private var closedSegments: [Int: (lastSpeech: Int, closedAt: Int)] = [:]
    /// Streaming dominant mode: the talker as re-picked at each segment close, from the frame whose segmentation
    /// closed it. A decision uses the talker as it stood when the decision became possible, so block sizes cannot
    /// change it.
    private var referenceHistory: [(frame: Int, embedding: [Float]?, statistics: (mean: Float, spread: Float))] = []
    /// Score normalisation against the model's cohort.
    private let scoring: SpeakerScoring
    /// Cohort statistics of the fixed reference.
    private var referenceStatistics: (mean: Float, spread: Float) = (0, 1)
    // Stage 3: per decided frame: decision code, speaker score, fused probability, relative level (NaN when absent).
    private var decided = FrameTable(width: 4)
    private var lastScored: (segment: Int, row: Int, score: Float, reference: Int?)?
    // Stages 4–6.
    private var finals = FrameTable(width: 2)
    private var mask = FrameTable(width: 1)
    private var native = SampleHistory()
    private var nativeFrames = 0, emittedFrames = 0
    private var renderer: MaskRenderer
    private var decidedAtFrame: Int?
    // Scratch.
    private var mono: [Float] = [], resampled: [Float] = []
    private var fftFrame = [Float](repeating: 0, count: MelSpectrogram.windowLength)
    private var spectrum = [Float](repeating: 0, count: MelSpectrogram.windowLength + 2)
    private var melRow = [Float](repeating: 0, count: MelSpectrogram.bandCount)

    /// Largest sample magnitude the analysis sees (full scale is 1; louder float samples are clamped there).
    static let analysisClamp: Float = 16

    /// `x` limited to ±`analysisClamp`.
    @inline(__always) static func clampedForAnalysis(_ x: Float) -> Float { min(max(x, -analysisClamp), analysisClamp) }

    /// Speech heard before streaming dominant mode picks a talker, frames (3 s).
    static let minimumDominantSpeechFrames = 300
    /// Samples of voice-activity look-ahead (`VoiceActivityFront.lookaheadSamples`).
    static let perceptionLookaheadSamples = VoiceActivityFront.lookaheadSamples

    /// Creates the core.
    /// - Parameters:
    ///   - mode: enrolled (reference embedding) or dominant.
    ///   - fixedDominantTalker: dominant mode only: the talker found beforehand (nil: find it as the stream goes).
    ///   - fixedPresence: enrolled mode only: the presence score of the whole recording, found beforehand (nil: confirm
    ///     the talker as the stream goes).
    ///   - decisionLookaheadFrames: how far a decision may look ahead (`Int.max` for whole segments).
    ///   - lookaheadBudget: if set, the decision look-ahead is cut so the whole lag stays within it, seconds.
    /// - Throws: `RedactionError.unsupportedAudio` for a rate or channel count it cannot analyse.
    init(filter: PrivacyFilter, mode: PrimaryTalkerMode, fixedDominantTalker: (embedding: [Float]?, confidence: Double, description: String)? = nil,
         fixedPresence: Float? = nil, redactor: Redactor, sampleRate: Double, channelCount: Int,
         decisionLookaheadFrames: Int, coverageLookaheadFrames: Int, lookaheadBudget: Double?) throws(RedactionError) {
        guard channelCount >= 1, sampleRate >= 4_000, sampleRate.isFinite else {
            throw .unsupportedAudio(detail: "\(channelCount) channels at \(sampleRate) Hz")
        }
        self.filter = filter
        self.redactor = redactor
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.coverageLookaheadFrames = max(0, coverageLookaheadFrames)
        network = filter.perception
        mel = filter.perception.speakerEncoder.mel
        voiceActivity = VoiceActivityFront(network: filter.perception.voiceActivity)
        encoder = filter.perception.speakerEncoder.makeStream()
        renderer = MaskRenderer(redactor: redactor, sampleRate: sampleRate, channelCount: channelCount)
        scoring = SpeakerScoring(cohort: filter.model.cohort)
        switch mode {
        case let .enrolled(enrollment):
            isDominant = false
            referenceIsFixed = true
            reference = enrollment.embedding
            primaryDecision = String(format: "enrolled talker (%.1f s of enrollment speech)", enrollment.speechSeconds)
            primaryConfidence = 1
        case .dominant:
            isDominant = true
            if let fixed = fixedDominantTalker {
                referenceIsFixed = true
                reference = fixed.embedding
                primaryDecision = fixed.description
                primaryConfidence = fixed.confidence
            } else {
                referenceIsFixed = false
                primaryDecision = "no dominant talker yet: too little speech heard"
                primaryConfidence = 0
            }
        }
        if sampleRate == AnalysisSignal.sampleRate {
            resampler = nil
            resamplerDelaySeconds = 0
        } else {
            do {
                resampler = try Resampler(inputRate: sampleRate, outputRate: AnalysisSignal.sampleRate, channelCount: 1)
                resamplerDelaySeconds = try Self.resamplerHoldBack(sampleRate: sampleRate)
            } catch {
                throw .unsupportedAudio(detail: "resampling from \(sampleRate) Hz failed: \(error)")
            }
        }
        var lookahead = max(0, decisionLookaheadFrames)
        if let budget = lookaheadBudget {
            let fixed = Self.fixedLagSeconds(coverage: self.coverageLookaheadFrames, guardFrames: filter.guardFrames,
                                             ramp: renderer.ramp, sampleRate: sampleRate, resamplerDelay: resamplerDelaySeconds)
            lookahead = max(0, min(lookahead, Int(((budget - fixed) * 100 + 1e-9).rounded(.down))))
        }
        self.decisionLookaheadFrames = lookahead
        if let reference { referenceStatistics = scoring.statistics(reference) }
        if !isDominant, let fixedPresence {
            presenceIsFixed = true
            presenceScore = fixedPresence
            if Double(fixedPresence) >= filter.model.confirmThreshold {
                confirmedAt = 0
                primaryDecision += String(format: "; present in the recording (presence %.2f ≥ %.2f)", fixedPresence, filter.model.confirmThreshold)
            }
        }
    }

    /// Lag that does not depend on the decision look-ahead, seconds: Silero's window and interpolation, the
    /// possible-speech rule, the guard band, one frame of granularity, the crossfade and the resampler.
    static func fixedLagSeconds(coverage: Int, guardFrames: Int, ramp: Int, sampleRate: Double, resamplerDelay: Double) -> Double {
        Double(perceptionLookaheadSamples) / AnalysisSignal.sampleRate + Double(coverage + guardFrames + 1) / 100
            + Double(ramp) / sampleRate + resamplerDelay
    }

    /// The most the resampler (input rate → 16 kHz) holds back, seconds of output: measured on a probe fed two
    /// seconds of silence 1 ms at a time (soxr works in blocks, so what it holds back varies; this is the worst seen).
    static func resamplerHoldBack(sampleRate: Double) throws(DSPError) -> Double {
        let probe = try Resampler(inputRate: sampleRate, outputRate: AnalysisSignal.sampleRate, channelCount: 1)
        let block = [Float](repeating: 0, count: max(1, Int(sampleRate / 1_000)))
        var output: [Float] = [], pushed = 0, worst = 0.0
        while pushed < Int(2 * sampleRate) {
            try block.withUnsafeBufferPointer { (p) throws(DSPError) in try probe.process(p, appendingTo: &output) }
            pushed += block.count
            worst = max(worst, Double(pushed) * probe.ratio - Double(output.count))
        }
        return worst / AnalysisSignal.sampleRate
    }

    /// How far the output lags the input at most, seconds (for a finite decision look-ahead).
    var lookaheadSeconds: Double {
        Self.fixedLagSeconds(coverage: coverageLookaheadFrames, guardFrames: filter.guardFrames, ramp: renderer.ramp,
                             sampleRate: sampleRate, resamplerDelay: resamplerDelaySeconds)
            + Double(min(decisionLookaheadFrames, filter.maximumSegmentSpeechFrames + filter.segmentGapFrames)) / 100
    }

    /// The largest lag of the output behind the input seen so far, seconds (input pushed minus output emitted).
    var measuredLagSeconds = 0.0

    /// Pushes a block of interleaved samples and appends the redacted samples that are now final to `output`.
    mutating func process(_ interleaved: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(RedactionError) {
        guard !ended else { throw .unsupportedAudio(detail: "audio pushed after the end of the stream") }
        let frames = interleaved.count / channelCount
        guard frames > 0 else { return }
        // One rule for whole-file and streaming runs: a NaN or infinite sample stops the run (nothing after it is
        // emitted), because soxr and the networks would spread it over the analysis and decide nothing.
        try RedactionError.checkFinite(UnsafeBufferPointer(rebasing: interleaved[0..<(frames * channelCount)]),
                                       channelCount: channelCount, sampleRate: sampleRate, firstFrame: nativeFrames)
        native.append(contentsOf: UnsafeBufferPointer(rebasing: interleaved[0..<(frames * channelCount)]))
        nativeFrames += frames
        mono.removeAll(keepingCapacity: true)
        // The analysis mix is clamped to ±analysisClamp: a huge finite sample (3e38 is a valid float) would overflow
        // every energy to infinity and blind the analysis; the output keeps the input's samples.
        if channelCount == 1 {
            for i in 0..<frames { mono.append(Self.clampedForAnalysis(interleaved[i])) }
        } else {
            let scale = 1 / Float(channelCount)
            for i in 0..<frames {
                var s: Float = 0
                for c in 0..<channelCount { s += Self.clampedForAnalysis(interleaved[i * channelCount + c]) }
                mono.append(s * scale)
            }
        }
        if let resampler {
            resampled.removeAll(keepingCapacity: true)
            do { try mono.withUnsafeBufferPointer { (p) throws(DSPError) in try resampler.process(p, appendingTo: &resampled) } } catch {
                throw .unsupportedAudio(detail: "resampling failed: \(error)")
            }
            signal.append(contentsOf: resampled)
        } else {
            signal.append(contentsOf: mono)
        }
        advance(into: &output)
        measuredLagSeconds = max(measuredLagSeconds, Double(nativeFrames - emittedFrames) / sampleRate)
    }

    /// Ends the stream and appends the rest of the redacted audio to `output`.
    mutating func finish(appendingTo output: inout [Float]) throws(RedactionError) {
        guard !ended else { return }
        if let resampler {
            resampled.removeAll(keepingCapacity: true)
            do { try resampler.flush(appendingTo: &resampled) } catch { throw .unsupportedAudio(detail: "resampling failed: \(error)") }
            signal.append(contentsOf: resampled)
        }
        ended = true
        frameTotal = AnalysisSignal.frameCount(samples: signal.end)
        advance(into: &output)
        if !isDominant && confirmedAt == nil {
            primaryDecision += String(format: "; not found in the recording (presence %.2f < %.2f): all speech removed",
                                      max(presenceScore, -1), filter.model.confirmThreshold)
            primaryConfidence = 0
        }
    }

    /// Floats held in the history buffers (for tests of the memory bound).
    var retainedValues: Int {
        signal.values.count + voiceActivity.windows.values.count + frameEnergy.values.count + perceived.values.count + segmented.values.count + decided.values.count
            + finals.values.count + mask.values.count + native.values.count
    }

    // MARK: - Stages

    private mutating func advance(into output: inout [Float]) {
        let F = frameTotal
        perceive()
        let perceivedDone = ended && perceived.end == F
        segment(upTo: perceived.end, done: perceivedDone)
        let segmentedDone = perceivedDone && segmented.end == F
        // 3. Decisions: frame f waits for f + lookahead or the end of its segment.
        while decided.end < segmented.end {
            let f = decided.end
            if !segmentedDone && !canDecide(f) { break }
            decide(f)
        }
        // 4. Possible speech not covered by the primary talker: needs decisions up to f + coverageLookahead.
        let finalLimit = decided.end == F ? F : max(0, decided.end - coverageLookaheadFrames)
        while finals.end < finalLimit { finalise(finals.end) }
        // 5. Guard bands: frame h is removed when any frame within guardFrames is.
        let guardFrames = filter.guardFrames
        let maskLimit = finals.end == F ? F : max(0, finals.end - guardFrames)
        while mask.end < maskLimit {
            let h = mask.end
            var removed = false
            for g in max(0, h - guardFrames)...min(F - 1, h + guardFrames) where finals[g, 1] != 0 { removed = true; break }
            mask.append(removed ? 1 : 0)
            let decision = Self.decision(code: finals[h, 0])
            let score = decided[h, 1], probability = decided[h, 2], relative = decided[h, 3]
            log.add(decision: decision, redacted: removed, score: score.isNaN ? nil : score)
            onFrame?(StreamingFrame(index: h, speechProbability: perceived[h, 0], decision: decision,
                                    primaryProbability: probability.isNaN ? nil : probability, score: score.isNaN ? nil : score,
                                    relativeLevelDB: relative.isNaN ? nil : relative, redacted: removed))
        }
        // 6. Output: sample frame i needs the mask of every frame within the crossfade after it.
        let maskDone = mask.end == F
        let ramp = renderer.ramp
        var outputLimit: Int
        if ended && maskDone {
            outputLimit = nativeFrames
        } else {
            outputLimit = min(nativeFrames - ramp, Int((Double(mask.end) * renderer.perFrame).rounded(.down)) - ramp)
            while outputLimit > emittedFrames, renderer.frame(of: outputLimit - 1 + ramp) >= mask.end { outputLimit -= 1 }
        }
        if outputLimit > emittedFrames {
            let lastFrame = mask.end - 1
            var r = renderer
            do {  // read-only views, released before `native` is trimmed (so trimming does not copy)
                let samples = native, frames = mask
                r.render(emittedFrames..<outputLimit, totalFrames: ended ? nativeFrames : Int.max,
                         input: { samples.value($0) }, isRemoved: { f in lastFrame < 0 || frames[min(f, lastFrame), 0] != 0 },
                         into: &output)
            }
            renderer = r
            emittedFrames = outputLimit
            native.discard(before: emittedFrames * channelCount)
        }
        // Forget what no stage will read again.
        let hop = AnalysisSignal.hop
        signal.discard(before: min(voiceActivity.oldestSampleNeeded, perceived.end * hop - MelSpectrogram.windowLength) - hop)
        voiceActivity.discard(beforeFrame: perceived.end)
        frameEnergy.discard(before: perceived.end - Self.encoderLevelBehind - 1)
        perceived.discard(before: min(segmented.end, mask.end) - 1)
        let oldestNeeded = min(decided.end, openSegment?.start ?? decided.end)
        segmented.discard(before: oldestNeeded - 1)
        closedSegments = closedSegments.filter { $0.value.lastSpeech >= decided.end }
        // Talkers superseded before any decision still to come could use them.
        if let keep = referenceHistory.lastIndex(where: { $0.frame <= decided.end }), keep > 0 {
            referenceHistory.removeFirst(keep)
            lastScored = nil
        }
        decided.discard(before: min(finals.end - filter.primaryMargin - 1, mask.end - 1))
        finals.discard(before: mask.end - guardFrames - 1)
        mask.discard(before: renderer.frame(of: max(0, emittedFrames - ramp)) - 1)
    }

    /// Stage 1: Silero windows (level-normalised, `VoiceActivityFront`) as samples allow, then frames whose
    /// probability, mel window and encoder gain are complete.
    private mutating func perceive() {
        voiceActivity.advance(signal, ended: ended)
        let hop = AnalysisSignal.hop
        while signal.end >= (frameEnergy.end + 1) * hop || (ended && frameEnergy.end * hop < signal.end) {
            let start = frameEnergy.end * hop
            var e: Float = 0
            for i in start..<(start + hop) { let v = signal.value(i); e += v * v }
            frameEnergy.append(e)
        }
        let F = frameTotal
        while perceived.end < (ended ? F : Int.max) {
            let f = perceived.end
            if !ended && (signal.end < f * hop + MelSpectrogram.windowLength / 2 || frameEnergy.end <= f + Self.encoderLevelAhead) { break }
            guard let probability = voiceActivity.frameProbability(f, ended: ended) else { break }
            melFrame(f)
            var energy: Float = 0
            for b in 0..<MelSpectrogram.bandCount { energy += melRow[b] }
            let level = 10 * Foundation.log10(energy + 1e-10)
            // The encoder takes mel power, so its input is brought to Resemblyzer's level: the RMS of the 0.5 s around
            // the frame (0.4 s before, 0.1 s after) scaled to −30 dBFS (gain ≤ +40 dB). Without this a talker 20 dB
            // down scores cosine 0.70 against themselves (measured with the package).
            var sum: Float = 0, count = 0
            for g in max(frameEnergy.first, f - Self.encoderLevelBehind)...min(frameEnergy.end - 1, f + Self.encoderLevelAhead) {
                sum += frameEnergy[g, 0]; count += 1
            }
            let rms = (sum / Float(max(1, count * hop))).squareRoot()
            let gain = min(Self.encoderLevel / (rms + 1e-9), 100)
            let power = gain * gain
            let row = melRow
            perceived.append { r in
                r[0] = probability
                r[1] = level
                for b in 0..<MelSpectrogram.bandCount { r[2 + b] = row[b] * power }
            }
        }
    }

    /// Encoder input level (RMS, full scale 1): −30 dBFS.
    static let encoderLevel = Float(0.031623)
    /// Frames before and after a frame in its encoder level estimate.
    static let encoderLevelBehind = 39, encoderLevelAhead = 10

    /// The mel frame centred on sample 160·f (librosa's centred framing; zeros past the signal).
    private mutating func melFrame(_ f: Int) {
        let start = f * MelSpectrogram.hop - MelSpectrogram.windowLength / 2
        for i in 0..<MelSpectrogram.windowLength { fftFrame[i] = signal.value(start + i) }
        mel.frame(fftFrame, scratch: &spectrum, into: &melRow)
    }

    /// Stage 2: speech by hysteresis, segments, the encoder stepped over segment speech.
    private mutating func segment(upTo limit: Int, done: Bool) {
        let on = Float(filter.model.speechOnThreshold), off = Float(filter.model.speechOffThreshold)
        while segmented.end < limit {
            let f = segmented.end
            let p = perceived[f, 0]
            let previous = f > 0 && segmented.end > segmented.first ? segmented[f - 1, 0] != 0 : false
            let speech = p >= on || (previous && p >= off)
            if speech {
                let bin = min(levelHistogram.count - 1, max(0, Int((perceived[f, 1] + 140) * 4)))
                levelHistogram[bin] += 1
                levelCount += 1
                gapFrames = 0
                if openSegment == nil {
                    openSegment = (nextSegmentID, f, f, 0, 0)
                    nextSegmentID += 1
                    encoder.reset()
                }
                perceived.values.withUnsafeBufferPointer { all in
                    let offset = (f - perceived.first) * perceived.width + 2
                    encoder.push(melFrame: UnsafeBufferPointer(rebasing: all[offset..<(offset + MelSpectrogram.bandCount)]))
                }
                openSegment!.lastSpeech = f
                openSegment!.speech += 1
                openSegment!.levelSum += perceived[f, 1]
            } else if openSegment != nil {
                gapFrames += 1
            }
            let id = openSegment?.id ?? -1, count = openSegment?.speech ?? 0, levelSum = openSegment?.levelSum ?? 0
            let hidden = encoder.hidden
            let reference = referenceLevel()
            segmented.append { row in
                row[0] = speech ? 1 : 0
                row[1] = Float(id)
                row[2] = Float(count)
                row[3] = levelSum
                row[4] = reference
                var j = Self.hiddenColumn
                for v in hidden { row[j] = v; j += 1 }
            }
            if let open = openSegment, gapFrames >= filter.segmentGapFrames || open.speech >= filter.maximumSegmentSpeechFrames {
                closeSegment(at: f)
            }
        }
        if done, openSegment != nil { closeSegment(at: limit) }
    }

    private mutating func closeSegment(at frame: Int) {
        guard let open = openSegment else { return }
        openSegment = nil
        gapFrames = 0
        closedSegments[open.id] = (open.lastSpeech, frame)
        let embedding = network.speakerEncoder.embedding(hidden: encoder.hidden)
        let summary = SegmentSummary(frames: open.start..<(open.lastSpeech + 1), speechFrames: open.speech, embedding: embedding,
                                     levelDB: open.levelSum / Float(max(1, open.speech)))
        segments.append(summary)
        if !isDominant, !presenceIsFixed, confirmedAt == nil, let reference {
            presenceScore = max(presenceScore, PrivacyFilter.presenceScore(segments, reference: reference,
                                                                           neighbourhood: Float(filter.model.presenceNeighbourhood)))
            if Double(presenceScore) >= filter.model.confirmThreshold {
                confirmedAt = frame
                primaryDecision += String(format: "; confirmed present at %.2f s (presence %.2f ≥ %.2f)", Double(frame) / 100, presenceScore,
                                          filter.model.confirmThreshold)
            }
        }
        if !keepsAllSegments && segments.count > 256 { segments.removeFirst(segments.count - 256) }
        if isDominant && !referenceIsFixed { updateDominantTalker(at: frame) }
    }

    /// Whether frame f's decision has everything it may use: frames up to f + lookahead, or its segment closed.
    private func canDecide(_ f: Int) -> Bool {
        if segmented.end > f + decisionLookaheadFrames { return true }
        let id = Int(segmented[f, 1])
        if id < 0 { return segmented.end > f }
        return closedSegments[id] != nil
    }

    /// The 95th percentile of the speech-frame levels heard so far, dB (0 before any speech).
    private func referenceLevel() -> Float {
        guard levelCount > 0 else { return 0 }
        let target = min(levelCount - 1, Int(Double(levelCount) * 0.95))
        var seen = 0
        for (bin, n) in levelHistogram.enumerated() {
            seen += n
            if seen > target { return Float(bin) / 4 - 140 + 0.125 }
        }
        return 0
    }

    /// Stage 3: the speaker decision of frame f.
    private mutating func decide(_ f: Int) {
        var code = FrameDecision.nonSpeech, score = Float.nan, probability = Float.nan, relative = Float.nan
        let id = Int(segmented[f, 1])
        if segmented[f, 0] != 0 && id >= 0 {
            // The row of the segment's last speech frame within the look-ahead.
            var t = min(segmented.end - 1, f + decisionLookaheadFrames)
            var decidedAt = f + decisionLookaheadFrames
            if let closed = closedSegments[id] { t = min(t, closed.lastSpeech); decidedAt = min(decidedAt, closed.closedAt) }
            while t > f && (Int(segmented[t, 1]) != id || segmented[t, 0] == 0) { t -= 1 }
            let speechFrames = Int(segmented[t, 2])
            code = .uncertain
            var reference = self.reference, statistics = referenceStatistics
            if !referenceIsFixed {
                let current = referenceHistory.last { $0.frame <= decidedAt }
                reference = current?.embedding ?? nil
                statistics = current?.statistics ?? (0, 1)
                if lastScored?.reference != referenceHistory.lastIndex(where: { $0.frame <= decidedAt }) { lastScored = nil }
            }
            if speechFrames >= filter.minimumSpeechFrames, let reference {
                if let last = lastScored, last.segment == id, last.row == t {
                    score = last.score
                } else {
                    let offset = (t - segmented.first) * segmented.width + Self.hiddenColumn
                    let hidden = segmented.values[offset..<(offset + 256)]
                    let embedding = network.speakerEncoder.embedding(hidden: hidden)
                    score = scoring.score(embedding, reference: reference, referenceStatistics: statistics)
                    lastScored = (id, t, score, referenceHistory.lastIndex(where: { $0.frame <= decidedAt }))
                }
                relative = segmented[t, 3] / Float(speechFrames) - segmented[t, 4]
                probability = filter.model.primaryProbability(score: score, relativeLevelDB: relative, dominant: isDominant)
                let keep = Float(isDominant ? filter.model.dominantKeepThreshold : filter.model.keepThreshold)
                let lower = keep - Float(filter.model.uncertainMargin)
                // Enrolled: never above the fusion alone — the score must clear its floor and the talker must have been
                // confirmed present by the time of the decision.
                let admissible = isDominant || (Double(score) >= filter.model.scoreFloor && (confirmedAt.map { $0 <= decidedAt } ?? false))
                code = probability >= keep && admissible ? .primary : (probability < lower ? .other : .uncertain)
            }
        }
        decided.append { row in row[0] = Self.code(code); row[1] = score; row[2] = probability; row[3] = relative }
    }

    /// Streaming dominant mode: re-picks the talker over the closed segments kept (the last 256).
    private mutating func updateDominantTalker(at f: Int) {
        let total = segments.reduce(0) { $0 + $1.speechFrames }
        guard total >= Self.minimumDominantSpeechFrames else { return }
        let talker = PrivacyFilter.dominantTalker(segments, neighbourhood: Float(filter.model.dominantNeighbourhood))
        reference = talker.embedding
        referenceHistory.append((f, talker.embedding, talker.embedding.map { scoring.statistics($0) } ?? (0, 1)))
        primaryConfidence = talker.confidence
        primaryDecision = talker.description + " (streaming: over the last \(Int((Double(total) / 100).rounded())) s of speech)"
        if talker.embedding != nil && decidedAtFrame == nil { decidedAtFrame = f }
    }

    /// Stage 4: possible speech with no primary frame within `primaryMargin` before or `coverageLookahead` after it
    /// becomes uncertain; then the overlap policy says whether uncertain frames are removed.
    private mutating func finalise(_ g: Int) {
        var decision = Self.decision(code: decided[g, 0])
        // Whether a primary frame lies within `primaryMargin` before or the coverage look-ahead after g.
        func nearPrimary() -> Bool {
            let lo = max(decided.first, g - filter.primaryMargin), hi = min(frameTotal - 1, decided.end - 1, g + coverageLookaheadFrames)
            if lo <= hi { for k in lo...hi where decided[k, 0] == Self.code(.primary) { return true } }
            return false
        }
        if decision == .nonSpeech && perceived[g, 0] >= Float(filter.model.possibleSpeechThreshold) && !nearPrimary() {
            decision = .uncertain
        }
        // `--overlap keep` keeps uncertain speech only where it can overlap the primary talker (next to primary frames);
        // uncertain speech away from the primary talker is removed under every policy.
        let removed = decision == .other || (decision == .uncertain && (filter.overlap == .mute || !nearPrimary()))
        finals.append { row in row[0] = Self.code(decision); row[1] = removed ? 1 : 0 }
    }

    private static func code(_ d: FrameDecision) -> Float {
        switch d {
        case .nonSpeech: 0
        case .primary: 1
        case .other: 2
        case .uncertain: 3
        }
    }

    private static func decision(code: Float) -> FrameDecision {
        switch code {
        case 1: .primary
        case 2: .other
        case 3: .uncertain
        default: .nonSpeech
        }
    }
}
