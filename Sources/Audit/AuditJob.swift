import AudioCore
import Foundation
public import Manifests

/// `run.json`: what a results folder holds results of (checked on `--resume` and by `merge`).
public struct AuditRunRecord: Sendable, Codable, Hashable {
    /// Schema name.
    public var schema = "voiceguard-audit-run"
    /// Schema version.
    public var schemaVersion = 1
    /// The program and version.
    public var tool: String
    /// Check name.
    public var check: String
    /// Check settings (e.g. threshold, label column).
    public var checkSettings: [String: String]
    /// Versions of what the check ran.
    public var versions: [String: String]
    /// The manifest.
    public var manifest: AuditSummary.ManifestInfo
    /// The shard this folder holds.
    public var shard: Shard

    enum CodingKeys: String, CodingKey {
        case schema, tool, check, versions, manifest, shard
        case schemaVersion = "schema_version", checkSettings = "check_settings"
    }

    /// Creates a record.
    public init(tool: String, check: String, checkSettings: [String: String], versions: [String: String], manifest: AuditSummary.ManifestInfo, shard: Shard) {
        self.tool = tool
        self.check = check
        self.checkSettings = checkSettings
        self.versions = versions
        self.manifest = manifest
        self.shard = shard
    }
}

/// Folders, resumption, merging and the outputs of an audit.
public enum AuditJob {
    /// Results log file name inside an output folder.
    public static let resultsFile = "results.jsonl"
    /// Run record file name.
    public static let runFile = "run.json"

    /// The attributes an analysis reads: the group-by attributes, the speaker column and the control.
    public static func attributesUsed(by settings: AnalysisSettings) -> Set<String> {
        Set(settings.groupBy + [settings.speakerColumn, settings.control].compactMap { $0 })
    }

    /// The attribute names of the results in a folder (from its first result).
    public static func attributeNames(folder: String) -> Set<String> {
        ResultsLog.attributeNames(path: folder + "/" + resultsFile)
    }

    /// Manifest facts for the record: path as given, SHA-256 of its bytes, rows.
    public static func manifestInfo(_ manifest: Manifest) -> AuditSummary.ManifestInfo {
        let bytes = FileManager.default.contents(atPath: manifest.path) ?? Data()
        return AuditSummary.ManifestInfo(path: manifest.path, sha256: SHA256.hexDigest(Array(bytes)), rows: manifest.records.count)
    }

