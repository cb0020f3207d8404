import Foundation

/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast, seedable generator whose sequence is the same on every
/// platform — for reproducible noise, bootstraps and test data (not for keys: use `SystemRandomNumberGenerator`).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates the generator.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<1 (53 bits).
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    public mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-12), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// Uniform in 0..<1 as a `Float` (24 bits).
    public mutating func uniformFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Standard normal as a `Float` (Box–Muller on 24-bit uniforms).
    public mutating func gaussianFloat() -> Float {
        let u = max(uniformFloat(), 1e-7), v = uniformFloat()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Float.pi * v)
    }
}
