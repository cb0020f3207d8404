public import AudioCore
import DSP
import Foundation

/// One watermark found in audio.
public struct WatermarkDetection: Sendable, Hashable, Codable {
    /// The payload, lower-case hex.
    public var payload: String
    /// Where the marked blocks found start, seconds from the start of the audio.
    public var startSeconds: Double
    /// Where they end, seconds.
    public var endSeconds: Double
    /// Coded bits whose hard decision disagrees with the re-encoded payload.
    public var bitErrors: Int
    /// Coded bits compared.
    public var codedBits: Int
    /// Bound on the probability that unmarked audio (or audio marked with another key) produces a
    /// detection at least this strong anywhere in the searched alignments: alignments searched ×
    /// exp(−z²/2) (Hoeffding, sync score z) × 2⁻³² (CRC-32).
    public var pValue: Double
    /// Blocks soft-combined for this detection (1 = a single block decoded by itself).
    public var blocksCombined: Int
    /// Sync correlation z-score of the decoded alignment.
    public var syncScore: Double

    enum CodingKeys: String, CodingKey {
        case payload
        case startSeconds = "start_seconds"
        case endSeconds = "end_seconds"
        case bitErrors = "bit_errors"
        case codedBits = "coded_bits"
        case pValue = "p_value"
        case blocksCombined = "blocks_combined"
        case syncScore = "sync_score"
    }
}

/// Finds watermarks made with a key in audio of any length, wherever they start.
///
/// Every alignment (sub-hop offset × tile phase × start tile) is scored by the correlation of its
/// sync bits; alignments with a score of at least `syncThreshold` are decoded (soft Viterbi) and
/// accepted when the CRC-32 matches and the p-value — alignments searched × exp(−z²/2) × 2⁻³² —
/// is at most `maximumPValue`. Consecutive blocks
/// at one alignment are also soft-combined, so long, damaged audio still decodes.
public struct WatermarkDetector: Sendable {
    /// The key.
    public let key: WatermarkKey
    /// The payload size to look for.
    public let payloadSize: Payload.Size
    /// Sync z-score needed before decoding is attempted.
    public var syncThreshold: Double = 4
    /// Largest p-value reported (default 1e-9).
    public var maximumPValue: Double = 1e-9
    /// Quantiser step: `SpreadSpectrumEmbedder.baseStep × strength`, so detection must use the
    /// strength the mark was embedded with (the default, 1, unless the embedder was told otherwise).
    public let step: Float

    /// Creates a detector.
    /// - Parameter strength: the embedding strength of the marks to find (default 1).
    public init(key: WatermarkKey, payloadSize: Payload.Size = .standard, strength: Double = 1) {
        self.key = key
        self.payloadSize = payloadSize
        self.step = SpreadSpectrumEmbedder.baseStep * Float(strength)
    }

    /// All detections in `audio`, merged per payload, earliest first. Empty for unmarked audio.
    public func detect(_ audio: AudioBuffer) throws(WatermarkError) -> [WatermarkDetection] {
        try search(audio).detections
    }

    /// What a search found and how many block alignments it tried (single blocks and
    /// soft-combined runs): the multiple-testing count behind the p-values.
    public struct SearchResult: Sendable {
        /// Detections, merged per payload, earliest first.
        public var detections: [WatermarkDetection]
        /// Alignments tested.
        public var alignmentsSearched: Int
    }

    /// Searches `audio` for marks; see `detect(_:)`.
    public func search(_ audio: AudioBuffer) throws(WatermarkError) -> SearchResult {
        let layout = try WatermarkLayout(sampleRate: audio.sampleRate, payloadSize: payloadSize)
        let analyser = StreamingBandPowers(layout: layout, channelCount: audio.channelCount)
        audio.samples.withUnsafeBufferPointer { analyser.add($0) }
        analyser.finish()
        return try search(analyser, layout: layout)
    }

    /// Searches an audio stream block by block (constant memory in the audio: only 24 band powers
    /// per frame and offset are kept), e.g. a large file or standard input.
    /// - Parameter blocks: calls its argument with each block of interleaved samples.
    public func search(sampleRate: Double, channelCount: Int,
                       blocks: ((UnsafeBufferPointer<Float>) -> Void) throws -> Void) throws -> SearchResult {
        let layout = try WatermarkLayout(sampleRate: sampleRate, payloadSize: payloadSize)
        let analyser = StreamingBandPowers(layout: layout, channelCount: channelCount)
        try blocks { analyser.add($0) }
        analyser.finish()
        return try search(analyser, layout: layout)
    }

