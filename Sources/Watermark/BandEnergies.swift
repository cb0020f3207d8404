import AudioCore
import DSP

/// Per-frame band powers of (multi-channel) audio: the quantity the watermark modulates.
enum BandEnergies {
    /// Band power [frame][band] summed over channels, from the spectrogram of each channel.
    static func bandPowers(_ spectrograms: [Spectrogram], layout: WatermarkLayout) -> [[Float]] {
        guard let first = spectrograms.first else { return [] }
        var out = [[Float]](repeating: [Float](repeating: 0, count: layout.bandCount), count: first.frameCount)
        for s in spectrograms {
            s.values.withUnsafeBufferPointer { v in
                for f in 0..<s.frameCount {
                    let base = f * s.binCount * 2
                    for b in 0..<layout.bandCount {
                        var acc: Float = 0
                        for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], s.binCount) {
                            let re = v[base + 2 * k], im = v[base + 2 * k + 1]
                            acc += re * re + im * im
                        }
                        out[f][b] += acc
                    }
                }
            }
        }
        return out
    }

    /// Band power [frame][band] summed over channels, computed frame by frame (no spectrogram is
    /// kept), for the signal starting `offset` samples in.
    static func bandPowers(_ channels: [[Float]], offset: Int, stft: STFT, layout: WatermarkLayout) -> [[Float]] {
        guard let first = channels.first, first.count > offset else { return [] }
        let frames = stft.frameCount(length: first.count - offset)
        var out = [[Float]](repeating: [Float](repeating: 0, count: layout.bandCount), count: frames)
        for channel in channels {
            channel.withUnsafeBufferPointer { p in
                stft.forEachFrame(of: UnsafeBufferPointer(rebasing: p[offset...])) { f, spectrum in
                    for b in 0..<layout.bandCount {
                        var acc: Float = 0
                        for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], spectrum.count / 2) {
                            acc += spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1]
                        }
                        out[f][b] += acc
                    }
                }
            }
        }
        return out
    }

    /// Log tile energies [tile][band] from frame powers, tiles starting at frame `phase`.
    static func logTiles(_ powers: [[Float]], layout: WatermarkLayout, phase: Int, floor: Float) -> [[Float]] {
        let f = layout.framesPerTile
        let tiles = max(0, (powers.count - phase) / f)
        return (0..<tiles).map { t in
            (0..<layout.bandCount).map { b in
                var e: Float = 0
                for i in 0..<f { e += powers[phase + t * f + i][b] }
                return Float.log(e + floor)
            }
        }
    }

    /// A floor for log energies: 60 dB below the mean band power (keeps silence finite).
    static func floor(_ powers: [[Float]]) -> Float {
        var total: Double = 0
        var count = 0
        for row in powers { for v in row { total += Double(v); count += 1 } }
        return Float(max(1e-20, total / Double(max(1, count)) * 1e-6))
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
