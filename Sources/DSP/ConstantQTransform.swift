import AudioCore
import RealModule

/// Parameters of a `ConstantQTransform`.
public struct ConstantQConfiguration: Sendable, Hashable, Codable {
    /// Sample rate of the input, hertz.
    public var sampleRate: Double
    /// Centre frequency of the lowest bin, hertz (> 0).
    public var minimumHz: Double
    /// Highest centre frequency allowed, hertz (< sampleRate / 2).
    public var maximumHz: Double
    /// Bins per octave, ≥ 1.
    public var binsPerOctave: Int
    /// Frame hop, samples.
    public var hop: Int
    /// Centre of frame 0, samples; frame f is centred on `centreOffset + f·hop`.
    public var centreOffset: Int
    /// Spectral-kernel values below this fraction of a kernel's peak are dropped (Brown–Puckette sparsity).
    public var sparsity: Double

    /// Creates a configuration.
    public init(sampleRate: Double, minimumHz: Double, maximumHz: Double, binsPerOctave: Int, hop: Int,
                centreOffset: Int = 0, sparsity: Double = ConstantQConfiguration.defaultSparsity) {
        self.sampleRate = sampleRate
        self.minimumHz = minimumHz
        self.maximumHz = maximumHz
        self.binsPerOctave = binsPerOctave
        self.hop = hop
        self.centreOffset = centreOffset
        self.sparsity = sparsity
    }

    /// Brown & Puckette's kernel cut, 0.54 % of the peak.
    public static let defaultSparsity = 0.0054

    /// Quality factor Q = 1 / (2^(1/B) − 1): centre frequency over bandwidth.
    public var quality: Double { 1 / (Double.pow(2, 1 / Double(binsPerOctave)) - 1) }
    /// Number of bins: every fₖ = minimumHz·2^(k/B) ≤ maximumHz.
    public var binCount: Int { Int((Double(binsPerOctave) * Double.log2(maximumHz / minimumHz)).rounded(.down) + 1e-9) + 1 }
    /// Centre frequency of bin k, hertz.
    public func centreHz(_ k: Int) -> Double { minimumHz * Double.pow(2, Double(k) / Double(binsPerOctave)) }
    /// Window length of bin k, samples: round(Q·fs / fₖ).
    public func windowLength(_ k: Int) -> Int { max(1, Int((quality * sampleRate / centreHz(k)).rounded())) }

    /// Checks the ranges documented on each property.
    public func validate() throws(DSPError) {
        guard sampleRate > 0, minimumHz > 0, maximumHz >= minimumHz, maximumHz < sampleRate / 2 else {
            throw .invalidConfiguration(detail: "constant-Q range \(minimumHz)…\(maximumHz) Hz at \(sampleRate) Hz; expected 0 < min ≤ max < fs/2")
        }
        guard binsPerOctave >= 1, hop >= 1, centreOffset >= 0, (0..<1).contains(sparsity) else {
            throw .invalidConfiguration(detail: "constant-Q binsPerOctave \(binsPerOctave), hop \(hop), centreOffset \(centreOffset), sparsity \(sparsity); expected ≥ 1, ≥ 1, ≥ 0, 0 ≤ s < 1")
        }
    }
}

/// A constant-Q transform computed frame by frame with sparse spectral kernels (Brown & Puckette 1992).
///
/// Bin k (centre fₖ = f_min·2^(k/B)) is the inner product of the frame with a Hann-windowed complex
/// exponential at fₖ of length Nₖ = round(Q·fs/fₖ), centred on the frame centre and normalised by the
/// window sum (a full-scale sinusoid at fₖ gives magnitude ½):
/// X[k] = Σₙ x[c + n − Nₖ/2]·w[n]·e^(−2πi fₖ (n − Nₖ/2)/fs) / Σw. It is evaluated in the frequency
/// domain on one FFT of size `fftSize` (the next power of two ≥ N₀) per frame, with each kernel's
/// spectrum cut to the contiguous bins above `sparsity` × its peak. Construction builds the kernels
/// once; `forEachFrame` uses one set of scratch buffers for all frames and is safe from many threads.
public struct ConstantQTransform: Sendable {
    /// The configuration in use.
    public let configuration: ConstantQConfiguration
    /// FFT size per frame, samples.
    public let fftSize: Int
    /// First FFT bin of each kernel.
    private let kernelStart: [Int]
    /// Offsets of each kernel's values in `kernelRe`/`kernelIm`; kernel k has `kernelOffset[k+1] − kernelOffset[k]` bins.
    private let kernelOffset: [Int]
    private let kernelRe: [Float]
    private let kernelIm: [Float]
    private let fft: RealFFT

    /// Number of bins.
    public var binCount: Int { kernelStart.count }

