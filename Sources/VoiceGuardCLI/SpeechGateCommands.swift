import ArgumentParser
import Foundation
import VoiceGuard

/// Loads `--speech-gate PATH`, the gate shipped inside the tool (default), or none (`off`).
func loadSpeechGate(_ option: String?) throws -> SpeechGateModel? {
    switch option {
    case "off": return nil
    case let path?: return try SpeechGateModel.load(path: path)
    case nil: return try SpeechGateModel.bundledDefault()
    }
}

/// Silero VAD for the speech gate's confirmations, or nil (with a warning) when its weights are not installed.
func loadGateVoiceActivity(_ gate: SpeechGateModel?, console: Console) -> SileroVoiceActivity? {
    guard gate != nil else { return nil }
    do { return try SileroVoiceActivity() } catch {
        console.warning("speech gate without Silero confirmation (\(error)); run scripts/fetch-models (make deps)")
        return nil
    }
}

/// Whether a manifest row is speech: its `speech` column (yes/no) when present, else yes (speech corpora rows are
/// speech whatever their label). Nil for another value.
func rowIsSpeech(_ record: ManifestRecord) -> Bool? {
    guard let value = record["speech"]?.lowercased() else { return true }
    switch value {
    case "yes", "true", "1", "speech": return true
    case "no", "false", "0", "nonspeech", "non-speech": return false
    default: return nil
    }
}

/// `voiceguard gate-train --speech MANIFEST... --nonspeech MANIFEST... --out GATE`
struct GateTrainCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "gate-train",
        abstract: "Fit the detector's speech gate (speech against music, tones, noise).",
        discussion: """
        Positives: the training rows of the --speech manifests (both labels) and the --nonspeech rows whose \
        'speech' column is yes (e.g. speech over music); negatives: the --nonspeech rows whose 'speech' is no. \
        Within each side every group (the 'family' column, else 'label'; the 'kind' column of non-speech rows) \
        weighs the same. The threshold keeps 99.5 % of the training speech (and is never above log-odds 0). \
        Below the --confirm-share quantile of the training speech scores, Silero VAD confirms \
        speech (≥ 0.1 s of its windows at probability ≥ 0.5). Silent recordings are "no speech" by rule and do not train.
        """)

    @Option(name: .long, parsing: .upToNextOption, help: "Speech manifests (e.g. speech/manifest.wide.csv manifest.tel.csv).") var speech: [String]
    @Option(name: .long, parsing: .upToNextOption, help: "Non-speech manifests with a 'speech' column (e.g. nonspeech/manifest.wide.csv).") var nonspeech: [String]
    @Option(name: .long, help: "Gate file to write (JSON).") var out: String
    @Option(name: .long, help: "Column holding the split.") var splitColumn = "split"
    @Option(name: .long, help: "Split value that trains.") var trainSplit = "train"
    @Option(name: .long, help: "Share of the training speech (0…1) whose gate score Silero confirms: the cost budget of the confirmation.") var confirmShare = 0.1
    @Option(name: [.customShort("j"), .long], help: "Files decoded at once.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: [.customShort("y"), .long], help: "Replace GATE if it exists.") var overwrite = false
    @OptionGroup var global: GlobalOptions

    func run() async throws { try await runAsync() }

    func runAsync() async throws {
        let console = global.console
        try await runReportingErrors(console) {
            if !overwrite && FileManager.default.fileExists(atPath: out) { throw AudioFileError.outputExists(path: out) }
            guard !speech.isEmpty, !nonspeech.isEmpty else { throw ValidationError("give --speech and --nonspeech manifests") }
            guard (0...1).contains(confirmShare) else { throw ValidationError("--confirm-share \(confirmShare): expected 0 to 1") }
            let extractor = SpoofFeatureExtractor()
            var positives: [[Float]] = [], negatives: [[Float]] = []
            var positiveGroups: [String] = [], negativeGroups: [String] = []
            var hashes: [String] = [], skipped: [String] = []
            for (path, isSpeechManifest) in speech.map({ ($0, true) }) + nonspeech.map({ ($0, false) }) {
                let manifest = try loadManifest(path, requiring: isSpeechManifest ? [] : ["speech"])
                hashes.append(SHA256.hexDigest(Array(FileManager.default.contents(atPath: path) ?? Data())))
                let hasSplit = manifest.columns.contains(splitColumn)
                if !hasSplit { console.warning("\(path): no '\(splitColumn)' column: every row trains") }
                let column = splitColumn, value = trainSplit
                let corpus = await SpoofCorpus.extract(manifest, extractor: extractor, jobs: jobs, evidence: true) { r in
                    !hasSplit || r[column] == value
                }
                skipped += corpus.items.filter { !$0.decoded }.compactMap(\.error)
                for item in corpus.items where item.decoded {
                    guard let evidence = item.evidence else { continue }
                    guard let isSpeech = isSpeechManifest ? true : rowIsSpeech(item.record) else {
                        skipped.append("line \(item.record.line) (\(item.record.id)): 'speech' is '\(item.record["speech"] ?? "")'; expected yes or no")
                        continue
                    }
                    let group = item.record["kind"] ?? item.record["family"] ?? item.record["label"] ?? ""
                    if isSpeech {
                        positives.append(evidence)
                        positiveGroups.append(group)
                    } else {
                        negatives.append(evidence)
                        negativeGroups.append(group)
                    }
                }
            }
            for s in skipped.prefix(10) { console.warning("skipped \(s)") }
            let gate = try SpeechGateModel.fit(
                speech: positives, nonSpeech: negatives, groups: positiveGroups + negativeGroups, confirmShare: confirmShare,
                manifests: (speech + nonspeech).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ","),
                manifestSHA256: SHA256.hexDigest(Array(hashes.joined().utf8)), tool: "voiceguard \(VoiceGuardVersion.current)")
            do { try gate.encoded().write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw AudioFileError.cannotCreate(path: out, reason: error.localizedDescription)
            }
            console.info(String(format: "%@: fitted on %d speech and %d non-speech recordings; threshold %.2f; training speech called no speech %.2f %%, training non-speech let through %.2f %%; %d skipped",
                                out, positives.count, negatives.count, gate.threshold, gate.training.speechRejected * 100,
                                gate.training.nonSpeechAccepted * 100, skipped.count))
            if global.json { try Console.printJSON(gate.training) }
        }
    }
}

