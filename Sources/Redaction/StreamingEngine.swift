import AudioCore
import DSP
import Foundation
import Learning

/// The state and stages behind `StreamingPrivacyFilter` (a value type, so its hot loops run without dynamic
/// exclusivity checks).
struct StreamingEngine {
    /// The trained parts and policies (guards, overlap, possible-speech threshold, margins).
    let filter: PrivacyFilter
    /// How removed audio is replaced.
    let redactor: Redactor
    /// Input sample rate, hertz.
    let sampleRate: Double
    /// Interleaved input channels.
    let channelCount: Int
    /// Frames after a frame its speaker decision may look at .
    let decisionLookaheadFrames: Int
    /// Frames after a possible-speech frame searched for a primary frame that covers it .
    let coverageLookaheadFrames: Int
    /// Frames before a frame whose speech enters its speaker embedding .
    let embeddingHistoryFrames: Int
    /// Speech heard before dominant mode decides, frames (default 300 = 3 s).
    let minimumDominantSpeechFrames = 300
    /// Called for every frame as it is finalised, in order.
    var onFrame: ((StreamingFrame) -> Void)?
    /// The primary-talker decision as it stands, in words.
    var primaryDecision: String
    /// Its confidence (0…1).
    var primaryConfidence: Double
    /// The log of what has been removed so far.
    var log = RedactionLogBuilder()

    private let isDominant: Bool
    private var reference: [Float]?
    private let resampler: Resampler?
    private let resamplerDelaySeconds: Double
    var analyzer = StreamingFrameAnalyzer()
    private var signal = SampleHistory()
    private var ended = false
    private var frameTotal = Int.max
    private var base = FrameTable(width: StreamingFrameAnalyzer.baseWidth)
    private var cepstra = FrameTable(width: 20)
    private var deltas = FrameTable(width: 20)
    private var speech = FrameTable(width: 1)
    /// Per decided frame: decision code, primary probability, score (NaN when absent).
    private var decided = FrameTable(width: 3)
    /// Per finalised frame: final decision code, removed (0/1).
    private var finals = FrameTable(width: 2)
    private var mask = FrameTable(width: 1)
    private var native = SampleHistory()  // interleaved input not yet emitted
    private var nativeFrames = 0, emittedFrames = 0
    private var renderer: MaskRenderer
    // Running 95th percentile of speech-frame levels: 0.25 dB bins over −140…+10 dB.
    private var levelHistogram = [Int](repeating: 0, count: 600)
    private var levelCount = 0, levelFrontier = 0
    // Dominant mode: recent window embeddings.
    private var reservoir: [(embedding: [Float], weight: Double, level: Float)] = []
    private var scoreMean = 0.0, scoreSpread = 1.0
    private var decidedAtFrame: Int?
    // Scratch.
    private var activityRow = [Float](repeating: 0, count: VoiceActivityFeatures.dimension)
    private var levels: [Float] = []
    private var sums = [Double](repeating: 0, count: SpeakerFeatures.frameDimension)
    private var squares = [Double](repeating: 0, count: SpeakerFeatures.frameDimension)
    private var statistics = [Float](repeating: 0, count: SpeakerFeatures.statisticsDimension)
    private var mono: [Float] = []
    private var resampled: [Float] = []

