import AudioCore
import RealModule

/// Parameters of modified group-delay cepstra (MGD / MODGDF).
public struct ModifiedGroupDelayConfiguration: Sendable, Hashable, Codable {
    /// Sample rate, hertz.
    public var sampleRate: Double
    /// Framing (frame length, hop, FFT size, window, layout).
    public var framing: STFTConfiguration
    /// Cepstral coefficients kept (per side) when smoothing the magnitude spectrum, ≥ 1.
    public var lifterCount: Int
    /// Exponent γ of the smoothed spectrum in the denominator, 0…1.
    public var gamma: Float
    /// Compression exponent α applied to the group delay, 0…1.
    public var alpha: Float
    /// Coefficients kept per frame, c1…c(count).
    public var coefficientCount: Int

    /// Creates a configuration.
    public init(sampleRate: Double, framing: STFTConfiguration, lifterCount: Int = 30, gamma: Float = 0.9,
                alpha: Float = 0.4, coefficientCount: Int = 20) {
        self.sampleRate = sampleRate
        self.framing = framing
        self.lifterCount = lifterCount
        self.gamma = gamma
        self.alpha = alpha
        self.coefficientCount = coefficientCount
    }

    /// 20 ms Hamming frames, 10 ms hop (start-aligned, as the ASVspoof LFCC front end), next
    /// power-of-two FFT, 30-coefficient lifter, γ 0.9, α 0.4, c1…c20.
    public static func speech(sampleRate: Double) -> ModifiedGroupDelayConfiguration {
        let length = Int((sampleRate * 0.02).rounded()), hop = Int((sampleRate * 0.01).rounded())
        return ModifiedGroupDelayConfiguration(
            sampleRate: sampleRate,
            framing: STFTConfiguration(frameLength: length, hop: hop, fftSize: STFTConfiguration.nextPowerOfTwo(length),
                                       window: .hamming, symmetricWindow: true, layout: .startAligned))
    }
}

/// Computes modified group-delay cepstra (Hegde & Murthy 2007), a phase feature.
///
/// Per frame: x = windowed frame scaled to unit RMS (so level does not matter), X = FFT(x),
/// Y = FFT(n·x[n]); S = cepstrally smoothed |X| (real cepstrum of ln(|X| + 1e-8) kept to
/// ±`lifterCount` quefrencies); τ = (X_R·Y_R + X_I·Y_I) / S^(2γ); τ_m = sign(τ)·|τ|^α; the
/// coefficients are the orthonormal DCT-II of τ_m over bins 0…N/2, c1…c(count).
/// One set of scratch buffers serves all frames; safe to call from many threads.
public struct ModifiedGroupDelayExtractor: Sendable {
    /// The configuration in use.
    public let configuration: ModifiedGroupDelayConfiguration
    private let window: [Float]
    private let fft: RealFFT
    private let dct: [Float]

    /// Prepares an extractor.
    /// - Throws: `DSPError.invalidConfiguration` for out-of-range parameters.
    public init(_ configuration: ModifiedGroupDelayConfiguration) throws(DSPError) {
        let c = configuration
        try c.framing.validate()
        let bins = c.framing.fftSize / 2 + 1
        guard c.lifterCount >= 1, c.lifterCount < c.framing.fftSize / 2, (0...1).contains(c.gamma), (0...1).contains(c.alpha),
              (1..<bins).contains(c.coefficientCount) else {
            throw .invalidConfiguration(detail: "group delay lifter \(c.lifterCount), γ \(c.gamma), α \(c.alpha), \(c.coefficientCount) coefficients for FFT \(c.framing.fftSize)")
        }
        self.configuration = c
        window = c.framing.window.values(length: c.framing.frameLength, symmetric: c.framing.symmetricWindow)
        fft = RealFFT(size: c.framing.fftSize)
        var matrix = [Float](repeating: 0, count: c.coefficientCount * bins)
        for row in 0..<c.coefficientCount {
            let q = row + 1, w = (2 / Double(bins)).squareRoot()
            for n in 0..<bins { matrix[row * bins + n] = Float(w * Double.cos(Double.pi * Double(2 * n + 1) * Double(q) / Double(2 * bins))) }
        }
        dct = matrix
    }

