import AudioCore
import DSP

/// Per-frame band powers of (multi-channel) audio: the quantity the watermark modulates.
enum BandEnergies {
    /// Band powers summed over channels, frame-major and flat (`bandCount` values per frame),
    /// from the spectrogram of each channel.
    static func bandPowers(_ spectrograms: [Spectrogram], layout: WatermarkLayout) -> [Float] {
        guard let first = spectrograms.first else { return [] }
        let bands = layout.bandCount
        var out = [Float](repeating: 0, count: first.frameCount * bands)
        for s in spectrograms {
            s.values.withUnsafeBufferPointer { v in
                for f in 0..<s.frameCount {
                    let base = f * s.binCount * 2
                    for b in 0..<bands {
                        var acc: Float = 0
                        for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], s.binCount) {
                            acc += v[base + 2 * k] * v[base + 2 * k] + v[base + 2 * k + 1] * v[base + 2 * k + 1]
                        }
                        out[f * bands + b] += acc
                    }
                }
            }
        }
        return out
    }

    /// Log tile energies, flat ([tile × band]), from frame-major flat powers, tiles from frame `phase`.
    static func logTiles(flat powers: [Float], layout: WatermarkLayout, phase: Int, floor: Float) -> [Float] {
        let bands = layout.bandCount, f = layout.framesPerTile
        let frames = powers.count / bands
        let tiles = max(0, (frames - phase) / f)
        var out = [Float](repeating: 0, count: tiles * bands)
        powers.withUnsafeBufferPointer { p in
            for t in 0..<tiles {
                for b in 0..<bands {
                    var e: Float = 0
                    for i in 0..<f { e += p[(phase + t * f + i) * bands + b] }
                    out[t * bands + b] = Float.log(e + floor)
                }
            }
        }
        return out
    }

    /// The floor added before the log: 60 dB below the mean band power (keeps silence finite).
    static func floor(flat powers: [Float]) -> Float {
        let total = powers.reduce(0.0) { $0 + Double($1) }
        return Float(max(1e-20, total / Double(max(1, powers.count)) * 1e-6))
    }

}

extension Float {
    static func log(_ x: Float) -> Float { Float(Foundation_log(Double(x))) }
}

#if canImport(Glibc)
import Glibc
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
#else
import Darwin
func Foundation_log(_ x: Double) -> Double { Darwin.log(x) }
#endif
