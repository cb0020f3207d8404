import AudioCore
import RealModule

/// Frequency scale on which triangular filters are equally spaced.
public enum FrequencyScale: String, Sendable, Hashable, Codable {
    /// Linear in hertz (LFCC).
    case linear
    /// HTK mel scale, mel = 2595·log10(1 + f/700) (MFCC).
    case mel

    /// Hertz → scale units.
    public func fromHertz(_ f: Double) -> Double {
        switch self {
        case .linear: f
        case .mel: 2595 * Double.log10(1 + f / 700)
        }
    }

    /// Scale units → hertz.
    public func toHertz(_ m: Double) -> Double {
        switch self {
        case .linear: m
        case .mel: 700 * (Double.pow(10, m / 2595) - 1)
        }
    }
}

/// A bank of triangular filters over the bins of a real FFT.
///
/// Filter i has corners at edges i, i+1, i+2 of `filterCount + 2` points equally spaced on
/// `scale` between `lowHz` and `highHz`; its weight at bin frequency f is
/// max(0, min((f − a)/(b − a), (c − f)/(c − b))) — MATLAB's `trimf`. Weights are stored
/// sparsely (first bin + contiguous weights), so applying the bank costs Σ filter widths.
public struct TriangularFilterbank: Sendable, Hashable {
    /// Spacing of the filters.
    public let scale: FrequencyScale
    /// Number of filters, ≥ 1.
    public let filterCount: Int
    /// FFT length the bins come from.
    public let fftSize: Int
    /// Sampling rate in hertz.
    public let sampleRate: Double
    /// Lower edge of the first filter, hertz.
    public let lowHz: Double
    /// Upper edge of the last filter, hertz (≤ sampleRate / 2).
    public let highHz: Double
    /// First FFT bin of each filter.
    public let firstBin: [Int]
    /// Weights of each filter from its first bin on.
    public let weights: [[Float]]

    /// Builds a filterbank.
    /// - Throws: `DSPError.invalidConfiguration` when the band or counts are out of range.
    public init(scale: FrequencyScale, filterCount: Int, fftSize: Int, sampleRate: Double,
                lowHz: Double = 0, highHz: Double? = nil) throws(DSPError) {
        let nyquist = sampleRate / 2
        let high = highHz ?? nyquist
        guard filterCount >= 1 else { throw .invalidConfiguration(detail: "filterCount \(filterCount); expected ≥ 1") }
        guard fftSize >= 2, fftSize % 2 == 0 else { throw .invalidConfiguration(detail: "fftSize \(fftSize); expected even ≥ 2") }
        guard lowHz >= 0, high > lowHz, high <= nyquist + 1e-9 else {
            throw .invalidConfiguration(detail: "band \(lowHz)–\(high) Hz; expected 0 ≤ low < high ≤ \(nyquist) Hz")
        }
        self.scale = scale
        self.filterCount = filterCount
        self.fftSize = fftSize
        self.sampleRate = sampleRate
        self.lowHz = lowHz
        self.highHz = high
        let lo = scale.fromHertz(lowHz), hi = scale.fromHertz(high)
        let edges = (0..<(filterCount + 2)).map { i in
            scale.toHertz(lo + (hi - lo) * Double(i) / Double(filterCount + 1))
        }
        let bins = fftSize / 2 + 1
        let binHz = (0..<bins).map { Double($0) * nyquist / Double(bins - 1) }
        var first: [Int] = []
        var all: [[Float]] = []
        for i in 0..<filterCount {
            let a = edges[i], b = edges[i + 1], c = edges[i + 2]
            var w = [Float](repeating: 0, count: bins)
            for k in 0..<bins {
                let f = binHz[k]
                let up = b > a ? (f - a) / (b - a) : (f >= b ? 1 : 0)
                let down = c > b ? (c - f) / (c - b) : (f <= b ? 1 : 0)
                w[k] = Float(max(0, min(up, down)))
            }
            let start = w.firstIndex(where: { $0 != 0 }) ?? 0
            let end = (w.lastIndex(where: { $0 != 0 }) ?? 0) + 1
            first.append(start)
            all.append(Array(w[start..<max(start, end)]))
        }
        self.firstBin = first
        self.weights = all
    }

    /// Filter outputs for one power (or magnitude) spectrum.
    /// - Parameters:
    ///   - spectrum: `fftSize / 2 + 1` values.
    ///   - output: room for `filterCount` values.
    public func apply(_ spectrum: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<filterCount {
            let start = firstBin[i]
            output[i] = weights[i].withUnsafeBufferPointer { w in
                Kernels.dot(w, UnsafeBufferPointer(rebasing: spectrum[start..<(start + w.count)]))
            }
        }
    }

    /// Dense weight matrix, `filterCount` rows × `fftSize / 2 + 1` columns (for inspection and tests).
    public var denseWeights: [[Float]] {
        (0..<filterCount).map { i in
            var row = [Float](repeating: 0, count: fftSize / 2 + 1)
            for (j, v) in weights[i].enumerated() { row[firstBin[i] + j] = v }
            return row
        }
    }
}
