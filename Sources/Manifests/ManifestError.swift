public import AudioCore

/// Why a manifest could not be read. Every case names the file and, where it applies, the line.
public enum ManifestError: VoiceGuardError, Equatable {
    /// No file at `path`.
    case notFound(path: String)
    /// The file has no header or no records.
    case empty(path: String)
    /// The manifest's extension is none of those supported.
    case unsupportedFormat(path: String)
    /// A required column is absent from the header (CSV) or from a record (JSONL).
    case missingColumn(path: String, line: Int, column: String)
    /// A record cannot be parsed.
    case badRecord(path: String, line: Int, detail: String)
    /// Two records share an `id`.
    case duplicateID(path: String, line: Int, id: String, firstLine: Int)

    public var exitStatus: ExitStatus {
        switch self {
        case .notFound: .noInput
        case .unsupportedFormat: .usage
        default: .dataError
        }
    }

    public var code: String {
        switch self {
        case .notFound: "manifest-not-found"
        case .empty: "manifest-empty"
        case .unsupportedFormat: "manifest-format"
        case .missingColumn: "manifest-missing-column"
        case .badRecord: "manifest-bad-record"
        case .duplicateID: "manifest-duplicate-id"
        }
    }

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): no such manifest"
        case .empty(let p): "\(p): manifest is empty; expected a header line and at least one record"
        case .unsupportedFormat(let p): "\(p): unknown manifest format; expected .csv or .jsonl"
        case .missingColumn(let p, let l, let c): "\(p): line \(l): column '\(c)' is missing"
        case .badRecord(let p, let l, let d): "\(p): line \(l): \(d)"
        case .duplicateID(let p, let l, let id, let first): "\(p): line \(l): id '\(id)' already used on line \(first)"
        }
    }
}
