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
    /// The analysis passes: the channel mix is resampled to 8 kHz × each pass's speed (undoing a
    /// speed change of that factor exactly) and searched at its time scales. The first pass (speed
    /// 1, time scale 1 first) always runs; the time-scale and speed searches only while it has
    /// found nothing. Default: `DetectionPass.standard`; `DetectionPass.unscaled` is fastest.
    public var passes: [DetectionPass] = DetectionPass.standard
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

    /// Blocks per search window: band powers are searched (and forgotten) window by window, so
    /// memory stays bounded whatever the length; consecutive windows overlap by two blocks.
    static let windowBlocks = 24

    /// The rate the detector analyses audio of `sampleRate` at: 8 kHz adjusted so that 256-sample
    /// frames last exactly as long as the embedder's frames at that rate (44.1 kHz: 1412 samples,
    /// so 7,995.5 Hz). The mark lives below 3.6 kHz; analysing there makes detection cheap at
    /// every input rate, and the embedder's grid is matched exactly for audio at its original rate.
    public static func analysisRate(for sampleRate: Double) throws(WatermarkError) -> Double {
        let native = try WatermarkLayout(sampleRate: sampleRate)
        return 256 * sampleRate / Double(native.frameLength)
    }

    /// Searches an audio stream block by block with bounded memory (band powers and 8 kHz audio
    /// of at most `windowBlocks` blocks are held), e.g. a large file or standard input.
    /// - Parameter blocks: calls its argument with each block of interleaved samples.
    public func search(sampleRate: Double, channelCount: Int,
                       blocks: ((UnsafeBufferPointer<Float>) -> Void) throws -> Void) throws -> SearchResult {
        let inputLayout = try WatermarkLayout(sampleRate: sampleRate, payloadSize: payloadSize)
        guard channelCount >= 1 else { throw WatermarkError.unsupportedAudio(detail: "no channels") }
        guard let firstPass = passes.first else { throw WatermarkError.unsupportedAudio(detail: "no detection passes") }
        let rate = try Self.analysisRate(for: sampleRate)
        let layout = try WatermarkLayout(sampleRate: 8_000, payloadSize: payloadSize)
        let map = CellMap(layout: layout, key: key)
        let main = try PassRunner(inputRate: sampleRate, outputRate: rate * firstPass.speed, layout: layout,
                                  keepsAudio: passes.count > 1)
        let search = AlignmentSearch(map: map, layout: layout, step: step, offsets: main.analyser.offsets)
        let blockFrames = layout.tilesPerBlock * layout.framesPerTile
        let windowFrames = Self.windowBlocks * blockFrames
        let overlapFrames = 2 * blockFrames + 2 * layout.framesPerTile
        var accepted: [AlignmentSearch.Candidate] = []
        var bound = 0.0, candidates = 0
        func record(_ result: (accepted: [AlignmentSearch.Candidate], candidates: Int, bound: Double)) {
            accepted += result.accepted
            bound += result.bound
            candidates += result.candidates
        }
        /// The main pass's window, then — only if nothing was found so far — the other passes
        /// over the same stretch of 8 kHz audio.
        func runWindow() throws {
            record(searchWindow(main.analyser, plan: firstPass, layout: layout, search: search, sampleBase: 0, scaled: true))
            let found = accepted.contains { bound * syncTailBound($0.z) * Double.pow(2, -32) <= maximumPValue }
            let windowStart = main.analyser.firstFrame * layout.hop
            for plan in passes.dropFirst() {
                if found {
                    record(([], 0, procedureCount(frames: Int(Double(main.analyser.frameCount) / plan.speed), plan: plan)))
                    continue
                }
                let extra = try PassRunner(inputRate: rate, outputRate: rate * plan.speed, layout: layout, keepsAudio: false)
                try main.audio(from: windowStart) { try extra.add($0) }
                try extra.finish()
                record(searchWindow(extra.analyser, plan: plan, layout: layout, search: search, sampleBase: windowStart, scaled: true))
            }
        }
        var received = 0
        var mono: [Float] = []
        var failure: (any Error)?
        try blocks { chunk in
            guard failure == nil else { return }
            received += chunk.count / channelCount
            mono.removeAll(keepingCapacity: true)
            ChannelMixer.remix(chunk, from: channelCount, to: 1, appendingTo: &mono)
            do {
                try mono.withUnsafeBufferPointer { try main.add($0) }
                if main.analyser.frameCount >= windowFrames {
                    try runWindow()
                    main.drop(frames: main.analyser.frameCount - overlapFrames)
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        try main.finish()
        let duration = Double(received) / sampleRate
        guard duration >= inputLayout.blockSeconds else {
            throw WatermarkError.audioTooShort(seconds: duration, minimumSeconds: inputLayout.minimumDetectableSeconds)
        }
        if main.analyser.firstFrame == 0 || main.analyser.frameCount > overlapFrames { try runWindow() }
        return SearchResult(detections: detections(accepted, bound: bound, duration: duration, rate: rate, layout: layout),
                            alignmentsSearched: candidates)
    }

    /// Alignments the procedure may try on `frames` frames of one pass (single blocks and runs at
    /// every position and time scale).
    private func procedureCount(frames: Int, plan: DetectionPass) -> Double {
        2 * Double(max(0, 4 * (frames - 1))) * Double(plan.timeScales.count) / min(1, plan.timeScales.min() ?? 1)
    }

    /// Searches the band powers of one pass: the time scale nearest 1 first, the others only when
    /// that finds nothing. `bound` counts every alignment the procedure could try here, searched or
    /// not, so the p-values hold for the procedure. Candidate starts are converted to samples of
    /// the main pass's timeline (`sampleBase` + pass samples / speed).
    private func searchWindow(_ analyser: StreamingBandPowers, plan: DetectionPass, layout: WatermarkLayout,
                              search: AlignmentSearch, sampleBase: Int, scaled: Bool)
        -> (accepted: [AlignmentSearch.Candidate], candidates: Int, bound: Double) {
        let bound = procedureCount(frames: analyser.frameCount, plan: plan)
        let grid = TileGrid(powers: analyser.powers, layout: layout)
        let partials = search.syncPartials(grid)
        var accepted: [AlignmentSearch.Candidate] = []
        var candidates = 0
        let frameBase = analyser.firstFrame * layout.hop
        func scan(_ timeScale: Double) {
            search.scan(grid, partials: partials, timeScale: timeScale, frequencyScale: plan.speed,
                        threshold: syncThreshold, candidates: &candidates) { soft, z in
                decode(soft, z: z, layout: layout)
            } accept: { candidate in
                var c = candidate
                c.startSample = sampleBase + Int(Double(c.startSample + frameBase) / plan.speed)
                c.timeScale = candidate.timeScale / plan.speed
                accepted.append(c)
            }
        }
        let order = plan.timeScales.sorted { abs($0 - 1) < abs($1 - 1) }
        if let first = order.first { scan(first) }
        if !accepted.contains(where: { bound * syncTailBound($0.z) * Double.pow(2, -32) <= maximumPValue }) {
            for timeScale in order.dropFirst() { scan(timeScale) }
        }
        return (accepted, candidates, bound)
    }

    /// Accepted candidates → detections with p-values (`bound` alignments × exp(−z²/2) × 2⁻³²), merged per payload.
    private func detections(_ accepted: [AlignmentSearch.Candidate], bound: Double, duration: Double,
                            rate: Double, layout: WatermarkLayout) -> [WatermarkDetection] {
        var found: [(payload: [UInt8], detection: WatermarkDetection)] = []
        for a in accepted {
            let p = min(1, bound * syncTailBound(a.z) * Double.pow(2, -32))
            guard p <= maximumPValue else { continue }
            let start = Double(a.startSample) / rate
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


/// One analysis pass of the detector: a speed factor undone by resampling, and the time scales
/// searched on the result.
public struct DetectionPass: Sendable, Hashable {
    /// Speed change undone (1.05 = the audio was played 5 % fast, so its frequencies are 5 %
    /// higher): the channel mix is resampled to 8 kHz × `speed` and analysed as 8 kHz.
    public var speed: Double
    /// Durations (after / before, in the resampled pass) tried; the one nearest 1 first.
    public var timeScales: [Double]

    /// Creates a pass.
    public init(speed: Double, timeScales: [Double]) {
        self.speed = speed
        self.timeScales = timeScales
    }

    /// Time scales `centre` ± `span` in steps of 0.2 %. STDM reads log energies of 32 ms tiles, so
    /// a time scale off by 0.25 % already loses the sync at the ends of a 4.5 s block.
    static func around(_ centre: Double, span: Double) -> [Double] {
        let n = Int((span / 0.002).rounded())
        return (-n...n).map { centre + Double($0) * 0.002 }
    }

    /// No scale search: one pass, time scale 1 (fastest; for unmodified audio).
    public static let unscaled = [DetectionPass(speed: 1, timeScales: [1])]

    /// Tempo ±5.6 % (speed 1, time scales 0.944–1.056), and speed factors 0.94–1.06 in steps of
    /// 1 %, each with time scales within ±0.6 % of 1 (speed changes) and of the factor itself
    /// (pitch changes: a pitch shift keeps the duration, so undoing its frequency shift stretches
    /// time by the same factor).
    public static let standard: [DetectionPass] = {
        var passes = [DetectionPass(speed: 1, timeScales: around(1, span: 0.056))]
        for k in [-1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6] {
            let s = 1 + Double(k) / 100
            passes.append(DetectionPass(speed: s, timeScales: around(1, span: 0.006) + around(s, span: 0.006)))
        }
        return passes
    }()
}

/// Mono audio of one pass, resampled to the analysis rate × speed and analysed into band powers;
/// optionally keeps the resampled audio of the current window for the other passes.
final class PassRunner {
    let resampler: Resampler?
    let analyser: StreamingBandPowers
    private let keepsAudio: Bool
    private var scratch: [Float] = []
    /// Resampled audio from sample `audioBase` on (when `keepsAudio`).
    private var kept: [Float] = []
    private var audioBase = 0

    init(inputRate: Double, outputRate: Double, layout: WatermarkLayout, keepsAudio: Bool) throws(DSPError) {
        self.keepsAudio = keepsAudio
        resampler = abs(outputRate - inputRate) < 1e-6 ? nil : try Resampler(inputRate: inputRate, outputRate: outputRate, channelCount: 1)
        analyser = StreamingBandPowers(layout: layout)
    }

    func add(_ mono: UnsafeBufferPointer<Float>) throws(DSPError) {
        guard let resampler else {
            if keepsAudio { kept.append(contentsOf: mono) }
            analyser.add(mono)
            return
        }
        scratch.removeAll(keepingCapacity: true)
        try resampler.process(mono, appendingTo: &scratch)
        if keepsAudio { kept.append(contentsOf: scratch) }
        scratch.withUnsafeBufferPointer { analyser.add($0) }
    }

    func finish() throws(DSPError) {
        if let resampler {
            scratch.removeAll(keepingCapacity: true)
            try resampler.flush(appendingTo: &scratch)
            if keepsAudio { kept.append(contentsOf: scratch) }
            scratch.withUnsafeBufferPointer { analyser.add($0) }
        }
        analyser.finish()
    }

    /// Feeds the kept audio from sample `start` on to `body` in blocks.
    func audio(from start: Int, _ body: (UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        let first = max(0, start - audioBase)
        guard first < kept.count else { return }
        try kept.withUnsafeBufferPointer { all in
            var i = first
            while i < all.count {
                let end = min(all.count, i + 65_536)
                try body(UnsafeBufferPointer(rebasing: all[i..<end]))
                i = end
            }
        }
    }

    /// Forgets the first `frames` analysis frames (and the audio before them).
    func drop(frames: Int) {
        analyser.dropFrames(frames)
        let keepFrom = analyser.firstFrame * analyser.layout.hop
        if keepFrom > audioBase {
            kept.removeFirst(min(kept.count, keepFrom - audioBase))
            audioBase = keepFrom
        }
    }
}
