import AudioCore
import AudioIO
import Foundation
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

    /// Fits the thresholds on the `split` rows of `mixtures` (frame labels; enrolled mode needs an `enrollment` clip):
    /// the networks stay as they are, so fitting is only choosing where to cut their scores.
    /// - `dominant_neighbourhood`: the cosine where segments of one talker and segments of two talkers are equally often
    ///   misjudged (segment pairs: both mostly primary vs one primary and one mostly background).
    /// - `keep_threshold` (enrolled) and `dominant_keep_threshold`: the GE2E cosine at which the share of primary-only
    ///   speech frames scored below it equals the share of background-only speech frames scored above it (the
    ///   frame-level equal error rate of the speaker decision).
    /// Voice activity thresholds stay at Silero's own (0.5 on, 0.35 off) and possible speech at 0.15.
    public static func train(mixtures: Manifest, split: String = "train", perception: PretrainedPerception,
                             log: (String) -> Void = { _ in }) throws(RedactionError) -> RedactionModel {
        var model = RedactionModel(keepThreshold: 0.75, dominantKeepThreshold: 0.75, training: [:])
        var items: [(record: ManifestRecord, audio: AudioBuffer, labels: [Character], enrollment: Enrollment?)] = []
        let probe = PrivacyFilter(model: model, perception: perception)
        for record in mixtures.records where record["split"] == split {
            guard let labels = frameLabels(record, manifest: mixtures), let audio = try? AudioFileReader.read(path: record.resolvedPath) else { continue }
            var enrollment: Enrollment?
            if let path = sidecar(record, column: "enrollment", manifest: mixtures), let clip = try? AudioFileReader.read(path: path) {
                enrollment = try? probe.enroll([(path, clip)])
            }
            items.append((record, audio, labels, enrollment))
        }
        guard items.count >= 4 else { throw .badTrainingData(detail: "\(items.count) usable mixtures in split \(split); need at least 4") }
        log("fitting on \(items.count) mixtures (\(items.filter { $0.enrollment != nil }.count) with enrollment)")
        // 1. Enrolled scores per frame, and segment pairs for the dominant neighbourhood.
        var primary: [Double] = [], background: [Double] = [], same: [Double] = [], different: [Double] = []
        for item in items {
            guard let enrollment = item.enrollment, let plan = try? probe.plan(item.audio, mode: .enrolled(enrollment)) else { continue }
            collect(plan, labels: item.labels, primary: &primary, background: &background)
        }
        for item in items {
            // Segment embeddings with their majority label, from one whole-file survey.
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
                    let c = Double(zip(labelled[i].embedding, labelled[j].embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 })
                    if labelled[j].label == "P" { if j > i { same.append(c) } } else { different.append(c) }
                }
            }
        }
        guard let keep = equalErrorThreshold(positives: primary, negatives: background),
              let neighbourhood = equalErrorThreshold(positives: same, negatives: different) else {
            throw .badTrainingData(detail: "too few labelled speech frames or segments to fit the thresholds")
        }
        model.keepThreshold = keep.threshold
        model.dominantNeighbourhood = neighbourhood.threshold
        log(String(format: "enrolled keep threshold %.3f (frame EER %.1f %% over %d primary / %d background frames); "
                   + "dominant neighbourhood %.3f (segment-pair EER %.1f %%)", keep.threshold, keep.rate * 100, primary.count, background.count,
                   neighbourhood.threshold, neighbourhood.rate * 100))
        // 2. Dominant scores with that neighbourhood.
        primary = []; background = []
        let dominantProbe = PrivacyFilter(model: model, perception: perception)
        for item in items {
            guard let plan = try? dominantProbe.plan(item.audio, mode: .dominant) else { continue }
            collect(plan, labels: item.labels, primary: &primary, background: &background)
        }
        guard let dominantKeep = equalErrorThreshold(positives: primary, negatives: background) else {
            throw .badTrainingData(detail: "dominant mode found no talker in the training mixtures")
        }
        model.dominantKeepThreshold = dominantKeep.threshold
        log(String(format: "dominant keep threshold %.3f (frame EER %.1f %%)", dominantKeep.threshold, dominantKeep.rate * 100))
        model.training = ["corpus": URL(fileURLWithPath: mixtures.path).lastPathComponent, "split": split, "mixtures": String(items.count),
                          "networks": "silero-vad 6.2.3 (silero_vad_16k.safetensors), resemblyzer 0.1.4 GE2E"]
        return model
    }

    /// Scores of primary-only and background-only speech frames of a plan.
    static func collect(_ plan: RedactionPlan, labels: [Character], primary: inout [Double], background: inout [Double]) {
        for f in 0..<min(labels.count, plan.primaryScore.count) {
            guard let score = plan.primaryScore[f] else { continue }
            if labels[f] == "P" { primary.append(Double(score)) } else if labels[f] == "B" { background.append(Double(score)) }
        }
    }

    /// The threshold where the share of positives below it equals the share of negatives at or above it, and that rate.
    static func equalErrorThreshold(positives: [Double], negatives: [Double]) -> (threshold: Double, rate: Double)? {
        guard positives.count >= 20, negatives.count >= 20 else { return nil }
        let p = positives.sorted(), n = negatives.sorted()
        var best: (threshold: Double, rate: Double, gap: Double)?
        for step in 0...400 {
            let t = Double(step) / 400
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