    /// Creates (or, resuming, checks) the output folder and opens its results log. Resuming requires the same check,
    /// check settings, manifest bytes and shard as the run being continued.
    /// - Throws: `AuditError.outputExists` (results present without `resume`), `.cannotMerge` (resuming a different
    ///   run), `.cannotWrite`.
    public static func prepare(folder: String, record: AuditRunRecord, resume: Bool) throws(AuditError) -> (log: ResultsLog, done: Set<String>) {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: folder, detail: error.localizedDescription)
        }
        let runPath = folder + "/" + runFile, resultsPath = folder + "/" + resultsFile
        if resume, let data = FileManager.default.contents(atPath: runPath) {
            guard let previous = try? JSONDecoder().decode(AuditRunRecord.self, from: data) else {
                throw .badResults(path: runPath, line: 1, detail: "not a VoiceGuard audit run record")
            }
            guard previous.check == record.check, previous.checkSettings == record.checkSettings,
                  previous.manifest.sha256 == record.manifest.sha256, previous.shard == record.shard else {
                throw .cannotMerge(detail: "\(folder) holds a different run (check \(previous.check), manifest sha256 \(previous.manifest.sha256.prefix(12))…, shard \(previous.shard.index)/\(previous.shard.count)); resume it with the same manifest and settings or use another --out")
            }
        }
        let log = try ResultsLog(path: resultsPath, resuming: resume)
        try write(encode(record), to: runPath)
        let done = Set(try ResultsLog.read(path: resultsPath, keeping: []).map(\.id))
        return (log, done)
    }

    /// Reads the results of one or more folders (shards of one run, or one whole run): checks they belong together
    /// and that every shard is present once, and returns the results sorted by id (one per id), with only the
    /// attributes in `keeping` when given.
    /// - Throws: `AuditError.cannotMerge` naming the mismatch or the missing shards.
    public static func collect(_ folders: [String], keeping: Set<String>? = nil) throws(AuditError) -> (record: AuditRunRecord, results: [AuditItemResult]) {
        guard !folders.isEmpty else { throw .cannotMerge(detail: "no folders given") }
        var records: [(String, AuditRunRecord)] = []
        for folder in folders {
            let path = folder + "/" + runFile
            guard let data = FileManager.default.contents(atPath: path), let r = try? JSONDecoder().decode(AuditRunRecord.self, from: data) else {
                throw .cannotMerge(detail: "\(path): missing or not a run record (is \(folder) an audit output folder?)")
            }
            records.append((folder, r))
        }
        let first = records[0].1
        for (folder, r) in records.dropFirst() {
            guard r.check == first.check, r.checkSettings == first.checkSettings, r.manifest.sha256 == first.manifest.sha256,
                  r.versions == first.versions, r.shard.count == first.shard.count else {
                throw .cannotMerge(detail: "\(folder) differs from \(records[0].0) (check, settings, model versions, manifest or shard count)")
            }
        }
        let indices = records.map(\.1.shard.index)
        let missing = (0..<first.shard.count).filter { !indices.contains($0) }
        if Set(indices).count != indices.count { throw .cannotMerge(detail: "a shard is given twice: indices \(indices.sorted())") }
        if !missing.isEmpty { throw .cannotMerge(detail: "shards \(missing.map(String.init).joined(separator: ", ")) of \(first.shard.count) are missing") }
        var byID: [String: AuditItemResult] = [:]
        for (folder, _) in records {
            for r in try ResultsLog.read(path: folder + "/" + resultsFile, keeping: keeping) where byID[r.id] == nil { byID[r.id] = r }
        }
        var merged = first
        merged.shard = .all
        return (merged, byID.values.sorted { $0.id < $1.id })
    }

    /// Analyses results and writes `summary.json`, `groups.csv`, `failures.csv` and `report.html` into `folder`
    /// (each atomically). The outputs depend only on the results, the record and the settings.
    public static func report(record: AuditRunRecord, results: [AuditItemResult], suite: any MetricSuite, settings: AnalysisSettings,
                              folder: String, jobs: Int) async throws(AuditError) -> AuditSummary {
        let sorted = results.sorted { $0.id < $1.id }
        let ok = sorted.filter { $0.error == nil }
        let failures = sorted.compactMap { r in r.error.map { AuditSummary.Failure(id: r.id, error: $0) } }
        let (overall, groups) = await BiasAnalysis.analyse(ok, suite: suite, settings: settings, jobs: jobs)
        let summary = AuditSummary(tool: record.tool, check: record.check, versions: record.versions, manifest: record.manifest,
                                   checkSettings: record.checkSettings, settings: settings, metrics: suite.metrics, nItems: sorted.count,
                                   nFailed: failures.count, failures: failures, overall: overall, groups: groups)
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path: folder, detail: error.localizedDescription)
        }
        let json: Data
        do { json = try summary.encoded() } catch { throw .cannotWrite(path: folder + "/summary.json", detail: "\(error)") }
        try write(json, to: folder + "/summary.json")
        try write(Data(summary.groupsCSV().utf8), to: folder + "/groups.csv")
        try write(Data(summary.failuresCSV().utf8), to: folder + "/failures.csv")
        try write(Data(HTMLReport.render(summary, results: ok, suite: suite).utf8), to: folder + "/report.html")
        return summary
    }

    static func encode(_ record: AuditRunRecord) throws(AuditError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(record) + Data("\n".utf8) } catch { throw .cannotWrite(path: runFile, detail: "\(error)") }
    }

    static func write(_ data: Data, to path: String) throws(AuditError) {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .cannotWrite(path: path, detail: error.localizedDescription)
        }
    }
}
