import AudioCore
import DSP

/// Band energies: the quantity the watermark modulates.
enum BandEnergies {
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
