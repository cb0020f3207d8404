import ArgumentParser
import Foundation
import VoiceGuard

/// `voiceguard redact`: remove every voice but the primary talker's before a recording is stored.
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Remove every voice but the primary talker's (privacy mode); fail closed.",
        discussion: """
        The primary talker is the enrolled one (--keep REF.wav, one or more clips; it must be found present in \
        the recording, else all speech is removed) or the dominant one (--dominant: the talker holding most of \
        the speech; when nobody holds half of it, all speech is removed). Needs the pretrained networks \
        (scripts/fetch-models; VOICEGUARD_MODELS names their folder). Speech that cannot be attributed is removed unless --overlap keep. Nothing unredacted is \
        ever written: the output is built in memory and written atomically after redaction. IN or OUT may be - \
        (pipes). The log (--log) lists every removed segment with times, reason and scores.
        """)

    @Argument(help: "Input audio (- for stdin).") var input: String
    @Argument(help: "Redacted output (- for stdout; format from the extension, else the input's).") var output: String
    @Option(name: .long, parsing: .upToNextOption, help: "Enrollment clip(s) of the primary talker.") var keep: [String] = []
    @Flag(name: .long, help: "No enrollment: keep the dominant talker.") var dominant = false
    @Option(name: .long, help: "mute, noise or tone.") var method = "mute"
    @Option(name: .long, help: "Uncertain speech: mute (default, fail closed) or keep (only next to the primary talker's speech, where it can overlap it; uncertain speech elsewhere is always removed).") var overlap = "mute"
    @Option(name: .long, help: "Attenuation of removed audio, dB.") var attenuation = 60.0
    @Option(name: .long, help: "Write the JSON log of the redaction here.") var log: String?
    @Option(name: .long, help: "Write the kept/removed segments as RTTM here.") var rttm: String?
    @Option(name: .long, help: "Redaction model file (default: the one built in).") var model: String?
    @Flag(name: .long, help: "Stream: read and write block by block with a bounded look-ahead (≤ 0.5 s, in the log) and constant memory.") var streaming = false
    @Flag(name: [.customShort("y"), .long], help: "Replace OUT if it exists.") var overwrite = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard keep.isEmpty != !dominant else { throw ValidationError("give either --keep REF.wav… (enrolled mode) or --dominant") }
        guard RedactionMethod(rawValue: method) != nil else { throw ValidationError("--method \(method): expected mute, noise or tone") }
        guard PrivacyFilter.OverlapPolicy(rawValue: overlap) != nil else { throw ValidationError("--overlap \(overlap): expected mute or keep") }
        guard (0...120).contains(attenuation) else { throw ValidationError("--attenuation \(attenuation): expected 0 to 120 dB") }
    }

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            let redactionModel = try model.map { try RedactionModel.load(path: $0) } ?? RedactionModel.bundled
            var filter = try PrivacyFilter(model: redactionModel)
            filter.overlap = PrivacyFilter.OverlapPolicy(rawValue: overlap)!
            let started = Date()
            let reader = try AudioFileReader(path: input)
            let info = reader.info
            let mode: PrimaryTalkerMode
            if dominant { mode = .dominant } else {
                let clips = try keep.map { ($0, try AudioFileReader.read(path: $0)) }
                mode = .enrolled(try InputFileProblem.naming(keep.joined(separator: ", ")) { try filter.enroll(clips) })
            }
            let redactor = Redactor(method: RedactionMethod(rawValue: method)!, attenuationDB: attenuation)
            var format = info.format ?? AudioFormat(container: .wav, encoding: .pcm16)
            if output != "-", let inferred = AudioFormat.inferred(fromPath: output) {
                format = AudioFormat(container: inferred.container,
                                     encoding: AudioFormat.encodings(for: inferred.container).contains(format.encoding) ? format.encoding : inferred.encoding)
            }
            if output == "-" && ![.wav, .au, .raw].contains(format.container) { format = AudioFormat(container: .wav, encoding: .pcm16) }
            let options = AudioFileWriter.Options(overwrite: overwrite, protectedInputs: [input] + keep)
            let tool = "voiceguard \(VoiceGuardVersion.current)", modeName = dominant ? "dominant" : "enrolled"
            let report: RedactionReport
            if streaming {
                report = try InputFileProblem.naming(input) {
                    try redactStreaming(reader: reader, filter: filter, mode: mode, redactor: redactor, format: format, options: options,
                                        started: started, tool: tool, modeName: modeName)
                }
            } else {
                let audio = try reader.readAll()
                let plan = try InputFileProblem.naming(input) { try filter.plan(audio, mode: mode) }
                let redacted = redactor.apply(audio, removed: plan.redacted)
                report = RedactionReport(plan: plan, input: input, output: output, mode: modeName,
                                         method: method, overlap: overlap, attenuationDB: attenuation,
                                         duration: Double(audio.frameCount) / audio.sampleRate,
                                         processingSeconds: Date().timeIntervalSince(started), tool: tool)
                // Only redacted audio ever reaches the writer, which renames into place on success.
                try AudioFileWriter.write(redacted, to: output, format: format, options: options)
            }
            if let log { try writeText(String(decoding: try report.encoded(), as: UTF8.self) + "\n", to: log) }
            if let rttm { try writeText(report.rttm(fileID: URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent), to: rttm) }
            if global.json {
                print(String(decoding: try report.encoded(), as: UTF8.self))
            } else {
                console.info(report.summary)
            }
        }
    }

    /// Streams `reader` through the filter into the output: only redacted blocks reach the writer, and on any error
    /// the writer is abandoned (a file output's temporary file is deleted; nothing is moved into place).
    private func redactStreaming(reader: AudioFileReader, filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor, format: AudioFormat,
                                 options: AudioFileWriter.Options, started: Date, tool: String, modeName: String) throws -> RedactionReport {
        let info = reader.info
        let stream = try StreamingPrivacyFilter(filter: filter, mode: mode, redactor: redactor, sampleRate: Double(info.sampleRate),
                                                channelCount: info.channelCount)
        let writer = try AudioFileWriter(path: output, format: format, sampleRate: info.sampleRate, channelCount: info.channelCount, options: options)
        var block: [Float] = []
        do {
            let frames = try reader.forEachBlock(blockFrames: 4_096) { samples in
                block.removeAll(keepingCapacity: true)
                try stream.process(samples, appendingTo: &block)
                try writer.write(block)
            }
            block.removeAll(keepingCapacity: true)
            try stream.finish(appendingTo: &block)
            try writer.write(block)
            try writer.finish()
            var report = RedactionReport(log: stream.log, input: input, output: output, mode: modeName, primaryDecision: stream.primaryDecision,
                                         primaryConfidence: stream.primaryConfidence, method: method, overlap: overlap, attenuationDB: attenuation,
                                         duration: Double(frames) / Double(info.sampleRate), lookaheadSeconds: stream.lookaheadSeconds,
                                         processingSeconds: Date().timeIntervalSince(started), tool: tool)
            report.analysis = "streaming"
            report.measuredLagSeconds = stream.measuredLagSeconds
            return report
        } catch {
            writer.abort()
            throw error
        }
    }

    private func writeText(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw AudioFileError.cannotCreate(path: path, reason: error.localizedDescription)
        }
    }
}

