public import AudioCore

/// Why a pretrained network could not be loaded. Never a silent fallback: every case names the file and
/// what is wrong with it, and the missing-file case says how to get the weights.
public enum PerceptionError: VoiceGuardError, Equatable {
    /// The weight file is not there. `searched` lists the places looked at, in order.
    case weightsMissing(file: String, searched: [String])
    /// The file's SHA-256 is not the pinned one: a corrupt, truncated or different file.
    case checksumMismatch(path: String, expected: String, found: String)
    /// The file is not a well-formed safetensors file or lacks a tensor of the expected shape.
    case malformedWeights(path: String, detail: String)
    /// Input the network cannot take (wrong window length, empty signal).
    case invalidInput(detail: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .weightsMissing: .noInput
        case .checksumMismatch, .malformedWeights, .invalidInput: .dataError
        }
    }

    public var code: String {
        switch self {
        case .weightsMissing: "weights.missing"
        case .checksumMismatch: "weights.checksum-mismatch"
        case .malformedWeights: "weights.malformed"
        case .invalidInput: "perception.invalid-input"
        }
    }

    public var description: String {
        switch self {
        case let .weightsMissing(file, searched):
            "pretrained weights \(file) not found (looked in: \(searched.joined(separator: ", "))); "
                + "run scripts/fetch-models (or make deps), or set VOICEGUARD_MODELS to the folder holding them"
        case let .checksumMismatch(path, expected, found):
            "\(path): corrupt or foreign weight file: sha256 \(found), expected \(expected); delete it and run scripts/fetch-models"
        case let .malformedWeights(path, detail):
            "\(path): malformed weight file: \(detail)"
        case let .invalidInput(detail):
            "invalid input: \(detail)"
        }
    }
}
