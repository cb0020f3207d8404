import AudioCore
import AudioIO
import Foundation
public import Manifests

/// Frame-level evaluation of the privacy filter on mixtures with ground-truth frame labels
/// (`P` primary, `B` background, `O` overlap, `N` none; 10 ms each).
public struct RedactionEvaluation: Sendable, Codable {
    /// Mixtures evaluated.
    public var mixtures: Int
    /// Mixtures that failed, with the reason.
    public var failures: [String]
    /// Primary-only frames (10 ms).
    public var primaryFrames: Int
    /// Share of them kept (retention, 0…1; target ≥ 0.95).
    public var primaryRetention: Double
    /// Background-only (non-overlapped) frames.
    public var backgroundFrames: Int
    /// Share of them left unredacted (leakage, 0…1; target ≤ 0.05).
    public var backgroundLeakage: Double
    /// Overlapped frames.
    public var overlapFrames: Int
    /// Share of them left unredacted (0…1).
    public var overlapKept: Double
    /// Non-speech frames.
    public var noneFrames: Int
    /// Share of them removed (0…1).
    public var noneRemoved: Double
    /// ROC-AUC of the voice activity probabilities against the labels (speech = P, B, O), every 5th frame.
    public var voiceActivityAUC: Double
    /// Mixtures with no dominant talker found (dominant mode).
    public var noDominant: Int
    /// Mixtures whose enrolled talker was not confirmed present, so all their speech was removed (enrolled modes; in
    /// absent-enrollment runs this is the desired outcome).
    public var enrolledNotFound: Int = 0
    /// Processing speed, × real time (one process, analysis only).
    public var realTimeFactor: Double
    /// Primary-only frames removed, by why: `other_talker`, `uncertain_speech`, `possible_speech` (sub-threshold voice not
    /// covered by the primary talker), `guard` (margins around removed runs).
    public var primaryLoss: [String: Int] = [:]
    /// Background-only frames left, by why: `attributed_primary` (scored as the primary talker), `not_speech` (the voice
    /// activity detector scored them below the possible-speech threshold, or a primary stretch covered them), `kept_uncertain`.
    public var backgroundLeft: [String: Int] = [:]
    /// Absent-enrollment runs: each mixture enrolled with someone who is not in it; share of all its speech frames
    /// (primary, background, overlap) kept (0…1; target ≤ 0.02). Nil in other runs.
    public var absentSpeechKept: Double?
    /// The same shares per value of the manifest column given as `groupBy` (e.g. `condition`); empty without it.
    public var groups: [String: Group] = [:]

    /// Retention, leakage and overlap kept of the mixtures sharing one value of the grouping column.
    public struct Group: Sendable, Codable {
        /// Mixtures evaluated in the group.
        public var mixtures = 0
        /// Mixtures whose enrolled talker was not confirmed present (enrolled modes).
        public var enrolledNotFound = 0
        /// Primary-only frames (10 ms) and the share kept (0…1).
        public var primaryFrames = 0, primaryRetention = 0.0
        /// Background-only frames and the share left unredacted (0…1).
        public var backgroundFrames = 0, backgroundLeakage = 0.0
        /// Overlapped frames and the share left unredacted (0…1).
        public var overlapFrames = 0, overlapKept = 0.0
        /// Absent-enrollment runs: share of all speech frames kept (0…1); nil in other runs.
        public var absentSpeechKept: Double?

        enum CodingKeys: String, CodingKey {
            case mixtures, enrolledNotFound = "enrolled_not_found"
            case primaryFrames = "primary_frames", primaryRetention = "primary_retention"
            case backgroundFrames = "background_frames", backgroundLeakage = "background_leakage"
            case overlapFrames = "overlap_frames", overlapKept = "overlap_kept", absentSpeechKept = "absent_speech_kept"
        }
    }