/// `voiceguard redact-train`: fit the privacy filter's thresholds on labelled mixtures.
struct RedactTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact-train",
        abstract: "Fit the redaction thresholds (speaker keep thresholds, dominant-talker neighbourhood) on labelled mixtures.",
        discussion: """
        The networks are pretrained (Silero VAD, Resemblyzer GE2E; scripts/fetch-models) and stay as they are; this \
        chooses where to cut their scores: each keep threshold at the frame-level equal error rate between primary and \
        background speech of the --split rows, the dominant neighbourhood at the segment-pair equal error rate.
        """)

    @Option(name: .long, help: "Mixtures manifest with frame_labels (and enrollment) columns.") var mixtures: String
    @Option(name: .long, help: "Utterance manifest (speaker column): its --split talkers make the score-normalisation cohort.") var speakers: String?
    @Option(name: .long, help: "Split value that fits the thresholds.") var split = "train"
    @Option(name: .long, help: "Model file to write (JSON).") var out: String
    @Flag(name: [.customShort("y"), .long], help: "Replace the model if it exists.") var overwrite = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            if !overwrite && FileManager.default.fileExists(atPath: out) { throw AudioFileError.outputExists(path: out) }
            let mixtureManifest = try loadManifest(mixtures, requiring: ["split", "frame_labels"])
            let perception = try PrivacyFilter(model: RedactionModel.bundled).perception
            warnIfNoCasts(mixtureManifest, console: console)
            let speakerManifest = try speakers.map { try loadManifest($0, requiring: ["speaker", "split"]) }
            let model = try RedactionTrainer.train(mixtures: mixtureManifest, speakers: speakerManifest, split: split, perception: perception) {
                console.info($0)
            }
            do { try model.encoded().write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw AudioFileError.cannotCreate(path: out, reason: error.localizedDescription)
            }
            console.info("\(out): redaction model written")
        }
    }
}

