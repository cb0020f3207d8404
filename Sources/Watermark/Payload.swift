/// The message a watermark carries: 128 bits by default, 32 bits in short mode.
public struct Payload: Sendable, Hashable, CustomStringConvertible {
    /// Payload sizes.
    public enum Size: Int, Sendable, CaseIterable, Codable {
        /// 32 bits (8 hex digits): recovers from shorter audio.
        case short = 32
        /// 128 bits (32 hex digits): the default.
        case standard = 128

        /// Hex digits of a payload of this size.
        public var hexDigits: Int { rawValue / 4 }
    }

    /// The payload bits, most significant first.
    public let bits: [UInt8]

    /// The size class.
    public var size: Size { bits.count == 32 ? .short : .standard }

    /// Parses hexadecimal digits (case-insensitive, optional `0x`) of exactly the size's length.
    /// - Throws: `WatermarkError.badPayload` saying which character or length is wrong.
    public init(hex: String, size: Size = .standard) throws(WatermarkError) {
        var text = hex.lowercased()
        if text.hasPrefix("0x") { text.removeFirst(2) }
        // ASCII digits only: Character.isHexDigit also accepts full-width digits (U+FF10…), which are not hex here.
        if let bad = text.firstIndex(where: { !($0.isASCII && $0.isHexDigit) }) {
            let position = text.distance(from: text.startIndex, to: bad) + 1
            throw .badPayload(detail: "character \(position) ('\(text[bad])') is not a hexadecimal digit (0-9, a-f)")
        }
        guard text.count == size.hexDigits else {
            throw .badPayload(detail: "\(text.count) hex digits; a \(size.rawValue)-bit payload needs exactly \(size.hexDigits)\(size == .standard ? " (use --short for 8)" : "")")
        }
        guard let bytes = Self.bytes(fromHex: text) else { throw .badPayload(detail: "not hexadecimal: \(hex)") }
        bits = bytes.flatMap { b in (0..<8).map { (b >> (7 - $0)) & 1 } }
    }

    /// A payload from bits (32 or 128 of them, each 0 or 1).
    init(bits: [UInt8]) {
        precondition(bits.count == 32 || bits.count == 128)
        self.bits = bits
    }

    /// Lower-case hexadecimal.
    public var hex: String {
        stride(from: 0, to: bits.count, by: 4).map { i in
            String(bits[i..<(i + 4)].reduce(0) { $0 << 1 | Int($1) }, radix: 16)
        }.joined()
    }

    public var description: String { hex }

    static func bytes(fromHex hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
