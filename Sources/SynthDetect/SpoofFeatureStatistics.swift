import DSP
import Foundation

/// The per-block utterance statistics of `SpoofFeatureExtractor` (see `SpoofFeatureBlock` for what
/// each block holds). Each takes per-frame values and the indices of the speech frames.
extension SpoofFeatureExtractor {
    /// Standard deviation of each of `columns` over `frames`.
    static func spread(_ m: FeatureMatrix, columns: Range<Int>, frames: [Int]) -> [Float] {
        columns.map { d in standardDeviation(frames.map { m[$0, d] }) }
    }

    /// Means of `columns` over `frames`, then their standard deviations.
    static func meanAndSpread(_ m: FeatureMatrix, columns: Range<Int>, frames: [Int]) -> [Float] {
        let n = Float(max(1, frames.count))
        let means = columns.map { d in frames.reduce(Float(0)) { $0 + m[$1, d] } / n }
        return means + spread(m, columns: columns, frames: frames)
    }

    /// Change and smoothness of each of the 4 modulation bands' log energy over consecutive speech frames.
    static func modulationStatistics(_ modulationLog: [Float], frames speech: [Int]) -> [Float] {
        var out: [Float] = []
        for b in 0..<4 {
            var diffs: [Float] = [], values: [Float] = []
            for (i, f) in speech.enumerated() {
                values.append(modulationLog[f * 4 + b])
                if i > 0, speech[i - 1] == f - 1 { diffs.append(modulationLog[f * 4 + b] - modulationLog[(f - 1) * 4 + b]) }
            }
            out.append(standardDeviation(diffs))
            out.append(lagOneCorrelation(values))
        }
        return out
    }

    /// Voicing and the F0 contour's smoothness over consecutive voiced frames; `tracked[i]` belongs to `speech[i]`.
    static func prosodyStatistics(_ tracked: [(f0: Float, strength: Float)], frames speech: [Int]) -> [Float] {
        var out: [Float] = []
        let voiced = tracked.filter { $0.f0 > 0 }
        out.append(Float(voiced.count) / Float(max(1, speech.count)))
        let strengths = voiced.map(\.strength)
        out.append(strengths.isEmpty ? 0 : strengths.reduce(0, +) / Float(strengths.count))
        out.append(standardDeviation(strengths))
        out.append(standardDeviation(voiced.map { 12 * Foundation.log2($0.f0 / 100) }))
        var steps: [Float] = [], curvature: [Float] = [], jumps = 0
        for i in 1..<max(1, speech.count) where speech[i] == speech[i - 1] + 1 && tracked[i].f0 > 0 && tracked[i - 1].f0 > 0 {
            let step = 12 * Foundation.log2(tracked[i].f0 / tracked[i - 1].f0)
            if abs(step) > 1 { jumps += 1; continue }
            steps.append(step)
            if i >= 2, speech[i - 2] == speech[i] - 2, tracked[i - 2].f0 > 0 {
                let previous = 12 * Foundation.log2(tracked[i - 1].f0 / tracked[i - 2].f0)
                if abs(previous) <= 1 { curvature.append(abs(step - previous)) }
            }
        }
        out.append(steps.isEmpty ? 0 : steps.map(abs).reduce(0, +) / Float(steps.count))
        out.append(standardDeviation(steps))
        out.append(curvature.isEmpty ? 0 : curvature.reduce(0, +) / Float(curvature.count))
        out.append(Float(jumps) / Float(max(1, steps.count + jumps)))
        return out
    }

    /// 4 sub-bands of 8 linear bands each: DCT-II (orthonormal) of the 8 log energies, c1…c4, per frame;
    /// mean then standard deviation of each coefficient (32 values).
    static func subbandCepstra(_ bandLog: [Float], frames speech: [Int]) -> [Float] {
        let bands = linearBandCount, width = 8, keep = 4
        let basis = subbandDCT
        var coefficients = [Float](repeating: 0, count: speech.count * 16)
        for (i, f) in speech.enumerated() {
            for sub in 0..<4 {
                for q in 1...keep {
                    var s: Float = 0
                    for n in 0..<width {
                        s += bandLog[f * bands + sub * width + n] * basis[(q - 1) * width + n]
                    }
                    coefficients[i * 16 + sub * keep + q - 1] = s * Float((2.0 / Double(width)).squareRoot())
                }
            }
        }
        let m = FeatureMatrix(frameCount: speech.count, dimension: 16, values: coefficients)
        return meanAndSpread(m, columns: 0..<16, frames: Array(0..<speech.count))
    }

    /// DCT-II basis rows c1…c4 over 8 points (row-major), computed once.
    static let subbandDCT: [Float] = (1...4).flatMap { q in
        (0..<8).map { n in Float(cos(Double.pi * Double(2 * n + 1) * Double(q) / 16)) }
    }

    /// 16 bands of 250 Hz: mean log power of each relative to the mean over bands (level-free), then each band's
    /// standard deviation over frames (32 values).
    static func longTermSpectrum(_ bandLog: [Float], frames speech: [Int]) -> [Float] {
        let bands = linearBandCount
        var values = [Float](repeating: 0, count: speech.count * 16)
        for (i, f) in speech.enumerated() {
            for b in 0..<16 {
                let a = bandLog[f * bands + 2 * b], c = bandLog[f * bands + 2 * b + 1]
                values[i * 16 + b] = max(a, c) + Foundation.log(1 + Foundation.exp(-abs(a - c)))  // log(e^a + e^c)
            }
        }
        let m = FeatureMatrix(frameCount: speech.count, dimension: 16, values: values)
        var stats = meanAndSpread(m, columns: 0..<16, frames: Array(0..<speech.count))
        let overall = stats[0..<16].reduce(0, +) / 16
        for b in 0..<16 { stats[b] -= overall }
        return stats
    }

    static func standardDeviation(_ x: [Float]) -> Float {
        guard x.count > 1 else { return 0 }
        let m = x.reduce(0, +) / Float(x.count)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(x.count)).squareRoot()
    }

    static func lagOneCorrelation(_ x: [Float]) -> Float {
        guard x.count > 2 else { return 0 }
        let m = x.reduce(0, +) / Float(x.count)
        var num: Float = 0, den: Float = 0
        for i in x.indices {
            den += (x[i] - m) * (x[i] - m)
            if i > 0 { num += (x[i] - m) * (x[i - 1] - m) }
        }
        return den > 0 ? num / den : 0
    }
}