/// `voiceguard redact-eval`: leakage and retention of the privacy filter on labelled mixtures.
struct RedactEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact-eval",
        abstract: "Measure background leakage and primary retention on mixtures with frame labels.")

    @Argument(help: "Mixtures manifest (frame_labels, enrollment columns).") var manifest: String
    @Option(name: .long, help: "Split to evaluate.") var split = "test"
    @Option(name: .long, help: "enrolled, dominant or both.") var mode = "both"
    @Option(name: .long, help: "Uncertain speech: mute or keep.") var overlap = "mute"
    @Option(name: .long, help: "Redaction model file (default: the one built in).") var model: String?
    @Option(name: .long, help: "Utterance manifest (speaker column) for the re-identification attack's clean enrollments.") var speakers: String?
    @Flag(name: .long, help: "Evaluate the streaming filter (bounded look-ahead) instead of whole-file analysis.") var streaming = false
    @Flag(name: .long, help: "Also run enrolled mode with the enrollment of someone absent from each mixture (fail-closed check: speech kept).") var absent = false
    @Option(name: .long, help: "Write one JSON line per scored segment here (whole-file runs): score, level, ground-truth label counts.") var segments: String?
    @Option(name: .customLong("group-by"), help: "Also break the results down by this manifest column (e.g. condition, language, overlap).") var groupBy: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            guard ["enrolled", "dominant", "both"].contains(mode) else { throw ValidationError("--mode \(mode): expected enrolled, dominant or both") }
            let redactionModel = try model.map { try RedactionModel.load(path: $0) } ?? RedactionModel.bundled
            var filter = try PrivacyFilter(model: redactionModel)
            guard let policy = PrivacyFilter.OverlapPolicy(rawValue: overlap) else { throw ValidationError("--overlap \(overlap): expected mute or keep") }
            filter.overlap = policy
            let rows = try loadManifest(manifest, requiring: ["split", "frame_labels"] + (groupBy.map { [$0] } ?? []))
            var results: [String: RedactionEvaluation] = [:]
            var attacks: [String: ReidentificationResult] = [:]
            let speakerRows = try speakers.map { try loadManifest($0, requiring: ["speaker"]) }
            var modes = mode == "both" ? ["enrolled", "dominant"] : [mode]
            if absent { modes.append("absent"); warnIfNoCasts(rows, console: console) }
            for m in modes {
                var lines: [String] = []
                results[m] = RedactionEvaluation.run(filter, manifest: rows, split: split, enrolled: m != "dominant", streaming: streaming, absent: m == "absent",
                                                     groupBy: groupBy,
                                                     segmentLog: segments == nil ? nil : { lines.append("{\"mode\":\"\(m)\"," + $0.dropFirst()) })
                if let segments {
                    let path = modes.count > 1 ? segments + "." + m : segments
                    do { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                        throw AudioFileError.cannotCreate(path: path, reason: error.localizedDescription)
                    }
                }
                if let speakerRows, m != "absent" {
                    attacks[m] = ReidentificationResult.run(filter, mixtures: rows, speakers: speakerRows, split: split, enrolled: m == "enrolled",
                                                            streaming: streaming)
                }
            }
            if global.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                struct Output: Encodable { var filter: [String: RedactionEvaluation]; var reidentification: [String: ReidentificationResult] }
                print(String(decoding: try encoder.encode(Output(filter: results, reidentification: attacks)), as: UTF8.self))
                return
            }
            print("| mode | mixtures | primary retention | background leakage (non-overlapped) | overlap kept | non-speech removed | VAD ROC-AUC | no dominant / enrolled not found | speed |")
            print("|---|---|---|---|---|---|---|---|---|")
            for m in ["enrolled", "dominant", "absent"] {
                guard let r = results[m] else { continue }
                if let kept = r.absentSpeechKept {
                    print(String(format: "| enrolled, someone absent | %d | speech kept: %.1f %% of %d speech frames (target ≤ 2 %%) | | | | | %d | %.0f× |", r.mixtures,
                                 kept * 100, r.primaryFrames + r.backgroundFrames + r.overlapFrames, r.enrolledNotFound, r.realTimeFactor))
                    continue
                }
                print(String(format: "| %@ | %d | %.1f %% of %d | %.1f %% of %d | %.1f %% of %d | %.1f %% of %d | %.3f | %d | %.0f× |", m, r.mixtures,
                             r.primaryRetention * 100, r.primaryFrames, r.backgroundLeakage * 100, r.backgroundFrames,
                             r.overlapKept * 100, r.overlapFrames, r.noneRemoved * 100, r.noneFrames, r.voiceActivityAUC,
                             m == "dominant" ? r.noDominant : r.enrolledNotFound, r.realTimeFactor))
                for f in r.failures.prefix(5) { console.warning(f) }
                console.info("\(m): primary frames removed by reason: " + r.primaryLoss.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                             + "; background frames left by reason: " + r.backgroundLeft.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            if let groupBy {
                print("\n| mode | \(groupBy) | mixtures | primary retention | background leakage (non-overlapped) | overlap kept | enrolled not found | absent enrollment: speech kept |")
                print("|---|---|---|---|---|---|---|---|")
                for m in ["enrolled", "dominant", "absent"] {
                    guard let r = results[m] else { continue }
                    for (key, g) in r.groups.sorted(by: { $0.key < $1.key }) {
                        if let kept = g.absentSpeechKept {
                            print(String(format: "| enrolled, someone absent | %@ | %d | | | | %d | %.1f %% |", key, g.mixtures, g.enrolledNotFound, kept * 100))
                        } else {
                            print(String(format: "| %@ | %@ | %d | %.1f %% of %d | %.1f %% of %d | %.1f %% of %d | %@ | |", m, key, g.mixtures,
                                         g.primaryRetention * 100, g.primaryFrames, g.backgroundLeakage * 100, g.backgroundFrames,
                                         g.overlapKept * 100, g.overlapFrames, m == "enrolled" ? "\(g.enrolledNotFound)" : ""))
                        }
                    }
                }
            }
            if !attacks.isEmpty {
                print("\n| mode | background segments | trials | attacker EER on the input | attacker EER on the redacted output | segments left without speech |")
                print("|---|---|---|---|---|---|")
                for m in ["enrolled", "dominant"] {
                    guard let a = attacks[m] else { continue }
                    print(String(format: "| %@ | %d | %d | %.1f %% | %.1f %% | %d |", m, a.segments, a.trials, a.eerUnredacted * 100, a.eerRedacted * 100, a.emptySegments))
                }
            }
        }
    }
}

