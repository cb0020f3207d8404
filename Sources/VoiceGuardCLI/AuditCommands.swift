import ArgumentParser
import Foundation
import Synchronization
import VoiceGuard

/// `voiceguard audit`: batch audits of a corpus with bias breakdowns; `audit merge` joins shards.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit a corpus (detector, watermark or redaction) with per-group metrics, intervals and disparities.",
        discussion: """
        voiceguard audit MANIFEST --check synthetic --out DIR --group-by language,gender runs the check on every item \
        (-j at a time), appends each result to DIR/results.jsonl as it completes, then writes DIR/summary.json, \
        groups.csv, failures.csv and report.html. --resume continues an interrupted run (no item lost or counted twice). \
        --num-shards N --shard-index I (default: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX) \
        audits one speaker-preserving shard; `voiceguard audit merge DIR... --out OUT` then reports on all of them, \
        byte-identical to a single run. --fail-on 'eer>0.1' or 'disparity>1.25' makes the exit status 1 when violated.
        """,
        subcommands: [AuditRunCommand.self, AuditMergeCommand.self],
        defaultSubcommand: AuditRunCommand.self)
}

/// Options of the bias analysis, shared by `audit` and `audit merge`.
struct AnalysisOptions: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption, help: "Attributes (manifest columns) to break metrics down by, e.g. language gender (or language,gender); intersections are included.")
    var groupBy: [String] = []
    @Option(name: .long, help: "Bootstrap resamples for the confidence intervals (0 = none).") var bootstrap = 1000
    @Option(name: .long, help: "Seed of the bootstrap.") var seed: UInt64 = 1
    @Option(name: .long, help: "Groups with fewer items are flagged and not compared.") var minCell = 30
    @Option(name: .long, help: "Speaker column: the bootstrap resamples speakers (default: speaker, when present).") var speakerColumn: String?
    @Option(name: .long, help: "Control attribute (e.g. channel): also report each metric standardised to its overall distribution.") var control: String?
    @Option(name: .long, help: "Exit with status 1 when a condition holds, e.g. 'eer>0.1', 'disparity>1.25', 'max_fpr>0.2'.") var failOn: [String] = []
    @Option(name: [.customShort("j"), .long], help: "Parallel workers.") var jobs = ProcessInfo.processInfo.activeProcessorCount

    func settings(columns: Set<String>) throws -> AnalysisSettings {
        let groups = groupBy.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        for g in groups + [control].compactMap({ $0 }) where !columns.contains(g) {
            throw AuditError.invalidSetting(detail: "--group-by/--control \(g): no such column; the results have \(columns.sorted().joined(separator: ", "))")
        }
        guard bootstrap == 0 || bootstrap >= 100 else { throw AuditError.invalidSetting(detail: "--bootstrap \(bootstrap): expected 0 or at least 100 (1000 recommended)") }
        guard minCell >= 1 else { throw AuditError.invalidSetting(detail: "--min-cell \(minCell): expected at least 1") }
        let speaker = speakerColumn ?? (columns.contains("speaker") ? "speaker" : nil)
        return AnalysisSettings(groupBy: groups, bootstrap: bootstrap, seed: seed, minimumCell: minCell, speakerColumn: speaker, control: control)
    }

    func conditions() throws -> [FailCondition] { try failOn.map { try FailCondition(parsing: $0) } }
}

/// The metric suite of a check.
func metricSuite(check: String, checkSettings: [String: String]) throws -> any MetricSuite {
    switch check {
    case "synthetic", "level": return SyntheticSpeechMetrics(threshold: Double(checkSettings["threshold"] ?? "0") ?? 0)
    case "watermark": return WatermarkMetrics()
    case "redaction": return RedactionMetrics()
    default: throw AuditError.invalidSetting(detail: "--check \(check): expected synthetic, watermark, redaction or level (a stand-in)")
    }
}

/// Reports the summary, applies --fail-on, prints JSON or a line.
func finishAudit(_ summary: AuditSummary, folder: String, conditions: [FailCondition], global: GlobalOptions) throws {
    var violated: [String] = []
    for c in conditions {
        let (isViolated, value) = try c.isViolated(by: summary)
        if isViolated { violated.append("\(c) (value \(value.map { String(format: "%.4g", $0) } ?? "–"))") }
    }
    if global.json {
        print(String(decoding: try summary.encoded(), as: UTF8.self), terminator: "")
    } else {
        let headline = summary.metrics.prefix(4).map { m in "\(m.name) \(summary.overall.metrics[m.name]?.value.map { String(format: "%.4g", $0) } ?? "–")" }
        global.console.info("\(folder)/report.html: \(summary.nItems) items (\(summary.nFailed) failed), \(summary.groups.count) groups; " + headline.joined(separator: ", "))
    }
    if !violated.isEmpty {
        global.console.error("--fail-on: " + violated.joined(separator: "; "))
        throw ExitCode(1)
    }
}

