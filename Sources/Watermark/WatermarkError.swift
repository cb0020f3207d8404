public import AudioCore

/// Why a watermark operation could not run. Messages never contain key material.
public enum WatermarkError: VoiceGuardError, Equatable {
    /// No key file at `path`.
    case keyNotFound(path: String)
    /// The key file is not a VoiceGuard key (wrong header, length or characters) at `line`.
    case malformedKey(path: String, line: Int, detail: String)
    /// The key file can be read by other users.
    case keyTooOpen(path: String, mode: String)
    /// The key file could not be created.
    case cannotWriteKey(path: String, reason: String)
    /// The payload is not hexadecimal of the expected length.
    case badPayload(detail: String)
    /// The audio is too short to hold (or to find) one watermark block.
    case audioTooShort(seconds: Double, minimumSeconds: Double)
    /// The configuration cannot mark this audio (e.g. sampling rate out of range).
    case unsupportedAudio(detail: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .keyNotFound: .noInput
        case .malformedKey, .keyTooOpen: .dataError
        case .cannotWriteKey: .cannotCreate
        case .badPayload: .usage
        case .audioTooShort, .unsupportedAudio: .dataError
        }
    }

    public var code: String {
        switch self {
        case .keyNotFound: "key-not-found"
        case .malformedKey: "malformed-key"
        case .keyTooOpen: "key-too-open"
        case .cannotWriteKey: "cannot-write-key"
        case .badPayload: "bad-payload"
        case .audioTooShort: "audio-too-short"
        case .unsupportedAudio: "unsupported-audio"
        }
    }

    public var description: String {
        switch self {
        case .keyNotFound(let p): "\(p): no such key file; create one with `voiceguard watermark gen-key \(p)`"
        case .malformedKey(let p, let l, let d): "\(p): line \(l): not a VoiceGuard watermark key: \(d)"
        case .keyTooOpen(let p, let m): "\(p): key file mode \(m) lets other users read it; run `chmod 600 \(p)`"
        case .cannotWriteKey(let p, let r): "\(p): cannot write the key: \(r)"
        case .badPayload(let d): "payload: \(d)"
        case .audioTooShort(let s, let m):
            "audio is \((s * 100).rounded() / 100) s long; a watermark block needs at least \((m * 100).rounded() / 100) s"
        case .unsupportedAudio(let d): "unsupported audio: \(d)"
        }
    }
}