/// `voiceguard speaker-eval`: speaker verification EER of the filter's speaker embedding on held-out speakers.
struct SpeakerEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speaker-eval",
        abstract: "Speaker verification EER of the privacy filter's speaker embedding (GE2E) on utterances of held-out speakers.")

    @Argument(help: "Utterance manifest(s) with speaker, split and label columns (e.g. the speech set's wide and tel tracks).") var manifests: [String]
    @Option(name: .long, help: "Comma-separated splits whose speakers are used.") var splits = "dev,test"
    @Option(name: .long, help: "Utterances per speaker.") var perSpeaker = 30
    @Option(name: .long, help: "Length of the short pieces, seconds of speech.") var shortSeconds = 1.0
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            let filter = try PrivacyFilter(model: RedactionModel.bundled)
            var results: [String: SpeakerVerificationResult] = [:]
            for path in manifests {
                let rows = try loadManifest(path, requiring: ["speaker", "split"])
                guard let r = SpeakerVerificationResult.run(filter, manifest: rows, splits: Set(splits.split(separator: ",").map(String.init)),
                                                            perSpeaker: perSpeaker, shortSeconds: shortSeconds) else {
                    throw RedactionError.badTrainingData(detail: "\(path): fewer than two speakers with usable utterances in splits \(splits)")
                }
                results[path] = r
            }
            if global.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(results), as: UTF8.self))
                return
            }
            print("| manifest | speakers | utterances | target / non-target trials | EER whole utterances | EER first \(shortSeconds) s of speech |")
            print("|---|---|---|---|---|---|")
            for path in manifests {
                let r = results[path]!
                print(String(format: "| %@ | %d | %d | %d / %d | %.1f %% | %.1f %% |", (path as NSString).lastPathComponent, r.speakers, r.utterances,
                             r.targetTrials, r.nonTargetTrials, r.eer * 100, r.eerShort * 100))
            }
        }
    }
}

