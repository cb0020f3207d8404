import ArgumentParser
import Foundation
import VoiceGuard

/// `voiceguard corpus …`: checks on corpora built by `Corpora/build`.
struct CorpusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Validate corpus manifests and measure shortcut cues.",
        subcommands: [ValidateCommand.self, CuesCommand.self])
}

extension CorpusCommand {
    /// `voiceguard corpus validate MANIFEST...`
    struct ValidateCommand: AsyncParsableCommand, AsyncRunnable {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check that every file exists, decodes and has its stated duration, that transcripts are present, and that splits are disjoint by speaker and (for test) by engine.",
            discussion: "Exit status 0 when every manifest passes, 1 when problems were found (listed), 65/66 when a manifest cannot be read.")

        @Argument(help: "Manifests (.csv or .jsonl); relative audio paths resolve against each manifest's folder.")
        var manifests: [String]

        @Option(name: [.customShort("j"), .long], help: "Files decoded at once.")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .long, help: "Allowed difference between decoded and stated duration, seconds.")
        var durationTolerance: Double = 0.05

        @OptionGroup var global: GlobalOptions

        func run() async throws { try await runAsync() }

        func runAsync() async throws {
            let console = global.console
            var reports: [CorpusValidationReport] = []
            try await runReportingErrors(console) {
                for path in manifests {
                    let manifest = try loadManifest(path)
                    let report = await CorpusValidator.validate(manifest, durationTolerance: durationTolerance, jobs: jobs)
                    reports.append(report)
                    if !global.json {
                        let status = report.passed ? "ok" : "FAILED"
                        console.info("\(path): \(status): \(report.verified)/\(report.records) files verified, \(String(format: "%.1f", report.totalSeconds / 60)) min; \(report.itemProblems.count) item problems, \(report.splitProblems.count) split problems")
                        for p in report.itemProblems.prefix(20) { console.info("  line \(p.line) (\(p.id)): \(p.problem)") }
                        if report.itemProblems.count > 20 { console.info("  … \(report.itemProblems.count - 20) more") }
                        for p in report.splitProblems { console.info("  split: \(p)") }
                    }
                }
            }
            if global.json { try Console.printJSON(ValidationOutput(reports: reports)) }
            if !reports.allSatisfy(\.passed) { throw ExitCode(ExitStatus.negative) }
        }
    }

    /// `voiceguard corpus cues MANIFEST...`
    struct CuesCommand: AsyncParsableCommand, AsyncRunnable {
        static let configuration = CommandConfiguration(
            commandName: "cues",
            abstract: "Measure how well trivial cues (sample rate, energy above 4 kHz, leading/trailing silence, duration, active level; the language and channel_codec columns when the manifest has them) alone separate bona fide from spoof, as EERs.",
            discussion: "With --require-min-eer, exits 1 when any cue separates the labels better than that (a shortcut).")

        @Argument(help: "Manifests with a label column (bonafide/spoof).")
        var manifests: [String]

        @Option(name: [.customShort("j"), .long], help: "Files decoded at once.")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .long, help: "Fail when a cue's EER is below this fraction (e.g. 0.40).")
        var requireMinEer: Double?

        @Option(name: .long, help: "Also write the table as Markdown to this file.")
        var markdown: String?

        @OptionGroup var global: GlobalOptions

        func run() async throws { try await runAsync() }

        func runAsync() async throws {
            let console = global.console
            var reports: [TrivialCueReport] = []
            try await runReportingErrors(console) {
                for path in manifests {
                    reports.append(await TrivialCueReport.compute(try loadManifest(path, requiring: ["label"]), jobs: jobs))
                }
            }
            let table = Self.markdownTable(reports)
            if let markdown {
                try? FileManager.default.createDirectory(atPath: (markdown as NSString).deletingLastPathComponent,
                                                         withIntermediateDirectories: true)
                try table.write(toFile: markdown, atomically: true, encoding: .utf8)
            }
            if global.json { try Console.printJSON(CuesOutput(reports: reports)) } else { Console.writeOutput(table) }
            if let minimum = requireMinEer {
                let failing = reports.flatMap { r in r.equalErrorRates.filter { $0.value < minimum }.map { "\(r.channel) \($0.key) \(String(format: "%.1f", 100 * $0.value)) %" } }
                if !failing.isEmpty {
                    console.error("cues separate the labels better than \(String(format: "%.0f", 100 * minimum)) % EER: \(failing.joined(separator: "; "))")
                    throw ExitCode(ExitStatus.negative)
                }
            }
        }

        static func markdownTable(_ reports: [TrivialCueReport]) -> String {
            // Every cue any report has, in report order (the channel_codec cue exists on the aug track only).
            var names: [String] = []
            for name in reports.flatMap(\.cueNames) where !names.contains(name) { names.append(name) }
            if names.isEmpty { names = TrivialCues.names }
            var lines = ["| track | bona fide | spoof | " + names.joined(separator: " | ") + " |",
                         "|---|---:|---:|" + String(repeating: "---:|", count: names.count)]
            for r in reports {
                let cells = names.map { r.equalErrorRates[$0].map { String(format: "%.1f %%", 100 * $0) } ?? "—" }
                lines.append("| \(r.channel) | \(r.bonafide) | \(r.spoof) | " + cells.joined(separator: " | ") + " |")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}

/// JSON printed by `corpus validate --json`.
struct ValidationOutput: Codable {
    var schema = "voiceguard.corpus-validate/1"
    var reports: [CorpusValidationReport]
}

/// JSON printed by `corpus cues --json`.
struct CuesOutput: Codable {
    var schema = "voiceguard.corpus-cues/1"
    var reports: [TrivialCueReport]
}

/// Reads a manifest (untyped throws: keeps typed-throw values out of async catch blocks).
func loadManifest(_ path: String, requiring columns: [String] = []) throws -> Manifest {
    try Manifest.read(path: path, requiring: columns)
}
