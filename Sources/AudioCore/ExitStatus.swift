/// Process exit statuses, following BSD `sysexits.h`, that every VoiceGuard command uses.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success.
    case success = 0
    /// A check ran and its answer was "no" (e.g. no watermark found); not an error.
    case negative = 1
    /// The command was used incorrectly (bad flag, bad value). `EX_USAGE`.
    case usage = 64
    /// The input data was malformed (bad header, truncated, unsupported content). `EX_DATAERR`.
    case dataError = 65
    /// An input file did not exist or was not readable. `EX_NOINPUT`.
    case noInput = 66
    /// An internal software error. `EX_SOFTWARE`.
    case software = 70
    /// An output file could not be created (exists, permission, directory missing). `EX_CANTCREAT`.
    case cannotCreate = 73
    /// An error occurred while reading or writing. `EX_IOERR`.
    case ioError = 74
}

/// An error that knows which exit status a command-line tool should end with.
///
/// Every error type in VoiceGuard conforms, so that the CLI maps failures to
/// sysexits-style codes without guessing. `description` is one human-readable sentence
/// that names the file, the position and what was expected where those apply.
public protocol VoiceGuardError: Error, CustomStringConvertible, Sendable {
    /// The exit status a command should end with when this error stops it.
    var exitStatus: ExitStatus { get }
    /// A stable machine-readable identifier such as `"truncated"` or `"not-audio"`.
    var code: String { get }
}
