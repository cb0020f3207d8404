public import AudioCore

/// Errors of the audit module.
public enum AuditError: VoiceGuardError, Equatable {
    /// An output exists and would be overwritten or mixed with.
    case outputExists(path: String, hint: String)
    /// An output could not be written.
    case cannotWrite(path: String, detail: String)
    /// A results log holds a line that is not a result.
    case badResults(path: String, line: Int, detail: String)
    /// A setting is invalid.
    case invalidSetting(detail: String)
    /// Shard outputs cannot be merged (different manifests or settings, or missing shards).
    case cannotMerge(detail: String)
    /// A manifest format could not be read.
    case badManifest(path: String, line: Int, detail: String)

    /// Process exit status for this error.
    public var exitStatus: ExitStatus {
        switch self {
        case .outputExists, .cannotWrite: .cannotCreate
        case .badResults, .badManifest: .dataError
        case .invalidSetting: .usage
        case .cannotMerge: .dataError
        }
    }

    /// Stable machine-readable code.
    public var code: String {
        switch self {
        case .outputExists: "output_exists"
        case .cannotWrite: "cannot_write"
        case .badResults: "bad_results"
        case .invalidSetting: "invalid_setting"
        case .cannotMerge: "cannot_merge"
        case .badManifest: "bad_manifest"
        }
    }

    /// What went wrong, where, and what was expected.
    public var description: String {
        switch self {
        case let .outputExists(path, hint): "\(path): already holds results; \(hint)"
        case let .cannotWrite(path, detail): "\(path): cannot write: \(detail)"
        case let .badResults(path, line, detail): "\(path):\(line): \(detail)"
        case let .invalidSetting(detail): detail
        case let .cannotMerge(detail): "cannot merge: \(detail)"
        case let .badManifest(path, line, detail): "\(path):\(line): \(detail)"
        }
    }
}
