import AudioCore
import RealModule

/// Computes filterbank cepstra (LFCC, MFCC, …) as described by a `CepstralConfiguration`.
///
/// Construction builds the window, filterbank and DCT matrix once; `extract` then runs with
/// one set of scratch buffers for all frames (no per-frame allocation) and is safe to call
/// from many threads at once.
public struct CepstralExtractor: Sendable {
    /// The configuration in use.
    public let configuration: CepstralConfiguration
    /// The filterbank applied to each frame's spectrum.
    public let filterbank: TriangularFilterbank
    private let window: [Float]
    private let fft: RealFFT
    /// `coefficientCount × filterCount`, row-major: orthonormal DCT-II rows for the kept coefficients.
    private let dct: [Float]

    /// Prepares an extractor.
    /// - Throws: `DSPError.invalidConfiguration` when a parameter is out of range.
    public init(_ configuration: CepstralConfiguration) throws(DSPError) {
        let c = configuration
        try c.framing.validate()
        let maxCoefficients = c.includeC0 ? c.filterCount : c.filterCount - 1
        guard (1...max(1, maxCoefficients)).contains(c.coefficientCount) else {
            throw .invalidConfiguration(detail: "coefficientCount \(c.coefficientCount); expected 1...\(maxCoefficients) for \(c.filterCount) filters")
        }
        guard (0...2).contains(c.deltaOrder) else { throw .invalidConfiguration(detail: "deltaOrder \(c.deltaOrder); expected 0, 1 or 2") }
        guard c.delta.halfWidth >= 1 else { throw .invalidConfiguration(detail: "delta halfWidth \(c.delta.halfWidth); expected ≥ 1") }
        if let a = c.preEmphasis, !(0..<1).contains(a) {
            throw .invalidConfiguration(detail: "preEmphasis \(a); expected 0 ≤ α < 1")
        }
        self.configuration = c
        self.filterbank = try TriangularFilterbank(scale: c.scale, filterCount: c.filterCount, fftSize: c.framing.fftSize,
                                                   sampleRate: c.sampleRate, lowHz: c.lowHz, highHz: c.highHz)
        self.window = c.framing.window.values(length: c.framing.frameLength, symmetric: c.framing.symmetricWindow)
        self.fft = RealFFT(size: c.framing.fftSize)
        let m = c.filterCount
        let firstIndex = c.includeC0 ? 0 : 1
        var matrix = [Float](repeating: 0, count: c.coefficientCount * m)
        for row in 0..<c.coefficientCount {
            let k = row + firstIndex
            let w = k == 0 ? (1 / Double(m)).squareRoot() : (2 / Double(m)).squareRoot()
            for n in 0..<m {
                matrix[row * m + n] = Float(w * Double.cos(Double.pi * Double(2 * n + 1) * Double(k) / Double(2 * m)))
            }
        }
        self.dct = matrix
    }

    /// Number of frames `extract` returns for `sampleCount` samples.
    public func frameCount(sampleCount: Int) -> Int {
        let f = configuration.framing
        return f.layout.frameCount(length: sampleCount, frameLength: f.frameLength, hop: f.hop)
    }

    /// Features of a mono signal at `configuration.sampleRate`: static coefficients followed by
    /// Δ and ΔΔ blocks as configured, `dimension` values per frame.
    /// - Throws: `DSPError.inputTooShort` for an empty signal.
    public func extract(_ signal: [Float]) throws(DSPError) -> FeatureMatrix {
        let staticFeatures = try extractStatic(signal)
        let c = configuration
        guard c.deltaOrder > 0 else { return staticFeatures }
        let d1 = c.delta.apply(to: staticFeatures)
        if c.deltaOrder == 1 { return .concatenating([staticFeatures, d1]) }
        return .concatenating([staticFeatures, d1, c.delta.apply(to: d1)])
    }

    /// Static cepstra only (no deltas): `coefficientCount` values per frame.
    public func extractStatic(_ signal: [Float]) throws(DSPError) -> FeatureMatrix {
        guard !signal.isEmpty else { throw .inputTooShort(samples: 0, minimum: 1) }
        let c = configuration
        let framing = c.framing
        let emphasised = Self.preEmphasize(signal, coefficient: c.preEmphasis ?? 0)
        let frames = frameCount(sampleCount: signal.count)
        let bins = framing.fftSize / 2 + 1
        let m = c.filterCount, q = c.coefficientCount
        var out = [Float](repeating: 0, count: frames * q)

        let frame = RealFFT.allocate(framing.fftSize)
        let spectrum = RealFFT.allocate(framing.fftSize + 2)
        let power = UnsafeMutableBufferPointer<Float>.allocate(capacity: bins)
        let energies = UnsafeMutableBufferPointer<Float>.allocate(capacity: m)
        defer {
            RealFFT.deallocate(frame); RealFFT.deallocate(spectrum)
            power.deallocate(); energies.deallocate()
        }
        let origin = framing.layout.origin(frameLength: framing.frameLength, hop: framing.hop)
        emphasised.withUnsafeBufferPointer { x in
            window.withUnsafeBufferPointer { w in
                dct.withUnsafeBufferPointer { dctRows in
                    out.withUnsafeMutableBufferPointer { result in
                        for f in 0..<frames {
                            FrameCopy.windowed(x, start: origin + f * framing.hop, window: w, into: frame)
                            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
                            Kernels.squaredMagnitudes(interleaved: UnsafeBufferPointer(spectrum), into: power)
                            if c.spectrum == .magnitude {
                                for k in 0..<bins { power[k] = power[k].squareRoot() }
                            }
                            cepstrum(UnsafeBufferPointer(power), dct: dctRows, scratch: energies,
                                     into: UnsafeMutableBufferPointer(rebasing: result[(f * q)..<((f + 1) * q)]))
                        }
                    }
                }
            }
        }
        return FeatureMatrix(frameCount: frames, dimension: q, values: out)
    }

    /// Static cepstra of one frame from its spectrum (power or magnitude, as configured: the caller windows, transforms
    /// and squares): filterbank, log with the configured floor and base, DCT → `coefficientCount` values in `output`.
    /// `scratch` holds `filterCount` floats. No allocation, for per-frame (streaming) use.
    public func cepstrum(_ spectrum: UnsafeBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                         into output: UnsafeMutableBufferPointer<Float>) {
        dct.withUnsafeBufferPointer { cepstrum(spectrum, dct: $0, scratch: scratch, into: output) }
    }

    private func cepstrum(_ spectrum: UnsafeBufferPointer<Float>, dct dctRows: UnsafeBufferPointer<Float>,
                          scratch energies: UnsafeMutableBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let c = configuration, m = c.filterCount
        filterbank.apply(spectrum, into: energies)
        for i in 0..<m {
            let v = energies[i] + c.logFloor
            energies[i] = c.logBase == .base10 ? Float.log10(v) : Float.log(v)
        }
        let e = UnsafeBufferPointer(energies)
        for r in 0..<c.coefficientCount {
            output[r] = Kernels.dot(UnsafeBufferPointer(rebasing: dctRows[(r * m)..<((r + 1) * m)]), e)
        }
    }

    /// y[n] = x[n] − α·x[n−1], with x[−1] = 0 (MATLAB `filter([1 −α], 1, x)`).
    public static func preEmphasize(_ x: [Float], coefficient alpha: Float) -> [Float] {
        guard alpha != 0, !x.isEmpty else { return x }
        var y = [Float](repeating: 0, count: x.count)
        y[0] = x[0]
        for n in 1..<x.count { y[n] = x[n] - alpha * x[n - 1] }
        return y
    }
}
