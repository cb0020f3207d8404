public import ArgumentParser
import Foundation
import VoiceGuard

/// The `voiceguard` command: the root of every subcommand.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct VoiceGuardCommand: AsyncParsableCommand {
    /// Command name, help text, version and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "voiceguard",
        abstract: "Make voice audio safer to produce, share and keep.",
        discussion: """
        Exit status: 0 success; 1 a check answered "no"; 64 usage error; 65 bad input data; \
        66 missing or unreadable input; 70 internal error; 73 cannot create output; 74 I/O error.
        Machine-readable results go to stdout with --json; human messages go to stderr.
        """,
        version: VoiceGuardVersion.current,
        subcommands: [InfoCommand.self, ConvertCommand.self, WatermarkCommand.self, DetectCommand.self, TrainCommand.self, GateTrainCommand.self, GateEvalCommand.self,
                      CorpusCommand.self, RedactCommand.self, RedactTrainCommand.self, RedactEvalCommand.self, SpeakerEvalCommand.self, PerceptionSpeedCommand.self, AuditCommand.self])

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}
}

/// A subcommand whose work is asynchronous. `VoiceGuardCommand.runMain()` awaits it directly,
/// so dispatch never depends on how the compiler ranks ArgumentParser's sync and async `run()`.
protocol AsyncRunnable {
    func runAsync() async throws
}

@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
extension VoiceGuardCommand {
    /// Parses the process arguments and runs the chosen subcommand; exits with its status.
    public static func runMain() async {
        TemporaryFiles.installSignalCleanup()  // an interrupted run leaves no temporary output behind
        do {
            var command = try parseAsRoot()
            if let asyncCommand = command as? any AsyncRunnable {
                try await asyncCommand.runAsync()
            } else {
                try command.run()
            }
        } catch {
            // --help and --version (exit 0) print as ArgumentParser does; every other message carries our prefix.
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "voiceguard: error: " + message.dropFirst("Error: ".count) }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code.rawValue)
        }
    }
}
