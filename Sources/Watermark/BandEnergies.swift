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
    static func logTiles(flat powers: [Float], layout: WatermarkLayout, phase: Int, floor: [Float]) -> [Float] {
        let bands = layout.bandCount, f = layout.framesPerTile
        let frames = powers.count / bands
        let tiles = max(0, (frames - phase) / f)
        var out = [Float](repeating: 0, count: tiles * bands)
        powers.withUnsafeBufferPointer { p in
            for t in 0..<tiles {
                for b in 0..<bands {
                    var e: Float = 0
                    for i in 0..<f { e += p[(phase + t * f + i) * bands + b] }
                    out[t * bands + b] = Float.log(e + floor[b])
                }
            }
        }
        return out
    }

    /// The floor added to each band's tile energy before the log, the same for embedder and
    /// detector and independent of the rest of the audio (so both can stream): the tile energy of
    /// white noise at −90 dBFS (per bin and frame, σ² · Σw² = σ² · N/2 for the sqrt-Hann window).
    static func tileFloor(_ layout: WatermarkLayout) -> [Float] {
        (0..<layout.bandCount).map { b in
            let bins = Float(layout.bandEdges[b + 1] - layout.bandEdges[b])
            return bins * Float(layout.frameLength) / 2 * Float(layout.framesPerTile) * 1e-9
        }
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
