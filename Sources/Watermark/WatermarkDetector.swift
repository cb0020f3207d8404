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
    /// Time scale at which the mark was found: its duration now over its duration when embedded
    /// (1.05 = slowed down 5 %, by a tempo or speed change).
    public var timeScale: Double
    /// Frequency scale at which it was found: its frequencies now over when embedded (1.06 ≈
    /// pitched up 100 cents or sped up 6 %).
    public var frequencyScale: Double

    enum CodingKeys: String, CodingKey {
        case payload
        case startSeconds = "start_seconds"
        case endSeconds = "end_seconds"
        case bitErrors = "bit_errors"
        case codedBits = "coded_bits"
        case pValue = "p_value"
        case blocksCombined = "blocks_combined"
        case syncScore = "sync_score"
        case timeScale = "time_scale"
        case frequencyScale = "frequency_scale"
    }
}

/// Finds watermarks made with a key in audio of any length, wherever they start.
///
/// Every alignment (start position in quarter hops × time scale × frequency scale) is scored by the
/// correlation of its sync bits; alignments with a score of at least `syncThreshold` are decoded (soft Viterbi) and
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
    /// Time and frequency scales searched after a time-scale or pitch change: for each frequency
    /// scale (frequency after / before), the time scales (duration after / before) tried with it.
    /// The unscaled alignment (1, 1) is always searched first; the others only when it finds
    /// nothing. Default: `ScaleFamily.standard`; `[]` searches unscaled alignments only.
    public var scales: [ScaleFamily] = ScaleFamily.standard
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

    /// Frequency scales analysed: 1 first, then those of `scales`.
    var frequencyScaleList: [Double] {
        var list: [Double] = [1]
        for family in scales where !list.contains(family.frequencyScale) { list.append(family.frequencyScale) }
        return list
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
        do {
            return try search(sampleRate: audio.sampleRate, channelCount: audio.channelCount) { feed in
                let chunk = 65_536 * audio.channelCount
                audio.samples.withUnsafeBufferPointer { all in
                    var start = 0
                    while start < all.count {
                        let end = min(all.count, start + chunk)
                        feed(UnsafeBufferPointer(rebasing: all[start..<end]))
                        start = end
                    }
                }
            }
        } catch let error as WatermarkError {
            throw error
        } catch {
            throw .unsupportedAudio(detail: "\(error)")
        }
    }

    /// Frames per search window: band powers are searched (and forgotten) window by window, so
    /// memory stays bounded whatever the length; consecutive windows overlap by two blocks.
    static let windowBlocks = 24

    /// Searches an audio stream block by block with bounded memory (band powers of at most
    /// `windowBlocks` blocks are held), e.g. a large file or standard input.
    /// - Parameter blocks: calls its argument with each block of interleaved samples.
    public func search(sampleRate: Double, channelCount: Int,
                       blocks: ((UnsafeBufferPointer<Float>) -> Void) throws -> Void) throws -> SearchResult {
        let layout = try WatermarkLayout(sampleRate: sampleRate, payloadSize: payloadSize)
        let analyser = StreamingBandPowers(layout: layout, channelCount: channelCount, frequencyScales: frequencyScaleList)
        let map = CellMap(layout: layout, key: key)
        let search = AlignmentSearch(map: map, layout: layout, step: step, offsets: analyser.offsets)
        let blockFrames = layout.tilesPerBlock * layout.framesPerTile
        let windowFrames = Self.windowBlocks * blockFrames
        let overlapFrames = 2 * blockFrames + 2 * layout.framesPerTile
        var accepted: [AlignmentSearch.Candidate] = []
        var bound = 0.0, candidates = 0
        func runWindow() {
            let result = searchWindow(analyser, layout: layout, search: search)
            accepted += result.accepted
            bound += result.bound
            candidates += result.candidates
        }
        try blocks { chunk in
            analyser.add(chunk)
            if analyser.frameCount >= windowFrames {
                runWindow()
                analyser.dropFrames(analyser.frameCount - overlapFrames)
            }
        }
        analyser.finish()
        let duration = Double(analyser.received) / layout.sampleRate
        guard duration >= layout.blockSeconds else {
            throw WatermarkError.audioTooShort(seconds: duration, minimumSeconds: layout.minimumDetectableSeconds)
        }
        if analyser.firstFrame == 0 || analyser.frameCount > overlapFrames { runWindow() }
        return SearchResult(detections: detections(accepted, bound: bound, duration: duration, layout: layout),
                            alignmentsSearched: candidates)
    }

    /// Searches the band powers the analyser holds: unscaled first, the scale search only when that
    /// finds nothing. `bound` counts every alignment the whole procedure would try, searched or not
    /// (so the p-values hold for the procedure).
    private func searchWindow(_ analyser: StreamingBandPowers, layout: WatermarkLayout, search: AlignmentSearch)
        -> (accepted: [AlignmentSearch.Candidate], candidates: Int, bound: Double) {
        var accepted: [AlignmentSearch.Candidate] = []
        var candidates = 0
        var grids: [Int: (TileGrid, AlignmentSearch.SyncPartials)] = [:]
        let sampleBase = analyser.firstFrame * layout.hop
        func scan(frequencyIndex: Int, timeScale: Double) {
            let (grid, partials) = grids[frequencyIndex] ?? {
                let grid = TileGrid(powers: analyser.powers[frequencyIndex], layout: layout)
                return (grid, search.syncPartials(grid))
            }()
            grids = [frequencyIndex: (grid, partials)]  // one frequency scale in memory at a time
            search.scan(grid, partials: partials, timeScale: timeScale, frequencyScale: analyser.frequencyScales[frequencyIndex],
                        threshold: syncThreshold, candidates: &candidates) { soft, z in
                decode(soft, z: z, layout: layout)
            } accept: { candidate in
                var c = candidate
                c.startSample += sampleBase
                accepted.append(c)
            }
        }
        scan(frequencyIndex: 0, timeScale: 1)
        let unscaledCount = candidates
        let combinations = 1 + scales.reduce(0) { total, family in
            total + family.timeScales.filter { !(family.frequencyScale == 1 && $0 == 1) }.count
        }
        let slowest = scales.flatMap(\.timeScales).min() ?? 1
        let procedureCount = Double(unscaledCount) * Double(combinations) / min(1, slowest)
        if !accepted.contains(where: { procedureCount * syncTailBound($0.z) * Double.pow(2, -32) <= maximumPValue }) {
            for family in scales {
                guard let index = analyser.frequencyScales.firstIndex(of: family.frequencyScale) else { continue }
                for timeScale in family.timeScales where !(family.frequencyScale == 1 && timeScale == 1) {
                    scan(frequencyIndex: index, timeScale: timeScale)
                }
            }
        }
        return (accepted, candidates, max(Double(candidates), procedureCount))
    }

    /// Accepted candidates → detections with p-values (`bound` alignments × exp(−z²/2) × 2⁻³²), merged per payload.
    private func detections(_ accepted: [AlignmentSearch.Candidate], bound: Double, duration: Double,
                            layout: WatermarkLayout) -> [WatermarkDetection] {
        var found: [(payload: [UInt8], detection: WatermarkDetection)] = []
        for a in accepted {
            let p = min(1, bound * syncTailBound(a.z) * Double.pow(2, -32))
            guard p <= maximumPValue else { continue }
            let start = Double(a.startSample) / layout.sampleRate
            let end = min(duration, start + Double(a.blocks) * layout.blockSeconds * a.timeScale)
            let detection = WatermarkDetection(
                payload: Payload(bits: a.payload).hex, startSeconds: start, endSeconds: end, bitErrors: a.errors,
                codedBits: layout.codedBits, pValue: p, blocksCombined: a.blocks, syncScore: a.z,
                timeScale: a.timeScale, frequencyScale: a.frequencyScale)
            if let i = found.firstIndex(where: { $0.payload == a.payload }) {
                var d = found[i].detection
                d.startSeconds = min(d.startSeconds, detection.startSeconds)
                d.endSeconds = max(d.endSeconds, detection.endSeconds)
                if detection.pValue < d.pValue {
                    d.pValue = detection.pValue; d.syncScore = detection.syncScore
                    d.bitErrors = detection.bitErrors; d.blocksCombined = detection.blocksCombined
                    d.timeScale = detection.timeScale; d.frequencyScale = detection.frequencyScale
                }
                found[i].detection = d
            } else {
                found.append((a.payload, detection))
            }
        }
        return found.map(\.detection).sorted { $0.startSeconds < $1.startSeconds }
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


/// Time scales to try at one frequency scale (see `WatermarkDetector.scales`).
public struct ScaleFamily: Sendable, Hashable {
    /// Frequency after / before (1.06 ≈ +100 cents or 6 % faster playback).
    public var frequencyScale: Double
    /// Durations after / before to try with it.
    public var timeScales: [Double]

    /// Creates a family.
    public init(frequencyScale: Double, timeScales: [Double]) {
        self.frequencyScale = frequencyScale
        self.timeScales = timeScales
    }

    /// Time scales 0.97–1.03 in steps of 0.2 % at frequency scale 1: tempo and speed changes of up
    /// to ±3 % (a speed change also moves frequencies, which costs sync margin beyond ±1 %). STDM
    /// reads log energies of 32 ms tiles, so a time scale off by 0.25 % already loses the sync at
    /// the ends of a 4.5 s block; hence the fine steps.
    public static let standard = [ScaleFamily(frequencyScale: 1, timeScales: (-15...15).map { 1 + Double($0) * 0.002 })]

    /// The search used for ±5 % speed/tempo and ±100-cent pitch changes: frequency scales
    /// 0.94–1.06 (steps of 1.5 %) and time scales 0.95–1.05 (steps of 0.2 %) as tempo, pitch and
    /// speed families, 147 alignments per position. Roughly 3× slower and 90 MB on 3 min of
    /// stereo; it finds marks only after mild damage (measured: none of ±5 % speed/tempo or
    /// ±100 cents pitch recovered on the benchmark clips), so it is not the default.
    public static let wide: [ScaleFamily] = {
        var families = [ScaleFamily(frequencyScale: 1, timeScales: (-25...25).map { 1 + Double($0) * 0.002 })]
        for k in [-4, -3, -2, -1, 1, 2, 3, 4] {
            let f = 1 + Double(k) * 0.015
            families.append(ScaleFamily(frequencyScale: f, timeScales: [1] + (-5...5).map { 1 / f + Double($0) * 0.002 }))
        }
        return families
    }()
}