    private func search(_ analyser: StreamingBandPowers, layout: WatermarkLayout) throws(WatermarkError) -> SearchResult {
        let duration = Double(analyser.received) / layout.sampleRate
        guard duration >= layout.blockSeconds else {
            throw .audioTooShort(seconds: duration, minimumSeconds: layout.minimumDetectableSeconds)
        }
        let map = CellMap(layout: layout, key: key)
        let syncSigns: [Float] = map.syncValues.map { $0 == 0 ? 1 : -1 }
        var found: [(payload: [UInt8], detection: WatermarkDetection)] = []
        var candidates = 0
        var accepted: [(start: Int, payload: [UInt8], z: Double, errors: Int, blocks: Int)] = []
        let scorer = AlignmentScorer(map: map, layout: layout, step: step)
        let floor = BandEnergies.tileFloor(layout)
        for (offsetIndex, offset) in analyser.offsets.enumerated() {
            let powers = analyser.powers[offsetIndex]
            for phase in 0..<layout.framesPerTile {
                let flat = BandEnergies.logTiles(flat: powers, layout: layout, phase: phase, floor: floor)
                let tileCount = flat.count / layout.bandCount
                guard tileCount >= layout.tilesPerBlock else { continue }
                let starts = tileCount - layout.tilesPerBlock + 1
                let sync = (0..<starts).map { scorer.soft(flat, start: $0, bits: 0..<layout.syncBits) }
                func record(_ s: Int, _ blocks: Int, _ result: (payload: [UInt8], z: Double, errors: Int)) {
                    accepted.append((offset + (phase + s * layout.framesPerTile) * layout.hop, result.payload, result.z, result.errors, blocks))
                }
                // Single blocks.
                var decoded = Set<Int>()
                for s in 0..<starts {
                    candidates += 1
                    let z = syncScore(sync[s], signs: syncSigns)
                    guard z >= syncThreshold else { continue }
                    let soft = scorer.soft(flat, start: s, bits: 0..<map.cells.count)
                    if let result = decode(soft, z: z, layout: layout) {
                        record(s, 1, result)
                        decoded.insert(s)
                    }
                }
                // Runs of consecutive blocks at one alignment, soft-combined.
                for residue in 0..<min(layout.tilesPerBlock, starts) {
                    var runStart = residue
                    var combinedSync = [Float](repeating: 0, count: layout.syncBits)
                    var blocks = 0
                    var s = residue
                    while s < starts {
                        if decoded.contains(s) { runStart = s + layout.tilesPerBlock; combinedSync = combinedSync.map { _ in 0 }; blocks = 0; s += layout.tilesPerBlock; continue }
                        for i in 0..<layout.syncBits { combinedSync[i] += sync[s][i] }
                        blocks += 1
                        if blocks >= 2 {
                            candidates += 1
                            let z = syncScore(combinedSync, signs: syncSigns)
                            if z >= syncThreshold {
                                var soft = [Float](repeating: 0, count: map.cells.count)
                                var b = runStart
                                while b <= s {
                                    let part = scorer.soft(flat, start: b, bits: 0..<map.cells.count)
                                    for i in soft.indices { soft[i] += part[i] }
                                    b += layout.tilesPerBlock
                                }
                                if let result = decode(soft, z: z, layout: layout) {
                                    record(runStart, blocks, result)
                                    runStart = s + layout.tilesPerBlock
                                    combinedSync = combinedSync.map { _ in 0 }
                                    blocks = 0
                                }
                            }
                        }
                        if blocks >= 16 {
                            runStart = s + layout.tilesPerBlock; combinedSync = combinedSync.map { _ in 0 }; blocks = 0
                        }
                        s += layout.tilesPerBlock
                    }
                }
            }
        }
        // p-value per accepted candidate, merged by payload.
        for a in accepted {
            let p = min(1, Double(candidates) * syncTailBound(a.z) * Double.pow(2, -32))
            guard p <= maximumPValue else { continue }
            let start = Double(a.start) / layout.sampleRate
            let end = min(duration, start + Double(a.blocks) * layout.blockSeconds)
            let detection = WatermarkDetection(
                payload: Payload(bits: a.payload).hex, startSeconds: start, endSeconds: end, bitErrors: a.errors,
                codedBits: layout.codedBits, pValue: p, blocksCombined: a.blocks, syncScore: a.z)
            if let i = found.firstIndex(where: { $0.payload == a.payload }) {
                var d = found[i].detection
                d.startSeconds = min(d.startSeconds, detection.startSeconds)
                d.endSeconds = max(d.endSeconds, detection.endSeconds)
                if detection.pValue < d.pValue {
                    d.pValue = detection.pValue; d.syncScore = detection.syncScore
                    d.bitErrors = detection.bitErrors; d.blocksCombined = detection.blocksCombined
                }
                found[i].detection = d
            } else {
                found.append((a.payload, detection))
            }
        }
        return SearchResult(detections: found.map(\.detection).sorted { $0.startSeconds < $1.startSeconds },
                            alignmentsSearched: candidates)
    }

