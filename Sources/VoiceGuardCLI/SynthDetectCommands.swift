import ArgumentParser
import Foundation
import VoiceGuard

/// Loads `--model PATH`, or the model shipped inside the tool.
func loadDetectorModel(_ path: String?) throws -> SynthDetectModel {
    if let path { return try SynthDetectModel.load(path: path) }
    guard let bundled = try SynthDetectModel.bundledDefault() else {
        throw SynthDetectError.badModel(path: "(built-in)", detail: "this build ships no default model; pass --model MODEL (made by `voiceguard train`)")
    }
    return bundled
}

/// `voiceguard train MANIFEST... --out MODEL`
struct TrainCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a synthetic-speech detector from labelled manifests (label = bonafide/spoof).",
        discussion: """
        Rows whose split column equals --train-split train the classifier; rows equal to \
        --calibration-split fit the score calibration (LLRs, higher = bona fide). Without a split \
        column every row trains and calibrates (with a warning). Unreadable audio is reported and skipped.
        """)

    @Argument(help: "Manifests (.csv or .jsonl) with path and label columns.") var manifests: [String]
    @Option(name: .long, help: "Model file to write (JSON).") var out: String
    @Option(name: .long, help: "Column holding the split (e.g. split, loeo_flite).") var splitColumn = "split"
    @Option(name: .long, help: "Split value(s) that train, comma-separated (e.g. train,test for a final model).") var trainSplit = "train"
    @Option(name: .long, help: "Split value(s) that calibrate, comma-separated.") var calibrationSplit = "dev"
    @Option(name: .long, help: "Ridge penalty of the logistic regression.") var l2 = 5e-3
    @Option(name: .long, help: ArgumentHelp("logistic-regression: columns whose groups weigh the same within each class, comma-separated (e.g. family,language).",
                                            valueName: "columns")) var balanceBy: String?
    @Option(name: .long, help: ArgumentHelp("logistic-regression: fit the calibration on out-of-group scores of the training split, one fold per value of this column among the spoofs (e.g. family), instead of on the calibration split.",
                                            valueName: "column")) var calibrateAcross: String?
    @Option(name: .long, help: "Back end: logistic-regression (default) or lfcc-gmm (the ASVspoof-style baseline).") var backend = "logistic-regression"
    @Option(name: .long, help: "lfcc-gmm: Gaussians per mixture.") var components = 64
    @Option(name: .long, help: ArgumentHelp("logistic-regression: feature blocks, comma-separated ('standard' = the shipped set, alone or in a list such as standard,mgd), or 'all'.",
                                            discussion: "Blocks: \(SpoofFeatureBlock.allCases.map { "\($0.rawValue) (\($0.dimension))" }.joined(separator: ", ")).",
                                            valueName: "blocks")) var features = "standard"
    @Option(name: [.customShort("j"), .long], help: "Files decoded at once.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Flag(name: [.customShort("y"), .long], help: "Replace MODEL if it exists.") var overwrite = false
    @OptionGroup var global: GlobalOptions

    func run() async throws { try await runAsync() }

    func runAsync() async throws {
        let console = global.console
        try await runReportingErrors(console) {
            guard [SynthDetectModel.logisticRegression, SynthDetectModel.lfccGMM].contains(backend) else {
                throw ValidationError("--backend \(backend): expected logistic-regression or lfcc-gmm")
            }
            guard (1...1024).contains(components) else { throw ValidationError("--components \(components): expected 1 to 1024") }
            if !overwrite && FileManager.default.fileExists(atPath: out) { throw AudioFileError.outputExists(path: out) }
            let frames = backend == SynthDetectModel.lfccGMM
            let balanceColumns = (balanceBy ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if frames && !balanceColumns.isEmpty { throw ValidationError("--balance-by: only the logistic-regression back end weighs groups") }
            if frames && calibrateAcross != nil { throw ValidationError("--calibrate-across: only the logistic-regression back end") }
            let featureSet = SpoofFeatureExtractor.Configuration(blocks: try SpoofFeatureBlock.parseList(features))
            if frames && featureSet != .standard { throw ValidationError("--features: the lfcc-gmm back end scores LFCC frames; leave --features at 'standard'") }
            let extractor = SpoofFeatureExtractor(featureSet)
            var train: [SpoofCorpus.Item] = [], calibration: [SpoofCorpus.Item] = [], failures: [String] = []
            var hashes: [String] = []
            for path in manifests {
                let manifest = try loadManifest(path, requiring: ["label"] + balanceColumns + (calibrateAcross.map { [$0] } ?? []))
                hashes.append(SHA256.hexDigest(Array(FileManager.default.contents(atPath: path) ?? Data())))
                let hasSplit = manifest.columns.contains(splitColumn)
                if !hasSplit { console.warning("\(path): no '\(splitColumn)' column: every row trains and calibrates") }
                let t = Set(trainSplit.split(separator: ",").map(String.init)), c = Set(calibrationSplit.split(separator: ",").map(String.init))
                let corpus = await SpoofCorpus.extract(manifest, extractor: extractor, jobs: jobs, frames: frames) { r in !hasSplit || t.contains(r[splitColumn] ?? "") || c.contains(r[splitColumn] ?? "") }
                failures += corpus.failures.compactMap(\.error)
                for item in corpus.usable {
                    let split = item.record[splitColumn]
                    if !hasSplit || t.contains(split ?? "") { train.append(item) }
                    if !hasSplit || c.contains(split ?? "") { calibration.append(item) }
                }
            }
            for f in failures.prefix(10) { console.warning("skipped \(f)") }
            if failures.count > 10 { console.warning("… \(failures.count - 10) more skipped") }
            let info = SynthDetectModel.TrainingInfo(
                manifestSHA256: hashes.count == 1 ? hashes[0] : SHA256.hexDigest(Array(hashes.joined().utf8)),
                manifest: manifests.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ","), trainSplit: "\(splitColumn)=\(trainSplit)", trainBonafide: 0, trainSpoof: 0,
                calibrationSplit: "\(splitColumn)=\(calibrationSplit)", calibrationBonafide: 0, calibrationSpoof: 0,
                tool: "voiceguard \(VoiceGuardVersion.current)")
            let model = frames
                ? try SpoofTrainer.trainGMM(train: train, calibration: calibration, components: components, info: info)
                : try SpoofTrainer.train(train: train, calibration: calibration, l2: l2, features: featureSet,
                                         balanceBy: balanceColumns, calibrateAcross: calibrateAcross, info: info)
            let data = try model.encoded()
            do { try data.write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw AudioFileError.cannotCreate(path: out, reason: error.localizedDescription)
            }
            func metrics(_ items: [SpoofCorpus.Item]) -> SpoofMetrics {
                SpoofMetrics(items.compactMap { i in i.features.map { ScoredTrial(score: model.llr($0), isTarget: i.isBonafide ?? false) } })
            }
            let trainMetrics = metrics(train), calibrationMetrics = metrics(calibration)
            console.info("\(out): trained on \(model.training.trainBonafide) bona fide + \(model.training.trainSpoof) spoof, calibrated on \(model.training.calibrationBonafide) + \(model.training.calibrationSpoof); EER train \(percent(trainMetrics.eer)), calibration set \(percent(calibrationMetrics.eer)), Cllr \(fixed(calibrationMetrics.cllr)); \(failures.count) files skipped")
            if global.json {
                try Console.printJSON(TrainSummary(model: out, training: model.training, trainMetrics: trainMetrics,
                                                   calibrationMetrics: calibrationMetrics, skipped: failures))
            }
        }
    }
}

