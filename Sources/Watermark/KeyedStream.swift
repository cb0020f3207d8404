import AudioCore

/// A keyed pseudo-random generator: HMAC-SHA-256 in counter mode under the watermark key and a
/// domain label, so every pseudo-random choice (chip signs, dithers, cell order) is unpredictable
/// without the key and independent between uses.
struct KeyedStream {
    private let key: [UInt8]
    private let label: [UInt8]
    private var counter: UInt64 = 0
    private var block: [UInt8] = []
    private var index = 0

    init(key: [UInt8], label: String) {
        self.key = key
        self.label = Array(label.utf8)
    }

    mutating func nextByte() -> UInt8 {
        if index == block.count {
            var message = label + [0]
            for i in 0..<8 { message.append(UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i)))) }
            block = SHA256.hmac(key: key, message: message)
            counter += 1
            index = 0
        }
        defer { index += 1 }
        return block[index]
    }

    mutating func nextUInt64() -> UInt64 {
        (0..<8).reduce(UInt64(0)) { acc, _ in acc << 8 | UInt64(nextByte()) }
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(nextUInt64() >> 11) / Double(1 << 53) }

    /// ±1 with equal probability.
    mutating func nextSign() -> Float { nextByte() & 1 == 0 ? 1 : -1 }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(nextUInt64() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}
