import AudioCore
import AudioIO
public import Manifests

/// A problem found with one manifest record.
public struct ItemProblem: Sendable, Hashable, Codable {
    /// Record id.
    public var id: String
    /// Line of the record in the manifest.
    public var line: Int
    /// What is wrong, in one sentence.
    public var problem: String
}

/// The outcome of validating a corpus manifest.
public struct CorpusValidationReport: Sendable, Codable {
    /// The manifest checked.
    public var manifest: String
    /// Records in the manifest.
    public var records: Int
    /// Records whose audio exists, decodes and has the stated duration.
    public var verified: Int
    /// Total decoded audio, seconds.
    public var totalSeconds: Double
    /// Per-record problems (missing file, decode error, duration mismatch, missing transcript, bad label).
    public var itemProblems: [ItemProblem]
    /// Corpus-level problems (speakers or engines shared across splits).
    public var splitProblems: [String]

    /// Whether nothing is wrong.
    public var passed: Bool { itemProblems.isEmpty && splitProblems.isEmpty }
}

/// Checks that a built corpus is what its manifest says.
public enum CorpusValidator {
    /// Validates every record and the split design of `manifest`.
    ///
    /// - Every `path` exists and decodes to the end; its decoded duration matches `duration`
    ///   (seconds) within `durationTolerance` seconds when that column exists.
    /// - `label` is `bonafide` or `spoof` when present; `text` is non-empty when the column exists
    ///   (except for records whose `kind` is `music` or whose `speech` is `no`: non-speech has no transcript).
    /// - Splits (`split` column, values `train`/`dev`/`test`): bona fide speakers appear in one
    ///   split only; spoof engines of `test` appear in no other split. Rows with other split
    ///   values (e.g. `extra`) are ignored here.
    /// - Parameter jobs: files decoded concurrently (≥ 1).
    public static func validate(_ manifest: Manifest, durationTolerance: Double = 0.05, jobs: Int = 2) async -> CorpusValidationReport {
        let hasDuration = manifest.columns.contains("duration")
        let hasText = manifest.columns.contains("text")
        let results = await boundedConcurrentMap(manifest.records, jobs: jobs) { record -> (Double?, [String]) in
            var problems: [String] = []
            var seconds: Double?
            do {
                let reader = try AudioFileReader(path: record.resolvedPath)
                let frames = try reader.forEachBlock(blockFrames: 65_536) { _ in }
                seconds = Double(frames) / Double(reader.info.sampleRate)
            } catch {
                problems.append(String(describing: error))
            }
            if let seconds, hasDuration {
                if let stated = record["duration"].flatMap(Double.init) {
                    if abs(stated - seconds) > durationTolerance {
                        problems.append("duration is \(String(format3(seconds))) s but the manifest says \(String(format3(stated))) s")
                    }
                } else {
                    problems.append("duration '\(record.attributes["duration"] ?? "")' is not a number of seconds")
                }
            }
            if let label = record["label"], label != "bonafide" && label != "spoof" {
                problems.append("label '\(label)'; expected bonafide or spoof")
            }
            if hasText && record["text"] == nil && record["kind"] != "music" && record["speech"] != "no" {
                problems.append("transcript (text) is missing")
            }
            return (seconds, problems)
        }
        var itemProblems: [ItemProblem] = []
        var verified = 0
        var total = 0.0
        for (record, result) in zip(manifest.records, results) {
            total += result.0 ?? 0
            if result.1.isEmpty { verified += 1 }
            itemProblems += result.1.map { ItemProblem(id: record.id, line: record.line, problem: $0) }
        }
        return CorpusValidationReport(manifest: manifest.path, records: manifest.records.count, verified: verified,
                                      totalSeconds: total, itemProblems: itemProblems,
                                      splitProblems: splitProblems(manifest))
    }

    /// Speakers shared between splits and test engines used elsewhere.
    public static func splitProblems(_ manifest: Manifest) -> [String] {
        let splits = ["train", "dev", "test"]
        var speakers: [String: Set<String>] = [:]
        var engines: [String: Set<String>] = [:]
        for r in manifest.records {
            guard let split = r["split"], splits.contains(split) else { continue }
            if r["label"] == "spoof" {
                if let e = r["engine"] { engines[e, default: []].insert(split) }
            } else if let s = r["speaker"] {
                speakers[s, default: []].insert(split)
            }
        }
        var problems: [String] = []
        for (speaker, used) in speakers.sorted(by: { $0.key < $1.key }) where used.count > 1 {
            problems.append("speaker '\(speaker)' appears in splits \(used.sorted().joined(separator: ", "))")
        }
        for (engine, used) in engines.sorted(by: { $0.key < $1.key }) where used.contains("test") && used.count > 1 {
            problems.append("test engine '\(engine)' also appears in \(used.subtracting(["test"]).sorted().joined(separator: ", "))")
        }
        return problems
    }
}

func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
}