struct TrainSummary: Codable {
    var schema = "voiceguard.train/1"
    var model: String
    var training: SynthDetectModel.TrainingInfo
    var trainMetrics: SpoofMetrics
    var calibrationMetrics: SpoofMetrics
    var skipped: [String]
    enum CodingKeys: String, CodingKey {
        case schema, model, training, skipped
        case trainMetrics = "train_metrics", calibrationMetrics = "calibration_metrics"
    }
}

func percent(_ x: Double?) -> String { x.map { String(format: "%.2f %%", $0 * 100) } ?? "n/a" }
func fixed(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "n/a" }

/// `voiceguard detect FILE...` and `voiceguard detect --eval MANIFEST`
struct DetectCommand: AsyncParsableCommand, AsyncRunnable {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score recordings for synthetic (TTS / voice-converted) speech.",
        discussion: """
        Prints per file a calibrated log-likelihood ratio (natural log; higher = bona fide, 0 = no \
        evidence at equal priors) and a decision: bonafide, synthetic, or abstain when the LLR is within \
        the model's abstain band (±1) around --threshold. With --eval MANIFEST, scores a labelled split \
        and reports EER, minDCF, actDCF (ASVspoof 5 costs: P(spoof) 0.05, Cmiss 1, Cfa 10), Cllr and \
        per-group breakdowns. Exit status 0 on success, 65/66 for unreadable input.
        """)

    @Argument(help: "Audio files (not with --eval).") var files: [String] = []
    @Option(name: .long, help: "Model file (default: the model shipped with this build).") var model: String?
    @Option(name: .long, help: "Speech gate file, or 'off' (default: the gate shipped with this build). Music, tones, noise and silence get the decision no-speech.") var speechGate: String?
    @Option(name: .long, help: "Also score segments of this many seconds (hop half of it).") var segments: Double?
    @Option(name: .long, help: "LLR threshold of the decision (default 0).") var threshold: Double = 0
    @Option(name: .long, help: "Evaluate on a labelled manifest instead of scoring files.") var eval: String?
    @Option(name: .long, help: "With --eval: the split column.") var splitColumn = "split"
    @Option(name: .long, help: "With --eval: the split value(s) to score, comma-separated (\"all\" for every row).") var split = "test"
    @Option(name: .long, help: "With --eval: comma-separated columns to break results down by.") var by = "engine,language,gender"
    @Option(name: .long, help: "With --eval: write per-item scores to this CSV file.") var scores: String?
    @Option(name: .long, help: "With --eval: write per-item feature vectors to this CSV file (for analysis).") var featuresOut: String?
    @Option(name: [.customShort("j"), .long], help: "Files decoded at once.") var jobs = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if eval == nil && files.isEmpty { throw ValidationError("give audio files to score, or --eval MANIFEST") }
        if eval != nil && !files.isEmpty { throw ValidationError("--eval scores a manifest; do not also give files") }
        if let segments, !(segments >= 0.5 && segments <= 600) { throw ValidationError("--segments \(segments): expected 0.5 to 600 seconds") }
        try validateThreshold(threshold)
    }

    func run() async throws { try await runAsync() }

    func runAsync() async throws {
        let console = global.console
        try await runReportingErrors(console) {
            let loaded = try loadDetectorModel(model)
            let gate = try loadSpeechGate(speechGate)
            var detector = SynthDetector(model: loaded, gate: gate, voiceActivity: eval == nil ? loadGateVoiceActivity(gate, console: console) : nil)
            detector.threshold = threshold
            if let eval {
                try await evaluate(eval, detector: detector, console: console)
            } else {
                try scoreFiles(detector: detector, console: console)
            }
        }
    }

    private func scoreFiles(detector: SynthDetector, console: Console) throws {
        var results: [FileScore] = []
        var failure: ExitStatus?
        for path in files {
            do {
                let audio = try AudioFileReader.read(path: path)
                let score = try detector.score(audio)
                var result = FileScore(path: path, llr: score.llr, decision: score.decision, speechScore: score.speechScore,
                                       confirmedSpeechSeconds: score.confirmedSpeechSeconds, segments: nil, error: nil)
                if let segments {
                    result.segments = try detector.segmentScores(audio, seconds: segments).map {
                        SegmentScore(start: $0.start, end: $0.end, llr: $0.llr, decision: $0.decision, speechScore: $0.speechScore,
                                     confirmedSpeechSeconds: $0.confirmedSpeechSeconds)
                    }
                }
                results.append(result)
                if !global.json {
                    Console.writeOutput("\(path): \(score.decision.rawValue)\(Self.describe(score.llr))\n")
                    for s in result.segments ?? [] {
                        Console.writeOutput(String(format: "  %7.2f–%7.2f s  ", s.start, s.end) + s.decision.rawValue + Self.describe(s.llr) + "\n")
                    }
                }
            } catch {
                let report = ErrorReport(error)
                console.error("\(path): \(report.message)")
                results.append(FileScore(path: path, llr: nil, decision: nil, speechScore: nil, confirmedSpeechSeconds: nil,
                                         segments: nil, error: report))
                failure = failure ?? ExitStatus(rawValue: report.exitStatus)
            }
        }
        if global.json { try Console.printJSON(DetectFilesOutput(model: detector.model.training.manifestSHA256, files: results)) }
        if let failure { throw ExitCode(failure) }
    }

    /// " (LLR ±x.xx)", or nothing without an LLR (no speech).
    static func describe(_ llr: Double?) -> String { llr.map { String(format: " (LLR %+.2f)", $0) } ?? "" }

    private func evaluate(_ path: String, detector: SynthDetector, console: Console) async throws {
        let manifest = try loadManifest(path, requiring: ["label"])
        let column = splitColumn, value = split
        let values = Set(split.split(separator: ",").map(String.init))
        if value != "all" && !manifest.columns.contains(column) {
            throw ValidationError("\(path) has no '\(column)' column; use --split all or --split-column")
        }
        let corpus = await SpoofCorpus.extract(manifest, extractor: detector.extractor, jobs: jobs, frames: detector.model.scoresFrames) { r in
            value == "all" || values.contains(r[column] ?? "")
        }
        let items = corpus.usable
        let llrs = items.map { detector.model.llr($0.features!) }
        let trials = zip(items, llrs).map { ScoredTrial(score: $1, isTarget: $0.isBonafide!) }
        let overall = SpoofMetrics(trials, threshold: threshold)
        var groups: [GroupMetrics] = []
        for attribute in by.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !attribute.isEmpty {
            guard manifest.columns.contains(attribute) else { console.warning("no '\(attribute)' column; skipped"); continue }
            let bonafideValues = Set(items.filter { $0.isBonafide! }.map { $0.record[attribute] ?? "" })
            let spoofValues = Set(items.filter { !$0.isBonafide! }.map { $0.record[attribute] ?? "" })
            // A value only bona fide rows carry (engine = human, family = human): each spoof value is compared against all
            // bona fide. When the bona fide side has one value that spoofs share (gender = F everywhere), groups are plain.
            let sharedBonafide = bonafideValues.count == 1 && bonafideValues.isDisjoint(with: spoofValues)
            let values = Set(items.map { $0.record[attribute] ?? "" }).sorted()
            for v in values {
                let selected = zip(items, trials).filter { item, _ in
                    (sharedBonafide && item.isBonafide!) || (item.record[attribute] ?? "") == v
                }.map(\.1)
                if sharedBonafide && bonafideValues.contains(v) { continue }
                groups.append(GroupMetrics(attribute: attribute, value: v.isEmpty ? "(none)" : v,
                                           metrics: SpoofMetrics(selected, threshold: threshold)))
            }
        }
        if let scores {
            var csv = "id,label,llr,decision\n"
            for (item, llr) in zip(items, llrs) {
                csv += "\(csvField(item.record.id)),\(item.isBonafide! ? "bonafide" : "spoof"),\(String(format: "%.6f", llr)),\(detector.decision(llr).rawValue)\n"
            }
            do { try Data(csv.utf8).write(to: URL(fileURLWithPath: scores), options: .atomic) } catch {
                throw AudioFileError.cannotCreate(path: scores, reason: error.localizedDescription)
            }
        }
        if let featuresOut, !detector.model.scoresFrames {
            var csv = "id,label," + (0..<detector.model.features.dimension).map { "f\($0)" }.joined(separator: ",") + "\n"
            for item in items {
                csv += csvField(item.record.id) + "," + (item.isBonafide! ? "bonafide" : "spoof") + ","
                    + item.features!.map { String($0) }.joined(separator: ",") + "\n"
            }
            do { try Data(csv.utf8).write(to: URL(fileURLWithPath: featuresOut), options: .atomic) } catch {
                throw AudioFileError.cannotCreate(path: featuresOut, reason: error.localizedDescription)
            }
        }
        let failures = corpus.failures.compactMap(\.error)
        for f in failures.prefix(10) { console.warning("skipped \(f)") }
        if global.json {
            try Console.printJSON(EvalOutput(manifest: path, split: "\(column)=\(value)", threshold: threshold,
                                             overall: overall, groups: groups, failures: failures))
        } else {
            Console.writeOutput("\(path) [\(column)=\(value)]: \(overall.bonafide) bona fide, \(overall.spoof) spoof, \(failures.count) skipped (unreadable or too little speech)\n")
            Console.writeOutput(Self.table([GroupMetrics(attribute: "all", value: "", metrics: overall)] + groups))
        }
    }

    static func table(_ rows: [GroupMetrics]) -> String {
        var out = "| group | bona fide | spoof | EER | minDCF | actDCF | Cllr | bona fide flagged (95 % CI) |\n|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            let m = r.metrics
            let ci = m.bonafideFlagRateInterval.map { String(format: " (%.1f–%.1f)", $0[0] * 100, $0[1] * 100) } ?? ""
            out += "| \(r.value.isEmpty ? r.attribute : "\(r.attribute)=\(r.value)") | \(m.bonafide) | \(m.spoof) | \(percent(m.eer)) | \(fixed(m.minDCF)) | \(fixed(m.actDCF)) | \(fixed(m.cllr)) | \(percent(m.bonafideFlagRate))\(ci) |\n"
        }
        return out
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

