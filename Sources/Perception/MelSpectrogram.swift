import DSP
import Foundation

/// The speaker encoder's front end, equal to `librosa.feature.melspectrogram(y, sr=16000, n_fft=400,
/// hop_length=160, n_mels=40)` as Resemblyzer calls it: centred frames (200 zeros padded on each side),
/// periodic Hann window of 400 samples, power spectrum, Slaney mel filterbank (0–8 kHz, Slaney area
/// normalisation). Values are mel *power* (not log). Frame t is centred on sample 160·t.
public struct MelSpectrogram: Sendable {
    /// Sampling rate, hertz.
    public static let sampleRate = 16_000.0
    /// Window length, samples (25 ms).
    public static let windowLength = 400
    /// Hop, samples (10 ms).
    public static let hop = 160
    /// Mel bands.
    public static let bandCount = 40

    /// [band][bin] weights, 40 × 201.
    let filters: [Float]
    /// First and one-past-last non-zero bin of each band.
    let bandRanges: [Range<Int>]
    let window: [Float]
    let fft = RealFFT(size: 400)

    /// Creates the front end (filterbank computed in double precision as librosa does, then rounded to float).
    public init() {
        let bins = Self.windowLength / 2 + 1
        let sr = Self.sampleRate
        func hzToMel(_ f: Double) -> Double {
            let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logStep = Foundation.log(6.4) / 27
            return f >= minLogHz ? minLogMel + Foundation.log(f / minLogHz) / logStep : f / fsp
        }
        func melToHz(_ m: Double) -> Double {
            let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logStep = Foundation.log(6.4) / 27
            return m >= minLogMel ? minLogHz * Foundation.exp(logStep * (m - minLogMel)) : fsp * m
        }
        let n = Self.bandCount
        let low = hzToMel(0), high = hzToMel(sr / 2)
        let melF = (0..<(n + 2)).map { melToHz(low + (high - low) * Double($0) / Double(n + 1)) }
        let fftFreqs = (0..<bins).map { Double($0) * (sr / 2) / Double(bins - 1) }
        var filters = [Float](repeating: 0, count: n * bins)
        var ranges: [Range<Int>] = []
        for i in 0..<n {
            let enorm = 2 / (melF[i + 2] - melF[i])
            var first = bins, last = 0
            for k in 0..<bins {
                let lower = (fftFreqs[k] - melF[i]) / (melF[i + 1] - melF[i])
                let upper = (melF[i + 2] - fftFreqs[k]) / (melF[i + 2] - melF[i + 1])
                let w = max(0, min(lower, upper)) * enorm
                filters[i * bins + k] = Float(w)
                if w > 0 { first = min(first, k); last = max(last, k + 1) }
            }
            ranges.append(first < last ? first..<last : 0..<0)
        }
        self.filters = filters
        bandRanges = ranges
        window = (0..<Self.windowLength).map { Float(0.5 - 0.5 * Foundation.cos(2 * Double.pi * Double($0) / Double(Self.windowLength))) }
    }

    /// Number of frames librosa gives for `samples` samples: 1 + samples / 160.
    public static func frameCount(samples: Int) -> Int { 1 + samples / hop }

    /// Mel power frames of a 16 kHz signal, frame-major (`frameCount × 40` values).
    public func frames(_ signal: [Float]) -> [Float] {
        let count = Self.frameCount(samples: signal.count)
        var out = [Float](repeating: 0, count: count * Self.bandCount)
        var samples = [Float](repeating: 0, count: Self.windowLength)
        var scratch = [Float](repeating: 0, count: Self.windowLength + 2)
        var row = [Float](repeating: 0, count: Self.bandCount)
        for t in 0..<count {
            let start = t * Self.hop - Self.windowLength / 2
            for i in 0..<Self.windowLength {
                let k = start + i
                samples[i] = k >= 0 && k < signal.count ? signal[k] : 0
            }
            frame(samples, scratch: &scratch, into: &row)
            for b in 0..<Self.bandCount { out[t * Self.bandCount + b] = row[b] }
        }
        return out
    }

    /// The mel power frame of 400 samples (unwindowed; frame t of a signal is samples 160·t − 200 ..< 160·t + 200).
    /// - Parameters:
    ///   - scratch: at least 402 floats (overwritten).
    ///   - output: at least 40 floats.
    public func frame(_ samples: [Float], scratch: inout [Float], into output: inout [Float]) {
        precondition(samples.count >= Self.windowLength && scratch.count >= Self.windowLength + 2 && output.count >= Self.bandCount)
        let bins = Self.windowLength / 2 + 1
        scratch.withUnsafeMutableBufferPointer { s in
            // Window into the upper part of the scratch, transform into its start (FFTW out-of-place needs two buffers).
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.windowLength) { windowed in
                for i in 0..<Self.windowLength { windowed[i] = samples[i] * window[i] }
                fft.forward(windowed.baseAddress!, s.baseAddress!)
            }
            for k in 0..<bins { s[k] = s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1] }
            filters.withUnsafeBufferPointer { w in
                for b in 0..<Self.bandCount {
                    var acc: Float = 0
                    for k in bandRanges[b] { acc += w[b * bins + k] * s[k] }
                    output[b] = acc
                }
            }
        }
    }
}