    enum CodingKeys: String, CodingKey {
        case mixtures, failures
        case primaryFrames = "primary_frames", primaryRetention = "primary_retention"
        case backgroundFrames = "background_frames", backgroundLeakage = "background_leakage"
        case overlapFrames = "overlap_frames", overlapKept = "overlap_kept"
        case noneFrames = "none_frames", noneRemoved = "none_removed", noDominant = "no_dominant", enrolledNotFound = "enrolled_not_found"
        case voiceActivityAUC = "voice_activity_auc"
        case realTimeFactor = "real_time_factor"
        case primaryLoss = "primary_loss", backgroundLeft = "background_left", absentSpeechKept = "absent_speech_kept"
        case groups
    }

    /// Evaluates `filter` on the rows of `manifest` with `split` (enrolled mode: only rows with an `enrollment` clip),
    /// whole-file analysis or, with `streaming`, the streaming filter (`StreamingPrivacyFilter`, output rendered too).
    /// - Parameter segmentLog: called with one JSON line per scored segment (whole-file runs): mixture, frames, speech
    ///   frames, score, relative level and how many of its frames carry each ground-truth label.
    /// - Parameter absent: enrolled mode with the enrollment of a talker who is not in the mixture (the next mixture of the
    ///   split, in id order, whose primary talker is neither this mixture's primary nor one of its background talkers).
    /// - Parameter groupBy: a manifest column; the result's `groups` break the shares down by its values.
    public static func run(_ filter: PrivacyFilter, manifest: Manifest, split: String, enrolled: Bool, streaming: Bool = false,
                           absent: Bool = false, groupBy: String? = nil, segmentLog: ((String) -> Void)? = nil) -> RedactionEvaluation {
        // Per group: mixtures and (total, kept) frames of P, B, O and of all speech.
        var groupCounts: [String: (mixtures: Int, notFound: Int, kept: [Character: (total: Int, kept: Int)])] = [:]
        var enrolledNotFound = 0
        var absentTotal = 0, absentKept = 0
        var counts = [Character: (total: Int, redacted: Int)]()
        var failures: [String] = [], evaluated = 0, noDominant = 0
        var audioSeconds = 0.0, processing = 0.0
        var speechScores: [Float] = [], silenceScores: [Float] = []
        var primaryLoss: [String: Int] = [:], backgroundLeft: [String: Int] = [:]
        for record in manifest.records where record["split"] == split {
            guard let labels = RedactionTrainer.frameLabels(record, manifest: manifest) else {
                failures.append("\(record.id): no frame labels"); continue
            }
            do {
                let audio = try AudioFileReader.read(path: record.resolvedPath)
                let started = Date()
                let mode: PrimaryTalkerMode
                if enrolled {
                    guard let path = absent ? RedactionTrainer.absentEnrollment(for: record, manifest: manifest, split: split) : RedactionTrainer.sidecar(record, column: "enrollment", manifest: manifest) else { continue }
                    mode = .enrolled(try filter.enroll([(path, try AudioFileReader.read(path: path))]))
                } else {
                    mode = .dominant
                }
                let plan = streaming ? try StreamingPrivacyFilter.plan(audio, filter: filter, mode: mode).plan : try filter.plan(audio, mode: mode)
                processing += Date().timeIntervalSince(started)
                audioSeconds += Double(audio.frameCount) / audio.sampleRate
                if !enrolled && plan.primaryDecision.hasPrefix("no ") { noDominant += 1 }
                let notFound = enrolled && plan.primaryDecision.contains("not found in the recording")
                if notFound { enrolledNotFound += 1 }
                if let segmentLog {
                    for chunk in plan.chunks {
                        var counts: [String: Int] = [:]
                        for f in chunk.frames where f < labels.count { counts[String(labels[f]), default: 0] += 1 }
                        let fields: [String: Any] = ["mixture": record.id, "start": chunk.frames.lowerBound, "end": chunk.frames.upperBound,
                                                     "speech_frames": chunk.speechFrames, "score": chunk.score.map { Double($0) } ?? NSNull(),
                                                     "relative_level_db": Double(chunk.relativeLevelDB), "labels": counts]
                        if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) { segmentLog(String(decoding: data, as: UTF8.self)) }
                    }
                }
                evaluated += 1
                if let groupBy {
                    let key = record[groupBy].flatMap { $0.isEmpty ? nil : $0 } ?? "(none)"
                    var g = groupCounts[key, default: (0, 0, [:])]
                    g.mixtures += 1
                    if notFound { g.notFound += 1 }
                    for f in 0..<min(labels.count, plan.redacted.count) {
                        for label in [labels[f], labels[f] == "N" ? "N" : "S"] {
                            var c = g.kept[label, default: (0, 0)]
                            c.total += 1
                            if !plan.redacted[f] { c.kept += 1 }
                            g.kept[label] = c
                        }
                    }
                    groupCounts[key] = g
                }
                for f in stride(from: 0, to: min(labels.count, plan.speechProbability.count), by: 5) {
                    if labels[f] == "N" { silenceScores.append(plan.speechProbability[f]) } else { speechScores.append(plan.speechProbability[f]) }
                }
                if absent {
                    for f in 0..<min(labels.count, plan.redacted.count) where labels[f] != "N" {
                        absentTotal += 1
                        if !plan.redacted[f] { absentKept += 1 }
                    }
                }
                let speechThreshold = Float(filter.model.speechOnThreshold)
                for f in 0..<min(labels.count, plan.redacted.count) {
                    let d = plan.decisions[f], speech = plan.speechProbability[f] >= speechThreshold
                    if labels[f] == "P" && plan.redacted[f] {
                        let why = d == .other ? "other_talker" : (d == .uncertain ? (speech ? "uncertain_speech" : "possible_speech") : "guard")
                        primaryLoss[why, default: 0] += 1
                    }
                    if labels[f] == "B" && !plan.redacted[f] {
                        backgroundLeft[d == .primary ? "attributed_primary" : (d == .uncertain ? "kept_uncertain" : "not_speech"), default: 0] += 1
                    }
                    var c = counts[labels[f], default: (0, 0)]
                    c.total += 1
                    if plan.redacted[f] { c.redacted += 1 }
                    counts[labels[f]] = c
                }
            } catch {
                failures.append("\(record.id): \(error)")
            }
        }
        func share(_ label: Character, removed: Bool) -> Double {
            guard let c = counts[label], c.total > 0 else { return 0 }
            return Double(removed ? c.redacted : c.total - c.redacted) / Double(c.total)
        }
        let groups = groupCounts.mapValues { g -> Group in
            func kept(_ l: Character) -> (Int, Double) {
                guard let c = g.kept[l], c.total > 0 else { return (0, 0) }
                return (c.total, Double(c.kept) / Double(c.total))
            }
            return Group(mixtures: g.mixtures, enrolledNotFound: g.notFound, primaryFrames: kept("P").0, primaryRetention: kept("P").1,
                         backgroundFrames: kept("B").0, backgroundLeakage: kept("B").1,
                         overlapFrames: kept("O").0, overlapKept: kept("O").1, absentSpeechKept: absent ? kept("S").1 : nil)
        }
        return RedactionEvaluation(mixtures: evaluated, failures: failures,
                                   primaryFrames: counts["P"]?.total ?? 0, primaryRetention: share("P", removed: false),
                                   backgroundFrames: counts["B"]?.total ?? 0, backgroundLeakage: share("B", removed: false),
                                   overlapFrames: counts["O"]?.total ?? 0, overlapKept: share("O", removed: false),
                                   noneFrames: counts["N"]?.total ?? 0, noneRemoved: share("N", removed: true),
                                   voiceActivityAUC: areaUnderCurve(positives: speechScores, negatives: silenceScores),
                                   noDominant: noDominant, enrolledNotFound: enrolledNotFound, realTimeFactor: processing > 0 ? audioSeconds / processing : 0,
                                   primaryLoss: primaryLoss, backgroundLeft: backgroundLeft,
                                   absentSpeechKept: absent ? Double(absentKept) / Double(max(1, absentTotal)) : nil, groups: groups)
    }

    /// ROC-AUC by ranks (ties count half).
    public static func areaUnderCurve(positives: [Float], negatives: [Float]) -> Double {
        guard !positives.isEmpty, !negatives.isEmpty else { return 0 }
        let all = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSum += rank }
            i = j + 1
        }
        let p = Double(positives.count), n = Double(negatives.count)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }
}