    /// Builds the kernels.
    /// - Throws: `DSPError.invalidConfiguration` for out-of-range parameters.
    public init(_ configuration: ConstantQConfiguration) throws(DSPError) {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration
        let n = STFTConfiguration.nextPowerOfTwo(c.windowLength(0))
        fftSize = n
        fft = RealFFT(size: n)
        var starts: [Int] = [], offsets = [0], re: [Float] = [], im: [Float] = []
        var realPart = [Float](repeating: 0, count: n), imagPart = [Float](repeating: 0, count: n)
        for k in 0..<c.binCount {
            let length = c.windowLength(k), f = c.centreHz(k)
            let begin = n / 2 - length / 2
            var windowSum = 0.0
            for m in 0..<length { windowSum += 0.5 - 0.5 * Double.cos(2 * Double.pi * (Double(m) + 0.5) / Double(length)) }
            for i in 0..<n { realPart[i] = 0; imagPart[i] = 0 }
            for m in 0..<length {
                let w = (0.5 - 0.5 * Double.cos(2 * Double.pi * (Double(m) + 0.5) / Double(length))) / windowSum
                let phase = 2 * Double.pi * f * Double(m - length / 2) / c.sampleRate
                realPart[begin + m] = Float(w * Double.cos(phase))
                imagPart[begin + m] = Float(w * Double.sin(phase))
            }
            // Spectrum of the complex kernel from two real FFTs: K = FFT(re) + i·FFT(im).
            let a = fft.forward(realPart), b = fft.forward(imagPart)
            let bins = n / 2 + 1
            var kr = [Float](repeating: 0, count: bins), ki = [Float](repeating: 0, count: bins)
            var peak: Float = 0
            for j in 0..<bins {
                kr[j] = a[2 * j] - b[2 * j + 1]
                ki[j] = a[2 * j + 1] + b[2 * j]
                peak = max(peak, (kr[j] * kr[j] + ki[j] * ki[j]).squareRoot())
            }
            let limit = peak * Float(c.sparsity)
            var lo = 0, hi = bins - 1
            while lo < hi, (kr[lo] * kr[lo] + ki[lo] * ki[lo]).squareRoot() < limit { lo += 1 }
            while hi > lo, (kr[hi] * kr[hi] + ki[hi] * ki[hi]).squareRoot() < limit { hi -= 1 }
            starts.append(lo)
            re += kr[lo...hi]
            im += ki[lo...hi]
            offsets.append(re.count)
        }
        kernelStart = starts
        kernelOffset = offsets
        kernelRe = re
        kernelIm = im
    }

    /// Number of frames for `length` samples: frames whose centre lies inside the signal.
    public func frameCount(length: Int) -> Int {
        let c = configuration
        return length > c.centreOffset ? (length - c.centreOffset + c.hop - 1) / c.hop : 0
    }

    /// Calls `body(frameIndex, bins)` for each frame of `signal`, where `bins` holds `binCount`
    /// interleaved complex values (re, im). Samples outside the signal count as zero.
    public func forEachFrame(of signal: UnsafeBufferPointer<Float>, _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
        let c = configuration, n = fftSize
        let frame = RealFFT.allocate(n)
        let spectrum = RealFFT.allocate(n + 2)
        let bins = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * binCount)
        defer { RealFFT.deallocate(frame); RealFFT.deallocate(spectrum); bins.deallocate() }
        let scale = 1 / Float(n)
        kernelRe.withUnsafeBufferPointer { kr in
            kernelIm.withUnsafeBufferPointer { ki in
                for f in 0..<frameCount(length: signal.count) {
                    let start = c.centreOffset + f * c.hop - n / 2
                    let lo = max(0, -start), hi = max(lo, min(n, signal.count - start))
                    let dst = frame.baseAddress!
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if hi > lo { dst.advanced(by: lo).update(from: signal.baseAddress! + start + lo, count: hi - lo) }
                    if n > hi { (dst + hi).update(repeating: 0, count: n - hi) }
                    fft.forward(frame.baseAddress!, spectrum.baseAddress!)
                    let x = spectrum.baseAddress!
                    for k in 0..<binCount {
                        // Σ X[j]·conj(K[j]) / N over the kernel's bins.
                        var accRe: Float = 0, accIm: Float = 0
                        var j = kernelStart[k]
                        for i in kernelOffset[k]..<kernelOffset[k + 1] {
                            let xr = x[2 * j], xi = x[2 * j + 1]
                            accRe += xr * kr[i] + xi * ki[i]
                            accIm += xi * kr[i] - xr * ki[i]
                            j += 1
                        }
                        bins[2 * k] = accRe * scale
                        bins[2 * k + 1] = accIm * scale
                    }
                    body(f, UnsafeBufferPointer(bins))
                }
            }
        }
    }

    /// Power |X[k]|² of every frame and bin.
    public func power(_ signal: [Float]) -> FeatureMatrix {
        let frames = frameCount(length: signal.count), k = binCount
        var out = [Float](repeating: 0, count: frames * k)
        signal.withUnsafeBufferPointer { s in
            forEachFrame(of: s) { f, bins in
                for b in 0..<k { out[f * k + b] = bins[2 * b] * bins[2 * b] + bins[2 * b + 1] * bins[2 * b + 1] }
            }
        }
        return FeatureMatrix(frameCount: frames, dimension: k, values: out)
    }
}