/// `voiceguard audit MANIFEST --check … --out DIR`
struct AuditRunCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a check over a manifest and report (the default subcommand).")

    @Argument(help: "Manifest: .csv or .jsonl (id, path, any attributes), a NeMo .jsonl (audio_filepath), a Lhotse supervisions .jsonl(.gz) (recordings beside it), or a Kaldi data folder (wav.scp, utt2spk).") var manifest: String
    @Option(name: .long, help: "synthetic (the detector), watermark, redaction, or level (a stand-in scorer for testing).") var check = "synthetic"
    @Option(name: .long, help: "Output folder.") var out: String
    @Flag(name: .long, help: "Continue the run in --out (skip items already there).") var resume = false
    @Option(name: .long, help: "Shards in all (default: SLURM_ARRAY_TASK_COUNT, else 1).") var numShards: Int?
    @Option(name: .long, help: "This shard, 0-based (default: SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, JOB_COMPLETION_INDEX, else 0).") var shardIndex: Int?
    @Option(name: .long, help: "Label column (synthetic: bonafide/spoof).") var labelColumn = "label"
    @Option(name: .long, help: "Operating LLR threshold of the synthetic check (bona fide at or above).") var threshold = 0.0
    @Option(name: .long, help: "Detector model (default: the built-in one).") var model: String?
    @Option(name: .long, help: "synthetic: speech gate file, or 'off' (default: the built-in one); no-speech items get no score.") var speechGate: String?
    @Option(name: .long, help: "Only rows where COLUMN=VALUE (repeatable; all must hold), e.g. split=test.") var `where`: [String] = []
    @Option(name: .long, help: "watermark: key file (voiceguard watermark gen-key).") var key: String?
    @Option(name: .long, help: "watermark: payload to embed, hex.") var payload = "00112233445566778899aabbccddeeff"
    @Option(name: .long, help: "watermark: embedding strength.") var strength = 1.0
    @Option(name: .long, help: "watermark: shell command attacking the marked copy, with {in} and {out}, e.g. 'Corpora/attack mp3-64k {in} {out}'.") var attackCommand: String?
    @Option(name: .long, help: "redaction: enrolled (enrollment column) or dominant.") var mode = "dominant"
    @Flag(name: .long, help: "redaction: the streaming filter instead of whole-file analysis.") var streaming = false
    @Option(name: .long, help: "redaction: model file (default: the built-in one).") var redactionModel: String?
    @OptionGroup var analysis: AnalysisOptions

    func validate() throws {
        try validateThreshold(threshold)
        try validateStrength(strength)
    }
    @OptionGroup var global: GlobalOptions

    func runAsync() async throws {
        let console = global.console
        try await runReportingErrors(console) {
            let shard = try Shard.resolve(count: numShards, index: shardIndex, environment: ProcessInfo.processInfo.environment)
            var manifest = try loadAuditManifest(self.manifest)
            for condition in `where` {
                let parts = condition.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, manifest.columns.contains(parts[0]) else {
                    throw AuditError.invalidSetting(detail: "--where \(condition): expected COLUMN=VALUE with a column of the manifest (\(manifest.columns.joined(separator: ", ")))")
                }
                manifest.records = manifest.records.filter { $0.attributes[parts[0]] == parts[1] }
            }
            guard !manifest.records.isEmpty else { throw AuditError.invalidSetting(detail: "\(self.manifest): no rows left after --where") }
            let columns = Set(manifest.columns).union(manifest.records.first.map { Set($0.attributes.keys) } ?? [])
            let settings = try analysis.settings(columns: columns)
            let conditions = try analysis.conditions()
            let checkRunner: any AuditCheck
            var checkSettings = ["label_column": labelColumn]
            switch check {
            case "synthetic":
                let gate = try loadSpeechGate(speechGate)
                var detector = SynthDetector(model: try loadDetectorModel(model), gate: gate,
                                             voiceActivity: loadGateVoiceActivity(gate, console: console))
                detector.threshold = threshold
                checkRunner = SyntheticSpeechCheck(detector: detector, labelColumn: labelColumn)
                checkSettings["threshold"] = String(threshold)
            case "level":
                checkRunner = LevelCheck(labelColumn: labelColumn)
                checkSettings["threshold"] = String(threshold)
            case "watermark":
                guard let key else { throw AuditError.invalidSetting(detail: "--check watermark needs --key KEYFILE (make one with voiceguard watermark gen-key)") }
                checkRunner = WatermarkCheck(key: try WatermarkKey.read(from: key), payload: try Payload(hex: payload), strength: strength,
                                             attackCommand: attackCommand)
                checkSettings = ["payload": payload, "strength": String(strength), "attack": attackCommand ?? "none"]
            case "redaction":
                guard ["enrolled", "dominant"].contains(mode) else { throw AuditError.invalidSetting(detail: "--mode \(mode): expected enrolled or dominant") }
                let redaction = try redactionModel.map { try RedactionModel.load(path: $0) } ?? RedactionModel.bundled
                checkRunner = RedactionCheck(filter: try PrivacyFilter(model: redaction), enrolled: mode == "enrolled", streaming: streaming)
                checkSettings = ["mode": mode, "analysis": streaming ? "streaming" : "whole-file"]
            default:
                throw AuditError.invalidSetting(detail: "--check \(check): expected synthetic, watermark, redaction or level (a stand-in scorer)")
            }
            for column in checkRunner.requiredColumns where !manifest.columns.contains(column) {
                throw AuditError.invalidSetting(detail: "--check \(check) needs a '\(column)' column; \(self.manifest) has \(manifest.columns.joined(separator: ", "))")
            }
            let suite = try metricSuite(check: check, checkSettings: checkSettings)
            let record = AuditRunRecord(tool: "voiceguard \(VoiceGuardVersion.current)", check: check, checkSettings: checkSettings,
                                        versions: checkRunner.versions, manifest: AuditJob.manifestInfo(manifest), shard: shard)
            let (log, done) = try AuditJob.prepare(folder: out, record: record, resume: resume)
            let items = AuditRunner.items(of: manifest, shard: shard, speakerColumn: settings.speakerColumn)
            if !done.isEmpty { console.info("\(out): resuming; \(done.count) of \(items.count) items already done") }
            let progress = ProgressDisplay(enabled: !global.quiet && !global.json && isatty(2) != 0, label: shard.count > 1 ? "shard \(shard.index + 1)/\(shard.count)" : "audit")
            try await AuditRunner.run(items, check: checkRunner, log: log, done: done, jobs: analysis.jobs) { progress.update(done: $0, total: $1) }
            progress.finish()
            if shard.count > 1 {
                console.info("\(out): shard \(shard.index) of \(shard.count) done (\(items.count) items); run `voiceguard audit merge` on every shard's folder to report")
                return
            }
            let (_, results) = try AuditJob.collect([out], keeping: AuditJob.attributesUsed(by: settings))
            let summary = try await AuditJob.report(record: record, results: results, suite: suite, settings: settings, folder: out, jobs: analysis.jobs)
            try finishAudit(summary, folder: out, conditions: conditions, global: global)
        }
    }
}

