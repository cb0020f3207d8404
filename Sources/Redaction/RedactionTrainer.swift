import AudioCore
import AudioIO
import Foundation
import Learning
public import Perception
public import Manifests

/// Fits the privacy filter's thresholds on mixtures with 10 ms frame labels (`frame_labels` column: one character
/// per frame, `P` primary, `B` background, `O` overlap, `N` none) and enrollment clips (`enrollment` column).
public enum RedactionTrainer {
    /// Frame labels of a mixture (true = speech), or nil when the column is missing or unreadable.
    public static func frameLabels(_ record: ManifestRecord, manifest: Manifest) -> [Character]? {
        guard let relative = record["frame_labels"], !relative.isEmpty else { return nil }
        let path = relative.hasPrefix("/") ? relative : URL(fileURLWithPath: manifest.path).deletingLastPathComponent().appendingPathComponent(relative).path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A file next to the manifest named by a column.
    static func sidecar(_ record: ManifestRecord, column: String, manifest: Manifest) -> String? {
        guard let relative = record[column], !relative.isEmpty else { return nil }
        return relative.hasPrefix("/") ? relative : URL(fileURLWithPath: manifest.path).deletingLastPathComponent().appendingPathComponent(relative).path
    }

    /// The enrollment clip of a talker who is not in `record`'s mixture: that of the next mixture of the split (id order)
    /// whose primary talker is neither this mixture's primary nor one of its background talkers.
    public static func absentEnrollment(for record: ManifestRecord, manifest: Manifest, split: String) -> String? {
        absentEnrollments(for: record, manifest: manifest, split: split, limit: 1).first
    }

    /// Up to `limit` enrollment clips of talkers certainly absent from `record`'s mixture, each of another talker: the
    /// enrollments of the following mixtures of the split (in id order) whose primary talker belongs to none of the casts
    /// present (`casts(of:)`).
    static func absentEnrollments(for record: ManifestRecord, manifest: Manifest, split: String, limit: Int) -> [String] {
        let rows = manifest.records.filter { $0["split"] == split }.sorted { $0.id < $1.id }
        let present = casts(of: record).all
        guard let index = rows.firstIndex(where: { $0.id == record.id }) else { return [] }
        var found: [String] = [], used: Set<String> = []
        for k in 1..<max(1, rows.count) where found.count < limit {
            let other = rows[(index + k) % rows.count]
            if let speaker = other["speaker"], !present.contains(casts(of: other).primary), !used.contains(speaker),
               let path = sidecar(other, column: "enrollment", manifest: manifest) {
                found.append(path); used.insert(speaker)
            }
        }
        return found
    }

    /// The groups of talkers that may be one person (e.g. the characters of one game dub, voiced by a small cast), from
    /// the manifest's `cast` and `background_casts` columns; without them every talker (`speaker`,
    /// `background_speakers`) is its own group. `primary`: the primary talker's; `all`: every talker's in the mixture.
    static func casts(of record: ManifestRecord) -> (primary: String, all: Set<String>) {
        let primary = record["cast"].flatMap { $0.isEmpty ? nil : $0 } ?? record["speaker"] ?? ""
        let background = record["background_casts"] ?? record["background_speakers"] ?? ""
        return (primary, Set([primary] + background.split(separator: " ").map(String.init)))
    }

    /// Absent enrollments per training mixture (presence threshold: more runs, a steadier percentile).
    static let absentRunsPerMixture = 4
    /// Share of the training runs with an absent enrollment in which that talker may be confirmed present (the presence
    /// threshold is their 99th percentile). At 5 % the test mixtures confirmed an absent talker in 12 % of runs and kept
    /// 8.2 % of their speech (retention 86.3 %); privacy mode fails closed first.
    static let absentConfirmationRate = 0.01

    /// Fits the decision parts on the `split` rows of `mixtures` (frame labels; enrollment clips): the networks stay as
    /// they are, so fitting is only choosing how to combine and where to cut their outputs.
    /// - `fusion` / `dominant_fusion`: logistic regression of primary-only vs background-only speech frames on
    ///   [speaker score, relative level] (every other frame), enrolled runs and dominant runs.
    /// - `keep_threshold` / `dominant_keep_threshold`: the fused probability at the frame-level equal error rate.
    /// - `score_floor`: the speaker score that 1 % of primary-only frames fall below.
    /// - `confirm_threshold`, `presence_neighbourhood`: each mixture enrolled with up to four absent talkers (`absentEnrollments`);
    ///   the threshold is the 99th percentile of their presence scores (`PrivacyFilter.presenceScore`), so an absent
    ///   talker is confirmed in ≤ 1 % of them, for the neighbourhood (0.5…0.9) that then confirms most own enrollments.
    /// - `dominant_neighbourhood`: the cosine where segment pairs of one talker and of two talkers are equally often
    ///   misjudged.
    /// Voice activity thresholds stay at Silero's own (0.5 on, 0.35 off) and possible speech at 0.05 (chosen on the train
    /// mixtures of both sets: 0.15 → 0.05 took enrolled leakage 17.4 → 10.0 % for retention 67.5 → 63.5 %).
    /// - Parameter speakers: utterances with a `speaker` column; the `split` rows' talkers make the score-normalisation
    ///   cohort (`SpeakerScoring`). Nil: raw cosines.
    public static func train(mixtures: Manifest, speakers: Manifest?, split: String = "train", perception: PretrainedPerception,
                             log: (String) -> Void = { _ in }) throws(RedactionError) -> RedactionModel {
        // Provisional: every scored frame kept, so each frame's score and level are recorded.
        var model = RedactionModel(keepThreshold: 0, dominantKeepThreshold: 0, scoreFloor: -100, confirmThreshold: -100, training: [:])
        if let speakers {
            model.cohort = cohort(speakers, split: split, filter: PrivacyFilter(model: model, perception: perception))
            log("score-normalisation cohort: \(model.cohort.count) talkers")
        }
        var items: [(record: ManifestRecord, audio: AudioBuffer, labels: [Character], enrollment: Enrollment?, absent: [Enrollment])] = []
        let probe = PrivacyFilter(model: model, perception: perception)
        func enroll(_ path: String?) -> Enrollment? {
            guard let path, let clip = try? AudioFileReader.read(path: path) else { return nil }
            return try? probe.enroll([(path, clip)])
        }
        for record in mixtures.records where record["split"] == split {
            guard let labels = frameLabels(record, manifest: mixtures), let audio = try? AudioFileReader.read(path: record.resolvedPath) else { continue }
            items.append((record, audio, labels, enroll(sidecar(record, column: "enrollment", manifest: mixtures)),
                          absentEnrollments(for: record, manifest: mixtures, split: split, limit: Self.absentRunsPerMixture).compactMap(enroll)))
        }
        guard items.count >= 4 else { throw .badTrainingData(detail: "\(items.count) usable mixtures in split \(split); need at least 4") }
        log("fitting on \(items.count) mixtures (\(items.filter { $0.enrollment != nil }.count) with enrollment)")
        // 1. Enrolled: frames' score and level; segment pairs for the neighbourhood.
        var features: [[Float]] = [], labels: [Bool] = [], primaryScores: [Double] = []
        var same: [Double] = [], different: [Double] = []
        for item in items {
            guard let enrollment = item.enrollment, let plan = try? probe.plan(item.audio, mode: .enrolled(enrollment)) else { continue }
            collect(plan, labels: item.labels, features: &features, targets: &labels)
            for f in 0..<min(item.labels.count, plan.primaryScore.count) where item.labels[f] == "P" {
                if let s = plan.primaryScore[f] { primaryScores.append(Double(s)) }
            }
        }
        let (fusion, keep) = try fitFusion(features: features, labels: labels, mode: "enrolled")
        model.fusion = fusion
        model.keepThreshold = keep.threshold
        primaryScores.sort()
        model.scoreFloor = primaryScores[primaryScores.count / 100]
        log(String(format: "enrolled fusion weights score %.2f, level %.2f; keep threshold %.3f (frame EER %.1f %% over %d frames); score floor %.3f",
                   fusion.weights[0], fusion.weights[1], keep.threshold, keep.rate * 100, features.count, model.scoreFloor))
        // 2. Presence: the segments of each mixture, to score presence with its own enrollment and an absent talker's.
        func segments(_ audio: AudioBuffer, _ enrollment: Enrollment) throws(RedactionError) -> [RedactionEngine.SegmentSummary] {
            var engine = try RedactionEngine(filter: probe, mode: .enrolled(enrollment), redactor: Redactor(),
                                             sampleRate: audio.sampleRate, channelCount: audio.channelCount,
                                             decisionLookaheadFrames: PrivacyFilter.wholeSegment, coverageLookaheadFrames: 10, lookaheadBudget: nil)
            engine.keepsAllSegments = true
            var discarded: [Float] = []
            try audio.samples.withUnsafeBufferPointer { (p) throws(RedactionError) in try engine.process(p, appendingTo: &discarded) }
            try engine.finish(appendingTo: &discarded)
            return engine.segments
        }
        // The neighbourhood first (segment pairs), since presence uses it.
        // 3. Dominant: segment pairs → neighbourhood; then frames → fusion and threshold.
        for item in items {
            var engine = try RedactionEngine(filter: probe, mode: .dominant, fixedDominantTalker: (nil, 0, ""), redactor: Redactor(),
                                             sampleRate: item.audio.sampleRate, channelCount: item.audio.channelCount,
                                             decisionLookaheadFrames: PrivacyFilter.wholeSegment, coverageLookaheadFrames: 10, lookaheadBudget: nil)
            engine.keepsAllSegments = true
            var discarded: [Float] = []
            try item.audio.samples.withUnsafeBufferPointer { (p) throws(RedactionError) in try engine.process(p, appendingTo: &discarded) }
            try engine.finish(appendingTo: &discarded)
            let labelled = engine.segments.filter { $0.speechFrames >= 50 }.compactMap { s -> (embedding: [Float], label: Character)? in
                let labels = s.frames.compactMap { $0 < item.labels.count ? item.labels[$0] : nil }
                let p = labels.filter { $0 == "P" }.count, b = labels.filter { $0 == "B" }.count
                if Double(p) >= 0.8 * Double(labels.count) { return (s.embedding, "P") }
                if Double(b) >= 0.8 * Double(labels.count) { return (s.embedding, "B") }
                return nil
            }
            for i in labelled.indices where labelled[i].label == "P" {
                for j in labelled.indices where j != i {
                    let c = Double(SpeakerScoring.cosine(labelled[i].embedding, labelled[j].embedding))
                    if labelled[j].label == "P" { if j > i { same.append(c) } } else { different.append(c) }
                }
            }
        }
        guard let neighbourhood = equalErrorThreshold(positives: same, negatives: different) else {
            throw .badTrainingData(detail: "too few labelled segments to fit the dominant neighbourhood")
        }
        model.dominantNeighbourhood = neighbourhood.threshold
        var absentRuns: [([RedactionEngine.SegmentSummary], [Float])] = [], presentRuns: [([RedactionEngine.SegmentSummary], [Float])] = []
        for item in items {
            // A recording's segments and their embeddings do not depend on the enrollment: found once, scored against each.
            guard let first = item.enrollment ?? item.absent.first else { continue }
            let found = try segments(item.audio, first)
            for absent in item.absent { absentRuns.append((found, absent.embedding)) }
            if let own = item.enrollment { presentRuns.append((found, own.embedding)) }
        }
        guard absentRuns.count >= 4, !presentRuns.isEmpty else { throw .badTrainingData(detail: "too few mixtures for the presence check") }
        // The presence neighbourhood and threshold: the threshold is the 99th percentile of the absent runs' scores (an
        // absent talker confirmed in ≤ 1 % of recordings); the neighbourhood is the one that then confirms most own enrollments.
        var bestChoice: (neighbourhood: Double, threshold: Double, confirmed: Int)?
        for candidate in stride(from: 0.5, through: 0.9, by: 0.05) {
            let absentScores = absentRuns.map { Double(PrivacyFilter.presenceScore($0.0, reference: $0.1, neighbourhood: Float(candidate))) }.sorted()
            let threshold = absentScores[min(absentScores.count - 1, Int((Double(absentScores.count) * (1 - Self.absentConfirmationRate)).rounded(.up)) - 1)]
            let confirmed = presentRuns.filter { Double(PrivacyFilter.presenceScore($0.0, reference: $0.1, neighbourhood: Float(candidate))) >= threshold }.count
            log(String(format: "presence neighbourhood %.2f: threshold %.3f confirms %d of %d own enrollments", candidate, threshold, confirmed, presentRuns.count))
            if bestChoice == nil || confirmed > bestChoice!.confirmed { bestChoice = (candidate, threshold, confirmed) }
        }
        model.presenceNeighbourhood = bestChoice!.neighbourhood
        model.confirmThreshold = bestChoice!.threshold
        log(String(format: "confirm threshold %.3f with presence neighbourhood %.2f: an absent talker is confirmed in ≤ 1 %% of %d training runs, "
                   + "%d of %d mixtures confirm their own enrollment", model.confirmThreshold, model.presenceNeighbourhood, absentRuns.count,
                   bestChoice!.confirmed, presentRuns.count))
        features = []; labels = []
        let dominantProbe = PrivacyFilter(model: model, perception: perception)
        for item in items {
            guard let plan = try? dominantProbe.plan(item.audio, mode: .dominant) else { continue }
            collect(plan, labels: item.labels, features: &features, targets: &labels)
        }
        let (dominantFusion, dominantKeep) = try fitFusion(features: features, labels: labels, mode: "dominant")
        model.dominantFusion = dominantFusion
        model.dominantKeepThreshold = dominantKeep.threshold
        log(String(format: "dominant neighbourhood %.3f (segment-pair EER %.1f %%); dominant fusion weights score %.2f, level %.2f; "
                   + "keep threshold %.3f (frame EER %.1f %%)", neighbourhood.threshold, neighbourhood.rate * 100, dominantFusion.weights[0],
                   dominantFusion.weights[1], dominantKeep.threshold, dominantKeep.rate * 100))
        model.training = ["corpus": URL(fileURLWithPath: mixtures.path).lastPathComponent, "split": split, "mixtures": String(items.count),
                          "networks": "silero-vad 6.2.3 (silero_vad_16k.safetensors), resemblyzer 0.1.4 GE2E"]
        return model
    }

    /// [score, relative level] of every other primary-only (true) and background-only (false) scored frame of a plan.
    static func collect(_ plan: RedactionPlan, labels: [Character], features: inout [[Float]], targets: inout [Bool]) {
        for f in stride(from: 0, to: min(labels.count, plan.primaryScore.count), by: 2) where labels[f] == "P" || labels[f] == "B" {
            guard let score = plan.primaryScore[f], let level = plan.relativeLevelDB[f] else { continue }
            features.append([score, level])
            targets.append(labels[f] == "P")
        }
    }

    /// A fusion of [score, relative level] fitted on `features`/`labels`, with its threshold at the equal error rate.
    static func fitFusion(features: [[Float]], labels: [Bool], mode: String) throws(RedactionError)
        -> (fusion: LogisticRegression, keep: (threshold: Double, rate: Double)) {
        let fusion: LogisticRegression
        do { fusion = try LogisticRegression.train(features: features, labels: labels) } catch { throw RedactionError(error) }
        guard let keep = fusedThreshold(fusion, features: features, labels: labels) else {
            throw .badTrainingData(detail: "too few labelled primary and background speech frames to fit the \(mode) threshold")
        }
        return (fusion, keep)
    }

    /// The fused probability at the equal error rate of `features`/`labels`, and that rate.
    static func fusedThreshold(_ fusion: LogisticRegression, features: [[Float]], labels: [Bool]) -> (threshold: Double, rate: Double)? {
        let p = features.map { 1 / (1 + Foundation.exp(-fusion.score($0))) }
        return equalErrorThreshold(positives: zip(p, labels).filter { $0.1 }.map(\.0), negatives: zip(p, labels).filter { !$0.1 }.map(\.0))
    }

    /// One mean GE2E embedding per talker of the `split` rows (bona fide, up to 8 utterances each, id order).
    static func cohort(_ speakers: Manifest, split: String, filter: PrivacyFilter) -> [[Float]] {
        var bySpeaker: [String: [ManifestRecord]] = [:]
        for record in speakers.records.sorted(by: { $0.id < $1.id })
        where record["split"] == split && record["label"] != "spoof" && !(record["speaker"] ?? "").isEmpty {
            bySpeaker[record["speaker"]!, default: []].append(record)
        }
        var cohort: [[Float]] = []
        for (_, records) in bySpeaker.sorted(by: { $0.key < $1.key }) {
            var sum = [Float](repeating: 0, count: 256), count = 0
            for record in records where count < 8 {
                guard let audio = try? AudioFileReader.read(path: record.resolvedPath), let signal = try? AnalysisSignal.make(audio),
                      let e = filter.embedding(signal), e.speechSeconds >= 0.5 else { continue }
                for j in 0..<256 { sum[j] += e.embedding[j] }
                count += 1
            }
            if count >= 3 { cohort.append(SpeakerEncoder.normalized(sum)) }
        }
        return cohort
    }

    /// The threshold where the share of positives below it equals the share of negatives at or above it, and that rate.
    static func equalErrorThreshold(positives: [Double], negatives: [Double]) -> (threshold: Double, rate: Double)? {
        guard positives.count >= 20, negatives.count >= 20 else { return nil }
        let p = positives.sorted(), n = negatives.sorted()
        var best: (threshold: Double, rate: Double, gap: Double)?
        let lo = min(p.first!, n.first!), hi = max(p.last!, n.last!)
        for step in 0...800 {
            let t = lo + (hi - lo) * Double(step) / 800
            let miss = Double(p.partitioningIndex { $0 >= t }) / Double(p.count)
            let falseAlarm = 1 - Double(n.partitioningIndex { $0 >= t }) / Double(n.count)
            let gap = abs(miss - falseAlarm)
            if best == nil || gap < best!.gap { best = (t, (miss + falseAlarm) / 2, gap) }
        }
        return best.map { ($0.threshold, $0.rate) }
    }
}

extension Array where Element == Double {
    /// First index whose element satisfies `predicate` (the array must be partitioned by it).
    func partitioningIndex(where predicate: (Double) -> Bool) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if predicate(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
