import RealModule

/// Analysis/synthesis window shapes.
public enum WindowKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// All ones.
    case rectangular
    /// Raised cosine: 0.5 − 0.5·cos(2πn/D).
    case hann
    /// 0.54 − 0.46·cos(2πn/D).
    case hamming
    /// Classic Blackman: 0.42 − 0.5·cos(2πn/D) + 0.08·cos(4πn/D).
    case blackman
    /// Square root of the periodic Hann window; as both analysis and synthesis window at 50 %
    /// overlap its product is COLA.
    case sqrtHann

    /// Window values of `length` samples.
    /// - Parameters:
    ///   - length: number of samples, ≥ 1.
    ///   - symmetric: `true` for the filter-design form (D = length − 1, as MATLAB's `hamming(N)`),
    ///     `false` for the periodic form used in STFT analysis (D = length), which is COLA at the
    ///     usual hops (Hann at 50 %/75 %, Hamming at 50 %).
    public func values(length: Int, symmetric: Bool = false) -> [Float] {
        precondition(length >= 1, "window length must be at least 1")
        if length == 1 { return [1] }
        let d = Double(symmetric ? length - 1 : length)
        return (0..<length).map { n in
            let x = 2 * Double.pi * Double(n) / d
            let v: Double = switch self {
            case .rectangular: 1
            case .hann: 0.5 - 0.5 * Double.cos(x)
            case .hamming: 0.54 - 0.46 * Double.cos(x)
            case .blackman: 0.42 - 0.5 * Double.cos(x) + 0.08 * Double.cos(2 * x)
            case .sqrtHann: (0.5 - 0.5 * Double.cos(x)).squareRoot()
            }
            return Float(v)
        }
    }
}