/// `voiceguard audit merge DIR... --out OUT`
struct AuditMergeCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Join the shard folders of one audit and report.")

    @Argument(help: "Shard output folders (all shards of one run).") var folders: [String]
    @Option(name: .long, help: "Output folder for the merged report.") var out: String
    @OptionGroup var analysis: AnalysisOptions
    @OptionGroup var global: GlobalOptions

    func runAsync() async throws {
        try await runReportingErrors(global.console) {
            let columns = folders.reduce(into: Set<String>()) { $0.formUnion(AuditJob.attributeNames(folder: $1)) }
            let settings = try analysis.settings(columns: columns)
            let (record, results) = try AuditJob.collect(folders, keeping: AuditJob.attributesUsed(by: settings))
            let conditions = try analysis.conditions()
            let suite = try metricSuite(check: record.check, checkSettings: record.checkSettings)
            let summary = try await AuditJob.report(record: record, results: results, suite: suite, settings: settings, folder: out, jobs: analysis.jobs)
            try finishAudit(summary, folder: out, conditions: conditions, global: global)
        }
    }
}

/// Reads a manifest in any supported format.
func loadAuditManifest(_ path: String) throws -> Manifest {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        return try KaldiManifest.read(folder: path)
    }
    if LhotseManifest.isSupervisions(path) { return try LhotseManifest.read(supervisions: path) }
    return try Manifest.read(path: path)
}

/// A one-line progress bar with rate and ETA on a terminal's stderr; silent otherwise.
final class ProgressDisplay: Sendable {
    private struct State { var started = Date(); var last = Date.distantPast; var shown = false }
    private let state = Mutex(State())
    private let enabled: Bool
    private let label: String

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(done: Int, total: Int) {
        guard enabled else { return }
        state.withLock { s in
            let now = Date()
            guard done == total || now.timeIntervalSince(s.last) >= 0.1 else { return }
            s.last = now
            s.shown = true
            let elapsed = now.timeIntervalSince(s.started), fraction = total > 0 ? Double(done) / Double(total) : 1
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let width = 28, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(format: "\r%@ %@ %d/%d  %.1f items/s  ETA %d:%02d ", label, bar, done, total, rate, Int(eta) / 60, Int(eta) % 60)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        guard enabled else { return }
        state.withLock { s in if s.shown { FileHandle.standardError.write(Data("\n".utf8)) } }
    }
}