/// `voiceguard gate-eval MANIFEST...`: how often the speech gate answers "no speech", by truth and group.
struct GateEvalCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "gate-eval",
        abstract: "Measure the speech gate: non-speech caught, speech kept, per group.",
        discussion: """
        Rows are speech when their 'speech' column says yes, or when the manifest has no such column (speech \
        corpora); non-speech when it says no. Reports, overall and per value of each --by column, the share of \
        non-speech answered "no speech" and the share of speech answered "no speech" (which hides it from the \
        detector), with Wilson 95 % intervals.
        """)

    @Argument(help: "Manifests (CSV/JSONL).") var manifests: [String]
    @Option(name: .long, help: "Speech gate file (default: the one built in).") var speechGate: String?
    @Option(name: .long, help: "Column holding the split.") var splitColumn = "split"
    @Option(name: .long, help: "Split value(s) to measure, comma-separated (\"all\" for every row).") var split = "test"
    @Option(name: .long, help: "Comma-separated columns to break results down by.") var by = "kind,family,language"
    @Option(name: .long, help: "Write every row's speech evidence and gate score to this CSV file (for analysis).") var evidenceOut: String?
    @Option(name: [.customShort("j"), .long], help: "Files decoded at once.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var global: GlobalOptions

    func run() async throws { try await runAsync() }

    func runAsync() async throws {
        let console = global.console
        try await runReportingErrors(console) {
            guard let gate = try loadSpeechGate(speechGate) else {
                throw SynthDetectError.badModel(path: "(built-in)", detail: "this build ships no speech gate; pass --speech-gate GATE (made by `voiceguard gate-train`)")
            }
            let extractor = SpoofFeatureExtractor()
            let values = Set(split.split(separator: ",").map(String.init))
            var reports: [GateReport] = []
            let network = loadGateVoiceActivity(gate, console: console)
            var evidenceCSV = "manifest,id,speech,score,confirmed_seconds," + SpeechEvidence.names.joined(separator: ",") + "\n"
            for path in manifests {
                let manifest = try loadManifest(path)
                if split != "all" && !manifest.columns.contains(splitColumn) {
                    throw ValidationError("\(path) has no '\(splitColumn)' column; use --split all or --split-column")
                }
                let column = splitColumn, all = split == "all"
                let records = manifest.records.filter { all || values.contains($0[column] ?? "") }
                let results = await boundedConcurrentMap(records, jobs: jobs) { record -> (SpeechVerdict?, [Float]?, String?) in
                    do {
                        let audio = try AudioFileReader.read(path: record.resolvedPath)
                        let input = try extractor.detectorInput(of: audio)
                        let confirmation = SpeechConfirmation(audio: audio)
                        let verdict = gate.verdict(input.evidence, confirm: network.map { n in
                            { confirmation.speechSeconds(input.start, input.end, network: n, enough: $0) }
                        })
                        return (verdict, input.evidence, nil)
                    } catch {
                        return (nil, nil, "line \(record.line) (\(record.id)): \(error)")
                    }
                }
                var rows: [(record: ManifestRecord, isSpeech: Bool, noSpeech: Bool)] = []
                var failures: [String] = []
                for (record, (verdict, evidence, error)) in zip(records, results) {
                    guard let verdict else { failures.append(error ?? ""); continue }
                    guard let isSpeech = rowIsSpeech(record) else { continue }
                    rows.append((record, isSpeech, !verdict.isSpeech))
                    if let evidence {
                        evidenceCSV += "\(csvField(path)),\(csvField(record.id)),\(isSpeech ? "yes" : "no"),\(verdict.score ?? 0),\(verdict.confirmedSeconds.map { String($0) } ?? ""),"
                            + evidence.map { String($0) }.joined(separator: ",") + "\n"
                    }
                }
                var groups = [GateGroup(attribute: "all", value: "", rows: rows.map { ($0.isSpeech, $0.noSpeech) })]
                for attribute in by.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !attribute.isEmpty {
                    guard manifest.columns.contains(attribute) else { continue }
                    for v in Set(rows.map { $0.record[attribute] ?? "" }).sorted() {
                        groups.append(GateGroup(attribute: attribute, value: v.isEmpty ? "(none)" : v,
                                                rows: rows.filter { ($0.record[attribute] ?? "") == v }.map { ($0.isSpeech, $0.noSpeech) }))
                    }
                }
                for f in failures.prefix(10) { console.warning("skipped \(f)") }
                reports.append(GateReport(manifest: path, split: all ? "all" : "\(column)=\(split)", groups: groups, failures: failures))
            }
            if let evidenceOut {
                do { try Data(evidenceCSV.utf8).write(to: URL(fileURLWithPath: evidenceOut), options: .atomic) } catch {
                    throw AudioFileError.cannotCreate(path: evidenceOut, reason: error.localizedDescription)
                }
            }
            if global.json {
                try Console.printJSON(GateEvalOutput(threshold: gate.threshold, manifests: reports))
            } else {
                for r in reports {
                    Console.writeOutput("\(r.manifest) [\(r.split)]\n| group | non-speech | caught (\"no speech\") | speech | called no speech |\n|---|---|---|---|---|\n")
                    for g in r.groups {
                        func cell(_ rate: Double?, _ ci: [Double]?) -> String {
                            guard let rate else { return "–" }
                            return String(format: "%.1f %%", rate * 100) + (ci.map { String(format: " (%.1f–%.1f)", $0[0] * 100, $0[1] * 100) } ?? "")
                        }
                        Console.writeOutput("| \(g.value.isEmpty ? g.attribute : "\(g.attribute)=\(g.value)") | \(g.nonSpeech) | \(cell(g.nonSpeechCaught, g.nonSpeechCaughtInterval)) | \(g.speech) | \(cell(g.speechRejected, g.speechRejectedInterval)) |\n")
                    }
                }
            }
        }
    }
}

