import Foundation

/// Cycle-level perturbation measures of voiced speech (jitter and shimmer), as in voice-quality
/// analysis (Praat's local / RAP jitter and local / dB / APQ3 shimmer), from a peak-picking glottal
/// cycle tracker guided by the frame-level pitch track.
///
/// Within each run of consecutive voiced speech frames, the first cycle mark is the largest sample
/// in the first period; each next mark is the shift between 0.9 and 1.1 periods (period = 1 / F0 of
/// the frame it falls in) whose cycle best matches the previous cycle by normalised cross-correlation,
/// refined by parabolic interpolation to a fraction of a sample; a cycle's amplitude is its peak
/// absolute value. Periods and peak amplitudes of consecutive marks give the measures, pooled
/// over runs with at least 4 cycles.
enum VoiceQuality {
    /// [local jitter, RAP jitter, local shimmer, shimmer (dB), APQ3 shimmer]; zeros without enough cycles.
    /// Values `measure` returns.
    static let dimension = 15

    /// [jitter: mean, median and 90th percentile of |Pₖ − Pₖ₋₁| / mean(Pₖ, Pₖ₋₁), RAP, PPQ5;
    /// shimmer: mean, median and 90th percentile of |Aₖ − Aₖ₋₁| / mean(Aₖ, Aₖ₋₁), mean |dB| change, APQ3, APQ5;
    /// cycle-to-cycle correlation: mean, standard deviation, 10th percentile; share of voiced speech frames
    /// covered by tracked cycles] (fractions; dB for the shimmer in dB); zeros without enough cycles.
    static func measure(_ x: [Float], frames speech: [Int], tracked: [(f0: Float, strength: Float)], hop: Int,
                        sampleRate: Double) -> [Float] {
        var runs: [[(position: Double, amplitude: Float, correlation: Float)]] = []
        var voicedFrames = 0, coveredFrames = 0
        var i = 0
        while i < speech.count {
            guard tracked[i].f0 > 0 else { i += 1; continue }
            var j = i
            while j + 1 < speech.count, speech[j + 1] == speech[j] + 1, tracked[j + 1].f0 > 0 { j += 1 }
            voicedFrames += j - i + 1
            // Run of voiced frames i…j; pitch-tracker frame f is centred on f·hop + hop.
            let start = max(0, speech[i] * hop + hop / 2), end = min(x.count - 1, speech[j] * hop + hop + hop / 2)
            func period(at sample: Int) -> Double {
                let k = min(j, max(i, i + (sample - start) / hop))
                return sampleRate / Double(tracked[k].f0)
            }
            var marks: [(position: Double, amplitude: Float, correlation: Float)] = []
            var p: (position: Double, amplitude: Float, correlation: Float)? = Self.peak(x, in: start..<min(end, start + Int(period(at: start).rounded(.up))))
                .map { (position: $0.position, amplitude: $0.amplitude, correlation: Float(1)) }
            while let mark = p {
                marks.append(mark)
                let t = period(at: Int(mark.position)), origin = Int(mark.position.rounded())
                let lo = Int((mark.position + 0.9 * t).rounded(.up)), hi = Int((mark.position + 1.1 * t).rounded(.down))
                let cycle = Int((t / 4).rounded())...Int((3 * t / 4).rounded())
                guard hi + cycle.upperBound < end, lo < hi, origin - cycle.lowerBound >= 0 else { break }
                // The lag is the shift between the two cycles, so the fraction of the rounded origin carries over.
                p = Self.nextCycle(x, after: origin, lags: (lo - origin)...(hi - origin), before: cycle.lowerBound, after: cycle.upperBound)
                    .map { (position: $0.position + (mark.position - Double(origin)), amplitude: $0.amplitude, correlation: $0.correlation) }
            }
            if marks.count >= 5 {
                runs.append(marks)
                coveredFrames += j - i + 1
            }
            i = j + 1
        }
        guard !runs.isEmpty else { return [Float](repeating: 0, count: dimension) }
        var jitter: [Float] = [], shimmer: [Float] = [], shimmerDB: [Float] = [], correlation: [Float] = []
        var rap: [Float] = [], ppq5: [Float] = [], apq3: [Float] = [], apq5: [Float] = []
        for run in runs {
            let periods = zip(run.dropFirst(), run).map { Float($0.position - $1.position) }
            let amplitudes = run.map(\.amplitude)
            correlation += run.dropFirst().map(\.correlation)
            for k in 1..<periods.count { jitter.append(abs(periods[k] - periods[k - 1]) / ((periods[k] + periods[k - 1]) / 2)) }
            for k in 1..<amplitudes.count {
                let a = max(amplitudes[k], 1e-9), b = max(amplitudes[k - 1], 1e-9)
                shimmer.append(abs(a - b) / ((a + b) / 2))
                shimmerDB.append(abs(20 * log10(a / b)))
            }
            func perturbation(_ v: [Float], _ width: Int, into out: inout [Float]) {
                let h = width / 2
                guard v.count > 2 * h else { return }
                for k in h..<(v.count - h) {
                    let local = v[(k - h)...(k + h)].reduce(0, +) / Float(width)
                    if local > 0 { out.append(abs(v[k] - local) / local) }
                }
            }
            perturbation(periods, 3, into: &rap); perturbation(periods, 5, into: &ppq5)
            perturbation(amplitudes, 3, into: &apq3); perturbation(amplitudes, 5, into: &apq5)
        }
        func mean(_ v: [Float]) -> Float { v.isEmpty ? 0 : v.reduce(0, +) / Float(v.count) }
        func quantile(_ v: [Float], _ q: Double) -> Float {
            guard !v.isEmpty else { return 0 }
            let sorted = v.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q + 0.5))]
        }
        let out: [Float] = [mean(jitter), quantile(jitter, 0.5), quantile(jitter, 0.9), mean(rap), mean(ppq5),
                            mean(shimmer), quantile(shimmer, 0.5), quantile(shimmer, 0.9), mean(shimmerDB), mean(apq3), mean(apq5),
                            mean(correlation), SpoofFeatureExtractor.standardDeviation(correlation), quantile(correlation, 0.1),
                            Float(coveredFrames) / Float(max(1, voicedFrames))]
        return out.map { min(max($0, -20), 20) }
    }

    /// The mark one cycle after `mark`: the lag in `lags` whose cycle (`before` samples before the mark to
    /// `after` samples after it: one period, mostly after the excitation, so the previous cycle's tail weighs
    /// little) correlates best with
    /// the cycle around `mark` (normalised cross-correlation, refined by a parabola), with the cycle's peak
    /// absolute value and that correlation. Nil when no lag correlates positively.
    static func nextCycle(_ signal: [Float], after mark: Int, lags: ClosedRange<Int>, before: Int, after: Int) -> (position: Double, amplitude: Float, correlation: Float)? {
        precondition(mark - before >= 0 && mark + lags.upperBound + after < signal.count, "cycle outside the signal")
        // Normalised correlation per lag, in a stack buffer; the candidate cycle's energy slides with the lag.
        return signal.withUnsafeBufferPointer { x in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: lags.count) { scores -> (position: Double, amplitude: Float, correlation: Float)? in
            var energyA: Float = 0, energyB: Float = 0
            for k in -before...after { energyA += x[mark + k] * x[mark + k] }
            for k in -before...after { let b = x[mark + lags.lowerBound + k]; energyB += b * b }
            var best = 0
            for (i, lag) in lags.enumerated() {
                if i > 0 {
                    let leaving = x[mark + lag - 1 - before], entering = x[mark + lag + after]
                    energyB = max(0, energyB - leaving * leaving + entering * entering)
                }
                var dot: Float = 0
                for k in -before...after { dot += x[mark + k] * x[mark + lag + k] }
                scores[i] = energyA > 0 && energyB > 0 ? dot / (energyA * energyB).squareRoot() : 0
                if scores[i] > scores[best] { best = i }
            }
            guard scores[best] > 0 else { return nil }
            var delta: Float = 0
            if best > 0, best + 1 < lags.count {
                let a = scores[best - 1], b = scores[best], c = scores[best + 1], d = a - 2 * b + c
                if d < 0 { delta = max(-0.5, min(0.5, 0.5 * (a - c) / d)) }
            }
            let centre = mark + lags.lowerBound + best
            var amplitude: Float = 0
            for k in -before...after { amplitude = max(amplitude, abs(x[centre + k])) }
            return (Double(centre) + Double(delta), amplitude, scores[best])
        }
        }
    }

    /// The largest sample in `range`, refined by a parabola through it and its neighbours; nil for an empty range
    /// or a non-positive peak.
    static func peak(_ x: [Float], in range: Range<Int>) -> (position: Double, amplitude: Float)? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= x.count else { return nil }
        var best = range.lowerBound
        for k in range where x[k] > x[best] { best = k }
        guard x[best] > 0 else { return nil }
        guard best > 0, best + 1 < x.count else { return (Double(best), x[best]) }
        let a = x[best - 1], b = x[best], c = x[best + 1]
        let denominator = a - 2 * b + c
        // Refine only at a true local maximum (a range edge may sit on a slope): then |delta| ≤ ½.
        guard a <= b, c <= b, denominator < 0 else { return (Double(best), b) }
        let delta = 0.5 * (a - c) / denominator
        return (Double(best) + Double(delta), b - 0.25 * (a - c) * delta)
    }
}