    /// Self-normalised sync score z = Σ sᵢ·signᵢ / √Σ sᵢ². Without a mark (or with another key) the
    /// keyed dithers make every soft value symmetric about 0, so by Hoeffding's inequality
    /// P(z ≥ t) ≤ exp(−t²/2) whatever the audio: `syncTailBound` — the basis of the p-values.
    private func syncScore(_ soft: [Float], signs: [Float]) -> Double {
        var dot: Double = 0, energy: Double = 0
        for i in soft.indices {
            dot += Double(soft[i] * signs[i])
            energy += Double(soft[i] * soft[i])
        }
        return energy > 0 ? dot / energy.squareRoot() : 0
    }

    /// Viterbi + CRC on one (possibly combined) set of soft values whose sync score `z` passed.
    private func decode(_ soft: [Float], z: Double, layout: WatermarkLayout) -> (payload: [UInt8], z: Double, errors: Int)? {
        let codedSoft = soft[layout.syncBits...].map { -$0 }  // decoder: > 0 favours 1
        guard let payload = ChannelCode.decode(Array(codedSoft), payloadBits: payloadSize.rawValue) else { return nil }
        let expected = ChannelCode.encode(payload)
        // Errors among the bits that carried information (erased bits, weight 0, are not counted).
        let errors = zip(expected, codedSoft).filter { $0.1 != 0 && ($0.0 == 1) != ($0.1 > 0) }.count
        return (payload, z, errors)
    }
}

/// Hoeffding's bound on P(z ≥ t) for a self-normalised sum of symmetric terms: exp(−t²/2).
func syncTailBound(_ t: Double) -> Double { t > 0 ? Foundation.exp(-t * t / 2) : 1 }

/// Soft values of bits at one block alignment, from flat log tile energies ([tile × band]).
///
/// soft = w · cos(2π (p / Δ − dither)): +1 on the bit-0 lattice, −1 on the bit-1 lattice, where
/// p is the keyed projection and w ∈ [0, 1] the reliability of the bit: its quietest cell's level
/// against the block's mean (0 at 20 dB or more below it, where noise and codecs dominate). One
/// unreliable cell corrupts the whole projection, hence the minimum.
struct AlignmentScorer {
    let offsets: [Int]
    let weights: [Float]
    let dither: [Float]
    let cellsPerBit: Int
    let bandCount: Int
    let tilesPerBlock: Int
    let step: Float

    init(map: CellMap, layout: WatermarkLayout, step: Float) {
        offsets = map.cells.flatMap { $0.map { $0.tile * layout.bandCount + $0.band } }
        weights = map.spreading.flatMap { $0 }
        dither = map.dither
        cellsPerBit = layout.cellsPerBit
        bandCount = layout.bandCount
        tilesPerBlock = layout.tilesPerBlock
        self.step = step
    }

    func soft(_ tiles: [Float], start: Int, bits: Range<Int>) -> [Float] {
        let base = start * bandCount
        let span = tilesPerBlock * bandCount
        return tiles.withUnsafeBufferPointer { t in
            var mean: Float = 0
            for i in 0..<span { mean += t[base + i] }
            mean /= Float(span)
            let floor = mean - 6.9  // 30 dB below the block mean (natural-log energy)
            return offsets.withUnsafeBufferPointer { off in
                weights.withUnsafeBufferPointer { u in
                    bits.map { j in
                        var p: Float = 0, level: Float = .infinity
                        for i in (j * cellsPerBit)..<((j + 1) * cellsPerBit) {
                            let e = t[base + off[i]]
                            p += u[i] * e
                            level = min(level, e)
                        }
                        let w = max(0, min(1, (level - floor) / 6.9))
                        return w * Float(Foundation.cos(Double(2 * Float.pi * (p / step - dither[j]))))
                    }
                }
            }
        }
    }
}