    /// Creates a stream.
    /// - Parameters:
    ///   - filter: trained parts and policies.
    ///   - mode: enrolled (reference embedding) or dominant.
    ///   - redactor: replacement method, attenuation and crossfade (≤ 10 ms keeps the look-ahead ≤ 0.5 s).
    ///   - sampleRate: input rate, hertz (≥ 4 kHz).
    ///   - channelCount: interleaved input channels (≥ 1).
    /// - Throws: `RedactionError.unsupportedAudio` for a rate or channel count it cannot analyse.
    init(filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor = Redactor(), sampleRate: Double, channelCount: Int,
                decisionLookaheadFrames: Int, coverageLookaheadFrames: Int, embeddingHistoryFrames: Int) throws(RedactionError) {
        guard channelCount >= 1, sampleRate >= 4_000 else {
            throw .unsupportedAudio(detail: "\(channelCount) channels at \(sampleRate) Hz")
        }
        self.filter = filter
        self.redactor = redactor
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.coverageLookaheadFrames = max(0, coverageLookaheadFrames)
        self.embeddingHistoryFrames = max(1, embeddingHistoryFrames)
        renderer = MaskRenderer(redactor: redactor, sampleRate: sampleRate, channelCount: channelCount)
        switch mode {
        case let .enrolled(enrollment):
            isDominant = false
            reference = enrollment.embedding
            primaryDecision = String(format: "enrolled talker (%.1f s of enrollment speech)", enrollment.speechSeconds)
            primaryConfidence = 1
        case .dominant:
            isDominant = true
            primaryDecision = "no dominant talker yet: too little speech heard"
            primaryConfidence = 0
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
        // The speaker decision's look-ahead gives way to the resampler's so that the total stays within 0.5 s.
        let fixed = Double(VoiceActivityFeatures.lookaheadFrames + self.coverageLookaheadFrames + filter.guardFrames + 1) / 100
            + Double(StreamingFrameAnalyzer.samplesAhead - AnalysisSignal.hop) / AnalysisSignal.sampleRate
            + Double(renderer.ramp) / sampleRate + resamplerDelaySeconds
        self.decisionLookaheadFrames = max(0, min(decisionLookaheadFrames, Int(((Self.lookaheadBudget - fixed) * 100 + 1e-9).rounded(.down))))
    }

    /// The look-ahead the defaults keep within, seconds.
    static let lookaheadBudget = 0.5

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

    /// How far the output lags the input, seconds: the voice-activity context (250 ms), the speaker decision's and the
    /// possible-speech rule's look-ahead, the guard band, the analysis windows (30 ms), one frame of granularity,
    /// the crossfade and the resampler's delay.
    var lookaheadSeconds: Double {
        let frames = VoiceActivityFeatures.lookaheadFrames + decisionLookaheadFrames + coverageLookaheadFrames + filter.guardFrames + 1
        return Double(frames) / 100 + Double(StreamingFrameAnalyzer.samplesAhead - AnalysisSignal.hop) / AnalysisSignal.sampleRate
            + Double(renderer.ramp) / sampleRate + resamplerDelaySeconds
    }

    /// The largest lag of the output behind the input seen so far, seconds (input pushed minus output emitted).
    var measuredLagSeconds = 0.0

    /// Pushes a block of interleaved samples and appends the redacted samples that are now final to `output`.
    /// - Throws: `RedactionError.unsupportedAudio` when the resampler fails, or `.invalidInput` after `finish`.
    mutating func process(_ interleaved: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(RedactionError) {
        guard !ended else { throw .unsupportedAudio(detail: "audio pushed after the end of the stream") }
        let frames = interleaved.count / channelCount
        guard frames > 0 else { return }
        native.append(contentsOf: UnsafeBufferPointer(rebasing: interleaved[0..<(frames * channelCount)]))
        nativeFrames += frames
        mono.removeAll(keepingCapacity: true)
        if channelCount == 1 {
            mono.append(contentsOf: UnsafeBufferPointer(rebasing: interleaved[0..<frames]))
        } else {
            let scale = 1 / Float(channelCount)
            for i in 0..<frames {
                var s: Float = 0
                for c in 0..<channelCount { s += interleaved[i * channelCount + c] }
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
    }

    /// Floats held in the stream's history buffers (for tests of the memory bound).
    var retainedValues: Int {
        signal.values.count + base.values.count + cepstra.values.count + deltas.values.count + speech.values.count
            + decided.values.count + finals.values.count + mask.values.count + native.values.count
    }

    // MARK: - Stages

    /// Runs every stage as far as its inputs allow, then emits the samples whose mask is final.
    private mutating func advance(into output: inout [Float]) {
        let hop = AnalysisSignal.hop
        let F = frameTotal
        // 1. Frame analysis: frame g needs samples up to g·160 + 480.
        let baseLimit = ended ? F : (signal.end >= StreamingFrameAnalyzer.samplesAhead ? (signal.end - StreamingFrameAnalyzer.samplesAhead) / hop + 1 : 0)
        analyzer.analyse(base.end..<max(base.end, baseLimit), of: signal, base: &base, cepstra: &cepstra)
        let baseDone = ended && base.end == F
        // 2. Cepstral Δ (±2 frames, edges repeated).
        let deltaLimit = baseDone ? F : max(0, cepstra.end - 2)
        while deltas.end < deltaLimit {
            let g = deltas.end
            deltas.append { row in
                for n in 1...2 {
                    let ahead = min(F - 1, g + n), behind = max(0, g - n)
                    for j in 0..<20 { row[j] += Float(n) * (cepstra[ahead, j] - cepstra[behind, j]) }
                }
                for j in 0..<20 { row[j] *= 0.1 }
            }
        }
        // 3. Voice activity: frame g needs base values up to g + 25.
        let reach = VoiceActivityFeatures.lookaheadFrames
        let vadLimit = baseDone ? F : max(0, base.end - reach)
        while speech.end < vadLimit {
            let g = speech.end
            activityProbability(g)
        }
        let vadDone = baseDone && speech.end == F
        // 4. Speaker decisions: frame f needs speech probabilities and Δ up to f + decisionLookahead.
        let decisionLimit = vadDone && deltas.end == F ? F : max(0, min(speech.end, deltas.end) - decisionLookaheadFrames)
        while decided.end < decisionLimit { decide(decided.end) }
        // 5. Possible speech not covered by the primary talker: needs decisions up to f + coverageLookahead.
        let finalLimit = decided.end == F ? F : max(0, decided.end - coverageLookaheadFrames)
        while finals.end < finalLimit { finalise(finals.end) }
        // 6. Guard bands: frame h is removed when any frame within guardFrames is.
        let guardFrames = filter.guardFrames
        let maskLimit = finals.end == F ? F : max(0, finals.end - guardFrames)
        while mask.end < maskLimit {
            let h = mask.end
            var removed = false
            for g in max(0, h - guardFrames)...min(F - 1, h + guardFrames) where finals[g, 1] != 0 { removed = true; break }
            mask.append(removed ? 1 : 0)
            let decision = Self.decision(code: finals[h, 0])
            let probability = decided[h, 1], score = decided[h, 2]
            log.add(decision: decision, redacted: removed, score: score.isNaN ? nil : score)
            onFrame?(StreamingFrame(index: h, speechProbability: speech[h, 0], decision: decision,
                                    primaryProbability: probability.isNaN ? nil : probability, score: score.isNaN ? nil : score, redacted: removed))
        }
        // 7. Output: sample frame i needs the mask of every frame within the crossfade after it.
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
        signal.discard(before: base.end * hop - 2 * hop - AnalysisSignal.frameLength)
        base.discard(before: min(speech.end - reach - 1, decided.end - embeddingHistoryFrames - 1))
        cepstra.discard(before: min(deltas.end - 3, decided.end - embeddingHistoryFrames - 1))
        deltas.discard(before: decided.end - embeddingHistoryFrames - 1)
        speech.discard(before: min(decided.end - embeddingHistoryFrames - 1, mask.end - 1))
        decided.discard(before: min(finals.end - filter.primaryMargin - 1, mask.end - 1))
        finals.discard(before: mask.end - guardFrames - 1)
        mask.discard(before: renderer.frame(of: max(0, emittedFrames - ramp)) - 1)
    }

    /// Speech probability of frame g from the base values of frames g − 25 … g + 25.
    private mutating func activityProbability(_ g: Int) {
        let b = VoiceActivityFeatures.baseDimension
        let last = min(frameTotal, base.end) - 1
        for j in 0..<b { activityRow[j] = base[g, j] }
        for block in 1...2 {
            let reach = block == 1 ? 5 : VoiceActivityFeatures.lookaheadFrames
            let lo = max(0, g - reach), hi = min(last, g + reach)
            let n = Float(hi - lo + 1)
            for j in 0..<b {
                var s: Double = 0
                for k in lo...hi { s += Double(base[k, j]) }
                activityRow[block * b + j] = Float(s) / n
            }
        }
        let z = filter.model.voiceActivity.score(activityRow)
        speech.append(Float(1 / (1 + Foundation.exp(-z))))
    }

    private func isSpeech(_ g: Int) -> Bool { Double(speech[g, 0]) >= filter.model.speechThreshold }

    /// The speaker decision of frame f from the speech in f − embeddingHistory … f + decisionLookahead.
    private mutating func decide(_ f: Int) {
        let bands = VoiceActivityFeatures.bands
        let w0 = max(0, f - embeddingHistoryFrames), w1 = min(frameTotal, f + decisionLookaheadFrames + 1)
        // Running speech level reference over every speech frame up to w1.
        while levelFrontier < w1 {
            if isSpeech(levelFrontier) {
                levelHistogram[min(599, max(0, Int((base[levelFrontier, bands + 3] + 140) * 4)))] += 1
                levelCount += 1
            }
            levelFrontier += 1
        }
        let frameIsSpeech = isSpeech(f)
        let updatesReservoir = isDominant && f % 50 == 0
        var code = FrameDecision.nonSpeech, probability = Float.nan, score = Float.nan
        if frameIsSpeech || updatesReservoir {
            for j in 0..<sums.count { sums[j] = 0; squares[j] = 0 }
            var count = 0
            var high: Float = 0, low: Float = 0
            levels.removeAll(keepingCapacity: true)
            for g in w0..<w1 where isSpeech(g) {
                for j in 0..<20 {
                    let c = Double(cepstra[g, j])
                    let d = Double(deltas[g, j])
                    sums[j] += c; squares[j] += c * c
                    sums[20 + j] += d; squares[20 + j] += d * d
                }
                high += base[g, bands + 4]; low += base[g, bands + 5]
                if g >= f - decisionLookaheadFrames { levels.append(base[g, bands + 3]) }
                count += 1
            }
            if levels.isEmpty { for g in w0..<w1 where isSpeech(g) { levels.append(base[g, bands + 3]) } }
            levels.sort()
            let relativeLevel = (levels.isEmpty ? -120 : levels[levels.count / 2]) - referenceLevel()
            let tilt = 10 * Foundation.log10((high + 1e-12) / (low + 1e-12))
            var embedding: [Float]?
            if count >= filter.minimumChunkSpeech {
                let n = Double(count)
                for j in 0..<40 {
                    let mean = sums[j] / n
                    statistics[j] = Float(mean)
                    statistics[40 + j] = Float((max(0, squares[j] / n - mean * mean)).squareRoot())
                }
                embedding = filter.model.speakerProjection.project(statistics)
            }
            if updatesReservoir, let embedding, count >= 30 { updateDominantTalker(embedding, weight: Double(count), level: relativeLevel, at: f) }
            if frameIsSpeech {
                code = .uncertain
                if let embedding, let reference {
                    let cosine = zip(embedding, reference).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                    score = isDominant ? Float((Double(cosine) - scoreMean) / scoreSpread) : cosine
                    probability = filter.model.primaryProbability(score: score, relativeLevelDB: relativeLevel, tiltDB: tilt, dominant: isDominant)
                    let keep = isDominant ? filter.model.dominantKeepThreshold : filter.model.keepThreshold
                    let lower = max(0, keep - filter.model.uncertainMargin)
                    code = Double(probability) >= keep ? .primary : (Double(probability) < lower ? .other : .uncertain)
                }
            }
        }
        decided.append { row in row[0] = Self.code(code); row[1] = probability; row[2] = score }
    }

    /// The 95th percentile of the speech levels heard so far, dB (0 before any speech).
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

    /// Dominant mode: adds a window embedding (at most one per 0.5 s; the last 256 are kept) and re-picks the talker.
    private mutating func updateDominantTalker(_ embedding: [Float], weight: Double, level: Float, at f: Int) {
        reservoir.append((embedding, weight, level))
        if reservoir.count > 256 { reservoir.removeFirst(reservoir.count - 256) }
        let total = reservoir.reduce(0.0) { $0 + $1.weight }
        guard total >= Double(minimumDominantSpeechFrames) else { return }
        let (talker, confidence, description) = PrivacyFilter.dominantTalker(reservoir.map { $0.embedding }, weights: reservoir.map(\.weight),
                                                                              levels: reservoir.map(\.level), neighbourhood: filter.dominantNeighbourhood)
        reference = talker
        primaryConfidence = confidence
        primaryDecision = description + " (streaming: over the last \(Int((total / 100).rounded())) s of speech windows)"
        guard let talker else { return }
        if decidedAtFrame == nil { decidedAtFrame = f }
        var sum = 0.0, squares = 0.0
        for r in reservoir {
            let c = Double(zip(r.embedding, talker).reduce(Float(0)) { $0 + $1.0 * $1.1 })
            sum += r.weight * c; squares += r.weight * c * c
        }
        scoreMean = sum / total
        scoreSpread = max(0.05, (max(0, squares / total - scoreMean * scoreMean)).squareRoot())
    }

    /// Possible speech (probability ≥ `possibleSpeechThreshold`) with no primary frame within `primaryMargin` before
    /// or `coverageLookahead` after it becomes uncertain; then the overlap policy says whether it is removed.
    private mutating func finalise(_ g: Int) {
        var decision = Self.decision(code: decided[g, 0])
        if decision == .nonSpeech && speech[g, 0] >= filter.possibleSpeechThreshold {
            let lo = max(0, g - filter.primaryMargin), hi = min(frameTotal - 1, g + coverageLookaheadFrames)
            var covered = false
            for k in lo...hi where decided[k, 0] == Self.code(.primary) { covered = true; break }
            if !covered { decision = .uncertain }
        }
        let removed = decision == .other || (decision == .uncertain && filter.overlap == .mute)
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
