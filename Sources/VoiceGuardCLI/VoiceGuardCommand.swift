public import ArgumentParser
import VoiceGuard

/// The `voiceguard` command: the root of every subcommand.
public struct VoiceGuardCommand: ParsableCommand {
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
        subcommands: [InfoCommand.self, ConvertCommand.self])

    /// Creates the command (ArgumentParser fills in the options).
    public init() {}
}