/// `voiceguard perception-speed`: what each pretrained network costs on given audio (× real time, one core).
struct PerceptionSpeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perception-speed",
        abstract: "Time the privacy filter's networks on audio: Silero VAD, the GE2E mel front end and encoder, the whole filter.")

    @Argument(help: "Audio files.") var files: [String]
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            let filter = try PrivacyFilter(model: RedactionModel.bundled)
            var seconds = 0.0, vad = 0.0, mel = 0.0, encoder = 0.0, whole = 0.0
            for path in files {
                let audio = try AudioFileReader.read(path: path)
                let signal = try AnalysisSignal.make(audio)
                seconds += Double(signal.count) / AnalysisSignal.sampleRate
                var t = Date()
                _ = filter.perception.voiceActivity.windowProbabilities(signal)
                vad += Date().timeIntervalSince(t)
                t = Date()
                let frames = filter.perception.speakerEncoder.mel.frames(signal)
                mel += Date().timeIntervalSince(t)
                t = Date()
                var stream = filter.perception.speakerEncoder.makeStream()
                frames.withUnsafeBufferPointer { f in
                    for i in 0..<(f.count / 40) { stream.push(melFrame: UnsafeBufferPointer(rebasing: f[(i * 40)..<((i + 1) * 40)])) }
                }
                encoder += Date().timeIntervalSince(t)
                t = Date()
                _ = try filter.plan(audio, mode: .dominant)
                whole += Date().timeIntervalSince(t)
            }
            print(String(format: "%.1f s of audio: Silero VAD %.0f× real time, mel %.0f×, GE2E encoder on every frame %.0f×, whole filter (dominant) %.0f×",
                         seconds, seconds / vad, seconds / mel, seconds / encoder, seconds / whole))
        }
    }
}

/// Absent-talker runs (`redact-train`, `redact-eval --absent`) draw talkers from other casts (`cast` and
/// `background_casts` columns). A manifest without them treats every talker as their own cast, so two characters of
/// one game dub, possibly one actor, could count as "absent": say so.
func warnIfNoCasts(_ manifest: Manifest, console: Console) {
    guard !manifest.columns.contains("cast") else { return }
    console.warning("\(manifest.path): no 'cast' column: every talker counts as their own cast for absent-talker runs "
                    + "(rebuild the mixtures with Corpora/build to get cast and background_casts)")
}

/// A redaction error about the content of an input file, reported with that file's path.
struct InputFileProblem: VoiceGuardError {
    /// The input file.
    var path: String
    /// What is wrong at which position.
    var underlying: RedactionError

    var exitStatus: ExitStatus { underlying.exitStatus }
    var code: String { underlying.code }
    var description: String { "\(path): \(underlying.description)" }

    /// Runs `body`, naming `path` in a non-finite-sample error it throws (other errors pass through unchanged).
    static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as RedactionError {
            if case .nonFiniteSample = error { throw InputFileProblem(path: path, underlying: error) }
            throw error
        }
    }
}
