import Foundation

/// Frame-wise fundamental frequency and voicing strength by normalised autocorrelation
/// (Boersma 1993: the frame's autocorrelation divided by the window's), computed with FFTs; the
/// shortest-lag peak within 10 % of the highest wins, which avoids octave errors.
///
/// Frame f is a 40 ms Hann window centred on sample f·hop + hop; F0 is searched in
/// 60–400 Hz with parabolic interpolation of the peak. A frame is voiced when its peak
/// normalised autocorrelation (the voicing strength, 0…1, a harmonics-to-noise measure) is at
/// least `voicingThreshold`.
public struct PitchTracker: Sendable {
    /// Sample rate, hertz.
    public let sampleRate: Double
    /// Frame hop, samples.
    public let hop: Int
    let window: [Float]
    let windowAutocorrelation: [Float]
    let fft: RealFFT
    let minimumLag: Int
    let maximumLag: Int
    /// Voicing strength from which a frame counts as voiced.
    public static let voicingThreshold: Float = 0.45

    /// Creates a tracker for `sampleRate` (hertz) with frames every `hop` samples.
    public init(sampleRate: Double, hop: Int) {
        self.sampleRate = sampleRate
        self.hop = hop
        let length = Int((0.040 * sampleRate).rounded())
        window = WindowKind.hann.values(length: length)
        minimumLag = Int((sampleRate / 400).rounded(.down))
        maximumLag = min(length - 1, Int((sampleRate / 60).rounded(.up)))
        // Zero padding to length + maximumLag keeps every searched lag free of circular wrap-around.
        var n = 1
        while n < length + maximumLag + 1 { n *= 2 }
        fft = RealFFT(size: n)
        // Autocorrelation of the window itself, normalised.
        var r = [Float](repeating: 0, count: length)
        for lag in 0..<length {
            var s: Float = 0
            for i in 0..<(length - lag) { s += window[i] * window[i + lag] }
            r[lag] = s
        }
        let r0 = r[0]
        windowAutocorrelation = r.map { $0 / r0 }
    }

    /// F0 (Hz, 0 when unvoiced) and voicing strength of each requested frame (frame f is centred
    /// on sample f·hop + hop).
    public func track(_ x: [Float], frames: [Int]) -> [(f0: Float, strength: Float)] {
        let length = window.count, n = fft.size
        let input = RealFFT.allocate(n), spectrum = RealFFT.allocate(n + 2), lags = RealFFT.allocate(n)
        defer { RealFFT.deallocate(input); RealFFT.deallocate(spectrum); RealFFT.deallocate(lags) }
        var out: [(f0: Float, strength: Float)] = []
        out.reserveCapacity(frames.count)
        var normalised = [Float](repeating: 0, count: maximumLag + 2)  // scratch for every frame
        let samples = x.count
        x.withUnsafeBufferPointer { xp in
        window.withUnsafeBufferPointer { w in
        for f in frames {
            let centre = f * hop + hop
            let start = centre - length / 2
            // Samples inside the signal: [lo, hi) of the frame; the rest count as zero.
            let lo = max(0, -start), hi = max(lo, min(length, samples - start))
            var mean: Float = 0
            for i in lo..<hi { mean += xp[start + i] }
            mean /= Float(length)
            input.baseAddress!.update(repeating: 0, count: n)
            for i in 0..<length { input[i] = (i >= lo && i < hi ? xp[start + i] - mean : 0) * w[i] }
            fft.forward(input.baseAddress!, spectrum.baseAddress!)
            for k in 0...(n / 2) {
                let re = spectrum[2 * k], im = spectrum[2 * k + 1]
                spectrum[2 * k] = re * re + im * im
                spectrum[2 * k + 1] = 0
            }
            fft.inverseUnnormalized(destroying: spectrum.baseAddress!, lags.baseAddress!)
            let r0 = lags[0]
            guard r0 > 0 else { out.append((0, 0)); continue }
            // Normalised autocorrelation; the highest peak, then the shortest-lag local peak within
            // 10 % of it (a periodic signal peaks at every multiple of its period: avoid octave errors).
            var top: Float = -1
            for lag in minimumLag...maximumLag {
                normalised[lag] = lags[lag] / r0 / max(windowAutocorrelation[lag], 1e-3)
                top = max(top, normalised[lag])
            }
            var best = minimumLag, bestValue: Float = -1
            for lag in minimumLag...maximumLag {
                let v = normalised[lag]
                let isPeak = (lag == minimumLag || v >= normalised[lag - 1]) && (lag == maximumLag || v >= normalised[lag + 1])
                if isPeak && v >= 0.9 * top { best = lag; bestValue = v; break }
            }
            // Parabolic interpolation around the peak.
            var lag = Float(best)
            if best > minimumLag && best < maximumLag {
                let a = lags[best - 1] / r0 / windowAutocorrelation[best - 1]
                let c = lags[best + 1] / r0 / windowAutocorrelation[best + 1]
                let d = a - 2 * bestValue + c
                if d < 0 { lag += 0.5 * (a - c) / d }
            }
            let strength = min(1, max(0, bestValue))
            out.append((strength >= Self.voicingThreshold ? Float(sampleRate) / lag : 0, strength))
        }
        }
        }
        return out
    }
}
