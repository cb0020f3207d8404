/// Error protection of the payload: CRC-32 for integrity, then a rate-1/3, constraint-length-7
/// convolutional code decoded with a soft-decision Viterbi decoder.
enum ChannelCode {
    /// Generator polynomials (octal 133, 171, 165), the standard K = 7 rate-1/3 code.
    static let generators: [UInt32] = [0o133, 0o171, 0o165]
    static let constraint = 7

    /// CRC-32 (IEEE 802.3, reflected) of a bit sequence, as 32 bits, most significant first.
    static func crc32(_ bits: [UInt8]) -> [UInt8] {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bits {
            let mix = (crc ^ UInt32(b)) & 1
            crc = (crc >> 1) ^ (mix == 1 ? 0xEDB8_8320 : 0)
        }
        crc = ~crc
        return (0..<32).map { UInt8((crc >> (31 - UInt32($0))) & 1) }
    }

    /// Payload ‖ CRC-32 ‖ 6 zero tail bits, convolutionally encoded: 3 × (n + 38) coded bits.
    static func encode(_ payload: [UInt8]) -> [UInt8] {
        let input = payload + crc32(payload) + [UInt8](repeating: 0, count: constraint - 1)
        var state: UInt32 = 0
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3)
        for b in input {
            state = ((state << 1) | UInt32(b)) & 0x7F
            for g in generators { out.append(UInt8((state & g).nonzeroBitCount & 1)) }
        }
        return out
    }

    /// Number of coded bits for a payload of `payloadBits`.
    static func codedLength(payloadBits: Int) -> Int { 3 * (payloadBits + 32 + constraint - 1) }

    /// Soft-decision Viterbi decoding. `soft[i] > 0` favours coded bit 1, `< 0` bit 0; magnitude is
    /// confidence (0 = erased). Returns the payload bits if the CRC matches, else `nil`.
    static func decode(_ soft: [Float], payloadBits: Int) -> [UInt8]? {
        let steps = payloadBits + 32 + constraint - 1
        precondition(soft.count == 3 * steps)
        let states = 64
        var metric = [Float](repeating: -.infinity, count: states)
        metric[0] = 0
        var survivors = [[UInt8]](repeating: [UInt8](repeating: 0, count: states), count: steps)
        var previous = [[UInt8]](repeating: [UInt8](repeating: 0, count: states), count: steps)
        // Output bits for (state, input).
        var outputs = [[Float]](repeating: [0, 0, 0], count: states * 2)
        for s in 0..<states {
            for b in 0..<2 {
                let reg = (UInt32(s) << 1 | UInt32(b)) & 0x7F
                outputs[s * 2 + b] = generators.map { Float((reg & $0).nonzeroBitCount & 1) * 2 - 1 }
            }
        }
        var next = [Float](repeating: -.infinity, count: states)
        for t in 0..<steps {
            for i in 0..<states { next[i] = -.infinity }
            let r0 = soft[3 * t], r1 = soft[3 * t + 1], r2 = soft[3 * t + 2]
            let tail = t >= payloadBits + 32
            for s in 0..<states where metric[s] > -.infinity {
                for b in 0..<(tail ? 1 : 2) {
                    let o = outputs[s * 2 + b]
                    let m = metric[s] + o[0] * r0 + o[1] * r1 + o[2] * r2
                    let ns = ((s << 1) | b) & 0x3F
                    if m > next[ns] {
                        next[ns] = m
                        survivors[t][ns] = UInt8(b)
                        previous[t][ns] = UInt8(s)
                    }
                }
            }
            swap(&metric, &next)
        }
        var state = 0
        var bits = [UInt8](repeating: 0, count: steps)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            bits[t] = survivors[t][state]
            state = Int(previous[t][state])
        }
        let payload = Array(bits[0..<payloadBits])
        let crc = Array(bits[payloadBits..<(payloadBits + 32)])
        return crc32(payload) == crc ? payload : nil
    }
}
