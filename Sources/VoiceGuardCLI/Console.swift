import Foundation
import VoiceGuard
import ArgumentParser

/// Human-facing messages on stderr, filtered by verbosity; machine output on stdout.
struct Console: Sendable {
    /// −1 quiet, 0 normal, ≥ 1 verbose.
    let verbosity: Int

    func info(_ message: @autoclosure () -> String) {
        if verbosity >= 0 { Self.writeError(message() + "\n") }
    }

    func detail(_ message: @autoclosure () -> String) {
        if verbosity >= 1 { Self.writeError(message() + "\n") }
    }

    func warning(_ message: String) {
        if verbosity >= 0 { Self.writeError("voiceguard: warning: \(message)\n") }
    }

    func error(_ message: String) {
        Self.writeError("voiceguard: error: \(message)\n")
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func writeOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Prints `value` as one JSON document on stdout (sorted keys, snake_case as declared).
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        writeOutput(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// The JSON shape of an error, shared by all commands.
struct ErrorReport: Codable, Sendable {
    var code: String
    var message: String
    var exitStatus: Int32

    enum CodingKeys: String, CodingKey {
        case code, message
        case exitStatus = "exit_status"
    }

    init(_ error: any Error) {
        if let e = error as? any VoiceGuardError {
            code = e.code
            message = e.description
            exitStatus = e.exitStatus.rawValue
        } else {
            code = "internal"
            message = String(describing: error)
            exitStatus = ExitStatus.software.rawValue
        }
    }
}

extension ExitCode {
    /// The process exit code for a VoiceGuard exit status.
    init(_ status: ExitStatus) { self.init(status.rawValue) }
}

/// Reports `error` on stderr and returns the exit code a command ends with: the error's own
/// sysexits status for VoiceGuard errors, 70 for anything unexpected; `ExitCode`s pass through.
func reportedExit(_ error: any Error, _ console: Console) -> ExitCode {
    switch error {
    case let exit as ExitCode:
        return exit
    case let error as any VoiceGuardError:
        console.error(error.description)
        return ExitCode(error.exitStatus)
    default:
        console.error("internal error: \(error)")
        return ExitCode(ExitStatus.software)
    }
}

/// Runs a command body, turning VoiceGuard errors into a message on stderr and the matching
/// sysexits-style exit code.
func runReportingErrors(_ console: Console, _ body: () throws -> Void) throws {
    do { try body() } catch { throw reportedExit(error, console) }
}

/// `runReportingErrors` for async command bodies.
func runReportingErrors(_ console: Console, _ body: () async throws -> Void) async throws {
    do { try await body() } catch { throw reportedExit(error, console) }
}
