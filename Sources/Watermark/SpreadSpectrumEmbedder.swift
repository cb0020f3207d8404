public import AudioCore
import DSP

/// Embeds a keyed watermark carrying a payload into audio.
///
/// Each bit is spread over several time–frequency cells chosen by the key and embedded by
/// spread-transform dither modulation: the keyed projection of the cells' log energies is moved
/// to the nearest point of the bit's quantiser lattice. Because the change is a gain on the
/// audio's own spectrum it is shaped by the content (masked where the audio is loud, absent
/// where it is silent), and because the spreading vector sums to zero, overall gain and fixed
/// filtering do not disturb it.
public struct SpreadSpectrumEmbedder: Sendable {
    /// The key.
    public let key: WatermarkKey
    /// The payload.
    public let payload: Payload
    /// Strength: 1 is the default; the quantiser step and distortion scale with it (0.25…4). The
    /// detector must be given the same strength.
    public let strength: Double

    /// Quantiser step at strength 1, in natural-log energy units of the projection.
    public static let baseStep: Float = 0.9
    /// Largest change of one cell's energy, natural-log units (±2.6 dB at strength 1).
    public static let maximumCellChange: Float = 0.6

    /// Creates an embedder.
    /// - Parameter strength: 0.25…4; higher is more robust and more audible.
    public init(key: WatermarkKey, payload: Payload, strength: Double = 1) throws(WatermarkError) {
        guard (0.25...4).contains(strength) else {
            throw .unsupportedAudio(detail: "strength \(strength); expected 0.25 to 4")
        }
        self.key = key
        self.payload = payload
        self.strength = strength
    }

    /// Splits a projection change `delta` over a bit's cells (log-energy changes c_i with
    /// Σ u_i c_i = delta) so that the added signal energy Σ E_i c_i² is smallest: c_i ∝ u_i / E_i,
    /// i.e. quiet cells (masked by their louder neighbours) take most of the change and loud cells,
    /// which dominate the audible error, little. Each |c_i| is capped at `maximumCellChange`; what
    /// the cap cuts is spread again over the other cells (two rounds).
    static func allocate(_ delta: Float, spreading u: [Float], levels: [Float]) -> [Float] {
        let top = levels.max() ?? 0
        let weight = levels.map { Float.exp(top - $0 > 20 ? 20 : top - $0) }  // ∝ 1/E_i, bounded
        var changes = [Float](repeating: 0, count: u.count)
        var free = Array(repeating: true, count: u.count)
        var remaining = delta
        for _ in 0..<3 {
            var norm: Float = 0
            for i in u.indices where free[i] { norm += u[i] * u[i] * weight[i] }
            guard norm > 0, abs(remaining) > 1e-6 else { break }
            let scale = remaining / norm
            for i in u.indices where free[i] {
                let c = changes[i] + scale * u[i] * weight[i]
                let capped = max(-maximumCellChange, min(maximumCellChange, c))
                if capped != c { free[i] = false }
                changes[i] = capped
            }
            remaining = delta - zip(u, changes).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return changes
    }

    /// The marked copy of `audio` (same rate, channels and length).
    /// - Throws: `WatermarkError.audioTooShort` when not even one block fits.
    public func embed(_ audio: AudioBuffer) throws(WatermarkError) -> AudioBuffer {
        let layout = try WatermarkLayout(sampleRate: audio.sampleRate, payloadSize: payload.size)
        let minimum = layout.blockSeconds
        guard audio.duration >= minimum else { throw .audioTooShort(seconds: audio.duration, minimumSeconds: minimum) }
        let map = CellMap(layout: layout, key: key)
        let bits = map.syncValues + ChannelCode.encode(payload.bits)
        let stft = try! STFT(STFTConfiguration(frameLength: layout.frameLength, hop: layout.hop, fftSize: layout.frameLength, window: .sqrtHann, layout: .padded))
        var channels = audio.channels
        let step = Self.baseStep * Float(strength)
        // Two passes: overlap-add smooths the first pass's gains, the second corrects what remains.
        for _ in 0..<2 {
            var spectrograms = channels.map { stft.forward($0) }
            let powers = BandEnergies.bandPowers(spectrograms, layout: layout)
            let floor = BandEnergies.floor(flat: powers)
            // Frame f of the padded layout covers samples from (f − 1) · hop; tiles start at frame 1.
            let bands = layout.bandCount
            let logTiles = BandEnergies.logTiles(flat: powers, layout: layout, phase: 1, floor: floor)
            let tileCount = logTiles.count / bands
            var gains = [[Float]](repeating: [Float](repeating: 1, count: bands), count: tileCount)
            let blocks = tileCount / layout.tilesPerBlock
            for block in 0..<blocks {
                let base = block * layout.tilesPerBlock
                for (j, cells) in map.cells.enumerated() {
                    let u = map.spreading[j]
                    var p: Float = 0
                    for (i, c) in cells.enumerated() { p += u[i] * logTiles[(base + c.tile) * bands + c.band] }
                    let offset = (map.dither[j] + Float(bits[j]) * 0.5) * step
                    let q = ((p - offset) / step).rounded() * step + offset
                    let changes = Self.allocate(q - p, spreading: u,
                                                levels: cells.map { logTiles[(base + $0.tile) * bands + $0.band] })
                    for (i, c) in cells.enumerated() {
                        gains[base + c.tile][c.band] *= Float.exp(changes[i] / 2)
                    }
                }
            }
            for (ch, spectrogram) in spectrograms.enumerated() {
                var s = spectrogram
                s.values.withUnsafeMutableBufferPointer { v in
                    for t in 0..<gains.count {
                        for fi in 0..<layout.framesPerTile {
                            let f = 1 + t * layout.framesPerTile + fi
                            guard f < s.frameCount else { continue }
                            for b in 0..<layout.bandCount where gains[t][b] != 1 {
                                let g = gains[t][b]
                                for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], s.binCount) {
                                    v[(f * s.binCount + k) * 2] *= g
                                    v[(f * s.binCount + k) * 2 + 1] *= g
                                }
                            }
                        }
                    }
                }
                spectrograms[ch] = s
                channels[ch] = stft.inverse(s, length: audio.frameCount)
            }
        }
        return AudioBuffer(sampleRate: audio.sampleRate, channels: channels)
    }
}

extension Float {
    static func exp(_ x: Float) -> Float { Float(Foundation_exp(Double(x))) }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
