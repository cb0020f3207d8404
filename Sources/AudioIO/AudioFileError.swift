public import AudioCore

/// Why an audio file or stream could not be read or written.
///
/// Each case's `description` names the file (or `stdin`/`stdout`), the position where
/// it applies (byte offset or frame) and what was expected, in one sentence.
public enum AudioFileError: VoiceGuardError, Equatable {
    /// No file at `path`.
    case notFound(path: String)
    /// `path` is a directory, not a file.
    case isDirectory(path: String)
    /// The file exists but cannot be opened for reading.
    case notReadable(path: String, reason: String)
    /// The file has zero bytes.
    case empty(path: String)
    /// The first bytes match no audio format; `found` describes them.
    case notAudio(path: String, found: String)
    /// The container was recognised but its header is invalid at `byteOffset`.
    case malformedHeader(path: String, container: String, byteOffset: Int?, detail: String)
    /// The file ends before the data its header declares.
    case truncated(path: String, byteOffset: Int, declaredFrames: Int, availableFrames: Int)
    /// Decoding failed at `frame` (0-based frame index where reading stopped).
    case decodeFailed(path: String, frame: Int, detail: String)
    /// Raw input parameters are missing or out of range.
    case invalidRawParameters(detail: String)
    /// The requested output format cannot be written (e.g. Opus at 44.1 kHz).
    case unsupportedOutput(path: String, detail: String)
    /// The output exists and overwriting was not allowed.
    case outputExists(path: String)
    /// The output path names an input of the same command.
    case wouldOverwriteInput(path: String)
    /// The output (or its temporary file) could not be created.
    case cannotCreate(path: String, reason: String)
    /// Writing failed after the output was opened; nothing was left at `path`.
    case writeFailed(path: String, detail: String)
    /// A system read error (not a format problem).
    case readFailed(path: String, detail: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .notFound, .isDirectory, .notReadable: .noInput
        case .empty, .notAudio, .malformedHeader, .truncated, .decodeFailed: .dataError
        case .invalidRawParameters, .unsupportedOutput: .usage
        case .outputExists, .wouldOverwriteInput, .cannotCreate: .cannotCreate
        case .writeFailed, .readFailed: .ioError
        }
    }

    public var code: String {
        switch self {
        case .notFound: "not-found"
        case .isDirectory: "is-directory"
        case .notReadable: "not-readable"
        case .empty: "empty"
        case .notAudio: "not-audio"
        case .malformedHeader: "malformed-header"
        case .truncated: "truncated"
        case .decodeFailed: "decode-failed"
        case .invalidRawParameters: "invalid-raw-parameters"
        case .unsupportedOutput: "unsupported-output"
        case .outputExists: "output-exists"
        case .wouldOverwriteInput: "would-overwrite-input"
        case .cannotCreate: "cannot-create"
        case .writeFailed: "write-failed"
        case .readFailed: "read-failed"
        }
    }

    public var description: String {
        switch self {
        case .notFound(let p):
            "\(p): no such file"
        case .isDirectory(let p):
            "\(p): is a directory; expected an audio file"
        case .notReadable(let p, let reason):
            "\(p): cannot open for reading: \(reason)"
        case .empty(let p):
            "\(p): file is empty (0 bytes); expected an audio header at byte 0"
        case .notAudio(let p, let found):
            "\(p): byte 0: not a recognised audio file: expected a header such as RIFF/WAVE, RF64, fLaC, OggS, ID3 or an MPEG frame sync, found \(found)"
        case .malformedHeader(let p, let container, let offset, let detail):
            "\(p): \(offset.map { "byte \($0): " } ?? "")malformed \(container) header: \(detail)"
        case .truncated(let p, let offset, let declared, let available):
            "\(p): byte \(offset): truncated: the header declares \(declared) frames but the file ends after \(available)"
        case .decodeFailed(let p, let frame, let detail):
            "\(p): frame \(frame): decoding failed: \(detail)"
        case .invalidRawParameters(let detail):
            "raw input: \(detail)"
        case .unsupportedOutput(let p, let detail):
            "\(p): cannot write this format: \(detail)"
        case .outputExists(let p):
            "\(p): output exists; pass -y/--overwrite to replace it"
        case .wouldOverwriteInput(let p):
            "\(p): refusing to write over an input file; choose another output path"
        case .cannotCreate(let p, let reason):
            "\(p): cannot create output: \(reason)"
        case .writeFailed(let p, let detail):
            "\(p): write failed: \(detail); no output was left behind"
        case .readFailed(let p, let detail):
            "\(p): read error: \(detail)"
        }
    }
}