/// Gate results of one group.
struct GateGroup: Codable {
    var attribute: String
    var value: String
    var speech: Int
    var nonSpeech: Int
    /// Share of the speech rows answered "no speech", with its Wilson 95 % interval.
    var speechRejected: Double?
    var speechRejectedInterval: [Double]?
    /// Share of the non-speech rows answered "no speech", with its Wilson 95 % interval.
    var nonSpeechCaught: Double?
    var nonSpeechCaughtInterval: [Double]?

    init(attribute: String, value: String, rows: [(isSpeech: Bool, noSpeech: Bool)]) {
        self.attribute = attribute
        self.value = value
        speech = rows.filter(\.isSpeech).count
        nonSpeech = rows.count - speech
        let rejected = rows.filter { $0.isSpeech && $0.noSpeech }.count
        let caught = rows.filter { !$0.isSpeech && $0.noSpeech }.count
        speechRejected = speech > 0 ? Double(rejected) / Double(speech) : nil
        speechRejectedInterval = speech > 0 ? SpoofMetrics.wilson(rejected, of: speech) : nil
        nonSpeechCaught = nonSpeech > 0 ? Double(caught) / Double(nonSpeech) : nil
        nonSpeechCaughtInterval = nonSpeech > 0 ? SpoofMetrics.wilson(caught, of: nonSpeech) : nil
    }

    enum CodingKeys: String, CodingKey {
        case attribute, value, speech
        case nonSpeech = "non_speech", speechRejected = "speech_called_no_speech", speechRejectedInterval = "speech_called_no_speech_ci95"
        case nonSpeechCaught = "non_speech_caught", nonSpeechCaughtInterval = "non_speech_caught_ci95"
    }
}

struct GateReport: Codable {
    var manifest: String
    var split: String
    var groups: [GateGroup]
    var failures: [String]
}

struct GateEvalOutput: Codable {
    var schema = "voiceguard.gate-eval/1"
    var threshold: Double
    var manifests: [GateReport]
}