struct SegmentScore: Codable {
    var start: Double
    var end: Double
    /// Nil when the decision is no-speech.
    var llr: Double?
    var decision: SpoofDecision
    var speechScore: Double?
    var confirmedSpeechSeconds: Double?
    enum CodingKeys: String, CodingKey {
        case start = "start_seconds", end = "end_seconds", llr, decision, speechScore = "speech_score"
        case confirmedSpeechSeconds = "confirmed_speech_seconds"
    }
}

struct FileScore: Codable {
    var path: String
    /// Nil when the decision is no-speech (or on error).
    var llr: Double?
    var decision: SpoofDecision?
    /// The speech gate's log-odds of speech (nil without a gate, or for silence).
    var speechScore: Double?
    /// Seconds of speech Silero found when the gate asked it to confirm (nil when not asked).
    var confirmedSpeechSeconds: Double?
    var segments: [SegmentScore]?
    var error: ErrorReport?
    enum CodingKeys: String, CodingKey {
        case path, llr, decision, speechScore = "speech_score", confirmedSpeechSeconds = "confirmed_speech_seconds", segments, error
    }
}

struct DetectFilesOutput: Codable {
    var schema = "voiceguard.detect/1"
    var polarity = "llr: natural log, higher = bona fide"
    var model: String
    var files: [FileScore]
    var decisions = "bonafide, synthetic, abstain, or no-speech (the speech gate found music, tones, noise or silence; llr is null)"
    enum CodingKeys: String, CodingKey { case schema, polarity, decisions, files, model = "model_training_sha256" }
}

struct GroupMetrics: Codable {
    var attribute: String
    var value: String
    var metrics: SpoofMetrics
}

struct EvalOutput: Codable {
    var schema = "voiceguard.detect-eval/1"
    var manifest: String
    var split: String
    var threshold: Double
    var overall: SpoofMetrics
    var groups: [GroupMetrics]
    var failures: [String]
}

/// `--threshold` must be a finite LLR (natural log) within ±1000.
func validateThreshold(_ threshold: Double) throws {
    guard threshold.isFinite && abs(threshold) <= 1_000 else {
        throw ValidationError("--threshold \(threshold): expected a finite log-likelihood ratio between -1000 and 1000")
    }
}

/// `--strength` must be within the watermark's 0.25…4.
func validateStrength(_ strength: Double) throws {
    guard (0.25...4).contains(strength) else { throw ValidationError("--strength \(strength): expected 0.25 to 4") }
}