    /// Frames `extract` returns for `sampleCount` samples.
    public func frameCount(sampleCount: Int) -> Int {
        let f = configuration.framing
        return f.layout.frameCount(length: sampleCount, frameLength: f.frameLength, hop: f.hop)
    }

    /// `coefficientCount` values per frame.
    /// - Throws: `DSPError.inputTooShort` for an empty signal.
    public func extract(_ signal: [Float]) throws(DSPError) -> FeatureMatrix {
        guard !signal.isEmpty else { throw .inputTooShort(samples: 0, minimum: 1) }
        let c = configuration, framing = c.framing
        let n = framing.fftSize, bins = n / 2 + 1, length = framing.frameLength
        let frames = frameCount(sampleCount: signal.count), q = c.coefficientCount
        var out = [Float](repeating: 0, count: frames * q)
        let frame = RealFFT.allocate(n), ramp = RealFFT.allocate(n)
        let x = RealFFT.allocate(n + 2), y = RealFFT.allocate(n + 2)
        let cepstrum = RealFFT.allocate(n), smooth = RealFFT.allocate(n + 2)
        let tau = UnsafeMutableBufferPointer<Float>.allocate(capacity: bins)
        defer {
            for b in [frame, ramp, x, y, cepstrum, smooth] { RealFFT.deallocate(b) }
            tau.deallocate()
        }
        let origin = framing.layout.origin(frameLength: length, hop: framing.hop)
        let lifter = c.lifterCount, exponent = 2 * c.gamma, alpha = c.alpha
        signal.withUnsafeBufferPointer { s in
            window.withUnsafeBufferPointer { w in
                for f in 0..<frames {
                    FrameCopy.windowed(s, start: origin + f * framing.hop, window: w, into: frame)
                    let energy = Kernels.sumOfSquares(UnsafeBufferPointer(rebasing: frame[0..<length]))
                    let gain: Float = energy > 0 ? 1 / (energy / Float(length)).squareRoot() : 0
                    for i in 0..<n { frame[i] *= gain; ramp[i] = Float(i) * frame[i] }
                    fft.forward(frame.baseAddress!, x.baseAddress!)
                    fft.forward(ramp.baseAddress!, y.baseAddress!)
                    // Cepstral smoothing of ln|X|: inverse FFT, lifter, forward FFT (real part).
                    for j in 0..<bins {
                        smooth[2 * j] = Float.log((x[2 * j] * x[2 * j] + x[2 * j + 1] * x[2 * j + 1]).squareRoot() + 1e-8)
                        smooth[2 * j + 1] = 0
                    }
                    fft.inverseUnnormalized(destroying: smooth.baseAddress!, cepstrum.baseAddress!)
                    let norm = 1 / Float(n)
                    for i in 0..<n { cepstrum[i] = (i < lifter || i > n - lifter) ? cepstrum[i] * norm : 0 }
                    fft.forward(cepstrum.baseAddress!, smooth.baseAddress!)
                    for j in 0..<bins {
                        let denominator = Float.exp(exponent * smooth[2 * j])
                        let t = (x[2 * j] * y[2 * j] + x[2 * j + 1] * y[2 * j + 1]) / denominator
                        tau[j] = t < 0 ? -Float.pow(-t, alpha) : Float.pow(t, alpha)
                    }
                    let values = UnsafeBufferPointer(tau)
                    dct.withUnsafeBufferPointer { rows in
                        for r in 0..<q { out[f * q + r] = Kernels.dot(UnsafeBufferPointer(rebasing: rows[(r * bins)..<((r + 1) * bins)]), values) }
                    }
                }
            }
        }
        return FeatureMatrix(frameCount: frames, dimension: q, values: out)
    }
}
