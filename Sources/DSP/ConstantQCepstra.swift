import AudioCore
import RealModule

/// Parameters of constant-Q cepstral coefficients (CQCC).
public struct ConstantQCepstralConfiguration: Sendable, Hashable, Codable {
    /// The constant-Q analysis.
    public var transform: ConstantQConfiguration
    /// Points of the uniform (linear-frequency) grid the log power is resampled onto, ≥ 2.
    public var uniformPoints: Int
    /// Added to the power before the natural log.
    public var logFloor: Float
    /// Coefficients kept per frame, starting at c0 when `includeC0`, else at c1.
    public var coefficientCount: Int
    /// Keep c0 (overall log level).
    public var includeC0: Bool
    /// 0 (static only), 1 (+Δ) or 2 (+Δ, ΔΔ).
    public var deltaOrder: Int
    /// How Δ is computed.
    public var delta: DeltaConfiguration

    /// Creates a configuration.
    public init(transform: ConstantQConfiguration, uniformPoints: Int, logFloor: Float = 1e-10,
                coefficientCount: Int, includeC0: Bool, deltaOrder: Int = 2,
                delta: DeltaConfiguration = DeltaConfiguration(halfWidth: 1, normalized: false)) {
        self.transform = transform
        self.uniformPoints = uniformPoints
        self.logFloor = logFloor
        self.coefficientCount = coefficientCount
        self.includeC0 = includeC0
        self.deltaOrder = deltaOrder
        self.delta = delta
    }

    /// Values per frame.
    public var dimension: Int { coefficientCount * (deltaOrder + 1) }

    /// The configuration the synthetic-speech detector uses at `sampleRate` (8 kHz there): 24 bins per
    /// octave from 100 Hz to 0.475·fs, 10 ms hop, 128 uniform points, c1…c19 with Δ and ΔΔ.
    public static func speech(sampleRate: Double, centreOffset: Int = 0) -> ConstantQCepstralConfiguration {
        ConstantQCepstralConfiguration(
            transform: ConstantQConfiguration(sampleRate: sampleRate, minimumHz: 100, maximumHz: 0.475 * sampleRate,
                                              binsPerOctave: 24, hop: Int((sampleRate / 100).rounded()),
                                              centreOffset: centreOffset),
            uniformPoints: 128, coefficientCount: 19, includeC0: false)
    }
}

/// Computes CQCC (Todisco, Delgado & Evans 2016): constant-Q power spectrum → natural log →
/// linear interpolation from the geometric bin scale onto `uniformPoints` equally spaced
/// frequencies between the lowest and highest centre frequency → orthonormal DCT-II → Δ/ΔΔ.
public struct ConstantQCepstralExtractor: Sendable {
    /// The configuration in use.
    public let configuration: ConstantQCepstralConfiguration
    /// The constant-Q analysis.
    public let transform: ConstantQTransform
    /// For each uniform point: lower bin index and the weight of the upper bin.
    private let interpolationIndex: [Int]
    private let interpolationWeight: [Float]
    private let dct: [Float]

    /// Prepares an extractor.
    /// - Throws: `DSPError.invalidConfiguration` for out-of-range parameters.
    public init(_ configuration: ConstantQCepstralConfiguration) throws(DSPError) {
        let c = configuration
        transform = try ConstantQTransform(c.transform)
        let k = transform.binCount
        let firstIndex = c.includeC0 ? 0 : 1
        guard k >= 2, c.uniformPoints >= 2, c.coefficientCount >= 1, c.coefficientCount + firstIndex <= c.uniformPoints,
              (0...2).contains(c.deltaOrder), c.delta.halfWidth >= 1 else {
            throw .invalidConfiguration(detail: "CQCC with \(k) bins, \(c.uniformPoints) points, \(c.coefficientCount) coefficients, delta order \(c.deltaOrder)")
        }
        self.configuration = c
        let b = Double(c.transform.binsPerOctave)
        let f0 = c.transform.centreHz(0), fTop = c.transform.centreHz(k - 1)
        var index: [Int] = [], weight: [Float] = []
        for i in 0..<c.uniformPoints {
            let f = f0 + (fTop - f0) * Double(i) / Double(c.uniformPoints - 1)
            let position = min(Double(k - 1), max(0, b * Double.log2(f / f0)))
            let lower = min(k - 2, Int(position.rounded(.down)))
            index.append(lower)
            weight.append(Float(position - Double(lower)))
        }
        interpolationIndex = index
        interpolationWeight = weight
        let m = c.uniformPoints
        var matrix = [Float](repeating: 0, count: c.coefficientCount * m)
        for row in 0..<c.coefficientCount {
            let q = row + firstIndex
            let w = q == 0 ? (1 / Double(m)).squareRoot() : (2 / Double(m)).squareRoot()
            for n in 0..<m { matrix[row * m + n] = Float(w * Double.cos(Double.pi * Double(2 * n + 1) * Double(q) / Double(2 * m))) }
        }
        dct = matrix
    }

    /// Frames `extract` returns for `sampleCount` samples.
    public func frameCount(sampleCount: Int) -> Int { transform.frameCount(length: sampleCount) }

    /// Static coefficients followed by Δ and ΔΔ blocks as configured, `dimension` values per frame.
    /// - Throws: `DSPError.inputTooShort` when no frame centre lies inside the signal.
    public func extract(_ signal: [Float]) throws(DSPError) -> FeatureMatrix {
        let c = configuration
        let frames = frameCount(sampleCount: signal.count)
        guard frames > 0 else { throw .inputTooShort(samples: signal.count, minimum: c.transform.centreOffset + 1) }
        let k = transform.binCount, m = c.uniformPoints, q = c.coefficientCount
        var out = [Float](repeating: 0, count: frames * q)
        var logs = [Float](repeating: 0, count: k), uniform = [Float](repeating: 0, count: m)
        let floor = c.logFloor
        signal.withUnsafeBufferPointer { s in
            transform.forEachFrame(of: s) { f, bins in
                for b in 0..<k { logs[b] = Float.log(bins[2 * b] * bins[2 * b] + bins[2 * b + 1] * bins[2 * b + 1] + floor) }
                for i in 0..<m {
                    let j = interpolationIndex[i], w = interpolationWeight[i]
                    uniform[i] = logs[j] + w * (logs[j + 1] - logs[j])
                }
                uniform.withUnsafeBufferPointer { u in
                    dct.withUnsafeBufferPointer { rows in
                        for r in 0..<q { out[f * q + r] = Kernels.dot(UnsafeBufferPointer(rebasing: rows[(r * m)..<((r + 1) * m)]), u) }
                    }
                }
            }
        }
        let statics = FeatureMatrix(frameCount: frames, dimension: q, values: out)
        guard c.deltaOrder > 0 else { return statics }
        let d1 = c.delta.apply(to: statics)
        if c.deltaOrder == 1 { return .concatenating([statics, d1]) }
        return .concatenating([statics, d1, c.delta.apply(to: d1)])
    }
}
