import AudioCore
import Foundation

/// A secret watermark key: 256 random bits. Every pseudo-random choice of embedding and detection
/// derives from it through HMAC-SHA-256, so without it detection is at chance.
///
/// On disk a key is a text file with mode 0600: the line `voiceguard-watermark-key v1` and 64
/// hexadecimal digits. `description` never shows the key material.
public struct WatermarkKey: Sendable, Equatable, CustomStringConvertible {
    /// The key bytes (32).
    let bytes: [UInt8]

    static let header = "voiceguard-watermark-key v1"

    /// Creates a key from 16–64 bytes of secret material.
    public init(bytes: [UInt8]) throws(WatermarkError) {
        guard (16...64).contains(bytes.count) else {
            throw .badPayload(detail: "a key needs 16 to 64 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A new random key from the system's cryptographic generator.
    public static func generate() -> WatermarkKey {
        var rng = SystemRandomNumberGenerator()
        return try! WatermarkKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// "WatermarkKey(256 bits, fingerprint xxxxxxxx)": a short public fingerprint, never the key.
    public var description: String { "WatermarkKey(\(bytes.count * 8) bits, fingerprint \(fingerprint))" }

    /// Eight hex digits of SHA-256(key): identifies a key in logs without revealing it.
    public var fingerprint: String { SHA256.hash(bytes).prefix(4).map { String(format: "%02x", $0) }.joined() }

    /// Writes the key to a new file with mode 0600 (never replacing an existing file).
    public func write(to path: String) throws(WatermarkError) {
        let text = Self.header + "\n" + bytes.map { String(format: "%02x", $0) }.joined() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .cannotWriteKey(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let data = Array(text.utf8)
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            unlink(path)
            throw .cannotWriteKey(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Reads a key file. Refuses files that group or others can read.
    public static func read(from path: String) throws(WatermarkError) -> WatermarkKey {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw .keyNotFound(path: path) }
        if st.st_mode & 0o077 != 0 { throw .keyTooOpen(path: path, mode: String(st.st_mode & 0o777, radix: 8)) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .keyNotFound(path: path) }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init)?.trimmingCharacters(in: .whitespaces) == header else {
            throw .malformedKey(path: path, line: 1, detail: "expected the line '\(header)'")
        }
        guard lines.count >= 2 else { throw .malformedKey(path: path, line: 2, detail: "expected 64 hexadecimal digits") }
        let hex = lines[1].trimmingCharacters(in: .whitespaces)
        guard hex.count == 64, let bytes = Payload.bytes(fromHex: hex) else {
            throw .malformedKey(path: path, line: 2, detail: "expected 64 hexadecimal digits, found \(hex.count) characters")
        }
        return try WatermarkKey(bytes: bytes)
    }
}
