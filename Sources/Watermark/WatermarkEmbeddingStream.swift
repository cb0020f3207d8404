import AudioCore
import DSP
#if canImport(Glibc)
import Glibc
#endif

/// Embeds a watermark into audio fed in blocks of any size, with a fixed latency and constant
/// memory: the streaming form of `SpreadSpectrumEmbedder` (whose `embed(_:)` runs this stream).
///
/// Output lags input by `latencyFrames` (80 ms: five 16 ms hops): after `n` frames have been
/// fed in total, exactly `max(0, n − latencyFrames)` marked frames have come out; `finish()`
/// returns the rest, so a whole stream comes out with its length unchanged. A pipeline that
/// needs one output frame per input frame can prime the stream with `latencyFrames` of silence.
///
/// Each 64 ms group of two tiles is embedded as soon as its last frame has arrived: its frames
/// are analysed, the bits it carries are quantised (two passes: the second re-analyses the
/// resynthesised signal and corrects what the overlap with neighbouring frames smeared), and the
/// change is added to the output as a windowed delta, so unmarked parts pass through bit-exact.
/// Not thread-safe: use one stream per thread.
public final class WatermarkEmbeddingStream {
    /// Sampling rate, hertz.
    public let sampleRate: Double
    /// Interleaved channels.
    public let channelCount: Int
    /// Output delay, frames (samples per channel).
    public let latencyFrames: Int
    /// Output delay, seconds.
    public var latencySeconds: Double { Double(latencyFrames) / sampleRate }
    /// Frames fed in so far.
    public private(set) var framesReceived = 0
    /// Frames returned so far.
    public private(set) var framesEmitted = 0
    /// Bits embedded so far (sync and coded, counted once per block position).
    public private(set) var bitsEmbedded = 0
    /// Of `bitsEmbedded`, bits whose cells were all near silence (below −60 dBFS): they carry
    /// nothing a detector can read. A high fraction means the audio is unsuitable.
    public private(set) var silentBits = 0
    /// Energy of the samples returned so far (sum of squares over channels).
    public private(set) var signalEnergy: Double = 0
    /// Energy of the change the mark made to them.
    public private(set) var changeEnergy: Double = 0
    /// Signal-to-change ratio of the output so far, dB (+∞ while nothing changed).
    public var signalToChangeRatio: Double {
        changeEnergy > 0 ? 10 * log10(signalEnergy / changeEnergy) : .infinity
    }
    /// Frames held in memory per channel (bounded: about 16 k frames plus the latency and the last block).
    var bufferedFrames: Int { input.first?.count ?? 0 }
    /// The layout in use.
    public let layout: WatermarkLayout

    private let map: CellMap
    private let bits: [UInt8]
    private let step: Float
    private let floor: [Float]
    private let silence: [Float]
    private let fft: RealFFT
    private let window: [Float]
    private let hop: Int
    private let frameLength: Int
    private var input: [[Float]]
    private var delta: [[Float]]
    private var base = 0
    private var nextGroup = 0
    private var finished = false
    // Scratch, allocated once.
    private let frame: UnsafeMutableBufferPointer<Float>
    private let synthesis: UnsafeMutableBufferPointer<Float>
    private let spectrum: UnsafeMutableBufferPointer<Float>
    /// Spectra of the group's frames: each channel's, then (for several channels) their mean, the
    /// mono mix whose band energies carry the mark (the same mix the detector analyses).
    private let spectra: UnsafeMutableBufferPointer<Float>
    private let mixSlot: Int
    private var span: [Float]
    private var powers: [Float]
    private var levels: [Float]
    private var gains: [Float]
    private var targets: [Float]
    private var cellLevels: [Float]
    private var cellChanges: [Float]

    /// Frames of one group (two tiles of `framesPerTile` frames).
    private var groupFrames: Int { WatermarkLayout.tilesPerGroup * layout.framesPerTile }

    /// Creates a stream that marks audio with `embedder`'s key, payload and strength.
    /// - Throws: `WatermarkError.unsupportedAudio` for a rate outside 8–192 kHz or no channels.
    public init(embedder: SpreadSpectrumEmbedder, sampleRate: Double, channelCount: Int) throws(WatermarkError) {
        guard (1...64).contains(channelCount) else {
            throw .unsupportedAudio(detail: "\(channelCount) channels; expected 1 to 64")
        }
        layout = try WatermarkLayout(sampleRate: sampleRate, payloadSize: embedder.payload.size)
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        map = CellMap(layout: layout, key: embedder.key)
        bits = map.syncValues + ChannelCode.encode(embedder.payload.bits)
        step = SpreadSpectrumEmbedder.baseStep * Float(embedder.strength)
        floor = BandEnergies.tileFloor(layout)
        silence = floor.map { Float.log($0 * 1000) }  // 30 dB above the −90 dBFS floor
        hop = layout.hop
        frameLength = layout.frameLength
        // A group's frames span (groupFrames + 1) hops from its first sample.
        latencyFrames = (WatermarkLayout.tilesPerGroup * layout.framesPerTile + 1) * layout.hop
        fft = RealFFT(size: layout.frameLength)
        window = WindowKind.sqrtHann.values(length: layout.frameLength)
        frame = RealFFT.allocate(frameLength)
        synthesis = RealFFT.allocate(frameLength)
        spectrum = RealFFT.allocate(frameLength + 2)
        let framesPerGroup = WatermarkLayout.tilesPerGroup * layout.framesPerTile
        mixSlot = channelCount == 1 ? 0 : channelCount
        spectra = RealFFT.allocate((mixSlot + 1) * framesPerGroup * (frameLength + 2))
        input = Array(repeating: [], count: channelCount)
        delta = Array(repeating: [], count: channelCount)
        span = [Float](repeating: 0, count: (framesPerGroup + 1) * layout.hop)
        powers = [Float](repeating: 0, count: framesPerGroup * layout.bandCount)
        levels = [Float](repeating: 0, count: WatermarkLayout.tilesPerGroup * layout.bandCount)
        gains = [Float](repeating: 1, count: WatermarkLayout.tilesPerGroup * layout.bandCount)
        targets = [Float](repeating: 0, count: map.bitsInGroup.map(\.count).max() ?? 0)
        cellLevels = [Float](repeating: 0, count: layout.cellsPerBit)
        cellChanges = [Float](repeating: 0, count: layout.cellsPerBit)
    }

    deinit {
        RealFFT.deallocate(frame)
        RealFFT.deallocate(synthesis)
        RealFFT.deallocate(spectrum)
        RealFFT.deallocate(spectra)
    }

    /// Feeds interleaved samples and appends the marked samples that are final to `output`.
    public func process(_ samples: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) {
        precondition(!finished, "WatermarkEmbeddingStream.process after finish")
        precondition(samples.count % channelCount == 0, "interleaved samples must hold whole frames")
        let frames = samples.count / channelCount
        for c in 0..<channelCount {
            let old = input[c].count
            input[c].append(contentsOf: repeatElement(0, count: frames))
            delta[c].append(contentsOf: repeatElement(0, count: frames))
            input[c].withUnsafeMutableBufferPointer { x in
                for f in 0..<frames { x[old + f] = samples[f * channelCount + c] }
            }
        }
        framesReceived += frames
        let groupSpan = (groupFrames + 1) * hop
        while nextGroup * groupFrames * hop + groupSpan <= framesReceived {
            embedGroup(nextGroup)
            nextGroup += 1
        }
        emit(upTo: framesReceived - latencyFrames, into: &output)
    }

    /// Feeds interleaved samples; returns the marked samples that are final.
    public func process(_ samples: [Float]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(samples.count + latencyFrames * channelCount)
        samples.withUnsafeBufferPointer { process($0, appendingTo: &out) }
        return out
    }

    /// Ends the stream: appends the remaining `latencyFrames` (or fewer) marked frames. A last
    /// group cut short by the end of the audio passes through unmarked.
    public func finish(appendingTo output: inout [Float]) {
        guard !finished else { return }
        finished = true
        emit(upTo: framesReceived, into: &output)
    }

    /// Ends the stream; returns the remaining marked samples.
    public func finish() -> [Float] {
        var out: [Float] = []
        finish(appendingTo: &out)
        return out
    }

    private func emit(upTo end: Int, into output: inout [Float]) {
        guard end > framesEmitted else { return }
        let count = end - framesEmitted, first = framesEmitted - base, old = output.count
        output.append(contentsOf: repeatElement(0, count: count * channelCount))
        output.withUnsafeMutableBufferPointer { out in
            for c in 0..<channelCount {
                input[c].withUnsafeBufferPointer { x in
                    delta[c].withUnsafeBufferPointer { d in
                        var e: Float = 0, de: Float = 0
                        for n in 0..<count {
                            out[old + n * channelCount + c] = x[first + n] + d[first + n]
                            e += x[first + n] * x[first + n]
                            de += d[first + n] * d[first + n]
                        }
                        signalEnergy += Double(e); changeEnergy += Double(de)
                    }
                }
            }
        }
        framesEmitted = end
        // Drop what no future group needs (groups start at or after the emitted position).
        let drop = framesEmitted - base
        if drop >= 16_384 {
            for c in 0..<channelCount {
                input[c].removeFirst(drop)
                delta[c].removeFirst(drop)
            }
            base = framesEmitted
        }
    }

    // MARK: - One group

    private func embedGroup(_ group: Int) {
        let bands = layout.bandCount
        let start = group * groupFrames * hop - base
        let blockGroup = group % layout.groupsPerBlock
        let groupBits = map.bitsInGroup[blockGroup]
        guard !groupBits.isEmpty else { return }
        let firstTile = blockGroup * WatermarkLayout.tilesPerGroup
        let binLimit = frameLength / 2 + 1

        // Pass 1: analyse the original frames (band energies of the mono mix), quantise each bit.
        let stride = frameLength + 2
        for c in 0..<channelCount {
            for f in 0..<groupFrames {
                input[c].withUnsafeBufferPointer { src in
                    for k in 0..<frameLength { frame[k] = src[start + f * hop + k] * window[k] }
                }
                fft.forward(frame.baseAddress!, spectra.baseAddress! + (c * groupFrames + f) * stride)
            }
        }
        let mix = spectra.baseAddress! + mixSlot * groupFrames * stride
        if mixSlot > 0 {
            let scale = 1 / Float(channelCount)
            for i in 0..<(groupFrames * stride) {
                var sum: Float = 0
                for c in 0..<channelCount { sum += spectra[c * groupFrames * stride + i] }
                mix[i] = sum * scale
            }
        }
        for f in 0..<groupFrames { storeBandPowers(mix + f * stride, frame: f, binLimit: binLimit) }
        computeLevels()
        for i in gains.indices { gains[i] = 1 }
        for (slot, j) in groupBits.enumerated() {
            let p = projection(of: j, firstTile: firstTile)
            let offset = (map.dither[j] + Float(bits[j]) * 0.5) * step
            let q = ((p - offset) / step).rounded() * step + offset
            targets[slot] = q
            bitsEmbedded += 1
            let audible = map.cells[j].contains { levels[($0.tile - firstTile) * bands + $0.band] >= silence[$0.band] }
            if !audible { silentBits += 1 }
            applyChange(q - p, bit: j, firstTile: firstTile)
        }

        // Pass 2: resynthesise the mix over the group's span (with what earlier groups added),
        // re-analyse it and correct what the overlap of neighbouring frames smeared.
        let spanLength = (groupFrames + 1) * hop
        let scale = 1 / Float(channelCount)
        span.withUnsafeMutableBufferPointer { out in
            for k in 0..<spanLength {
                var sum: Float = 0
                for c in 0..<channelCount { sum += input[c][start + k] + delta[c][start + k] }
                out[k] = sum * scale
            }
            for f in 0..<groupFrames { synthesise(slot: mixSlot, frame: f, into: out.baseAddress! + f * hop) }
        }
        for f in 0..<groupFrames {
            span.withUnsafeBufferPointer { src in
                for k in 0..<frameLength { frame[k] = src[f * hop + k] * window[k] }
            }
            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
            storeBandPowers(spectrum.baseAddress!, frame: f, binLimit: binLimit)
        }
        computeLevels()
        for (slot, j) in groupBits.enumerated() {
            applyChange(targets[slot] - projection(of: j, firstTile: firstTile), bit: j, firstTile: firstTile)
        }

        // Final: the total gains applied to each channel's original spectra, added as deltas.
        for c in 0..<channelCount {
            delta[c].withUnsafeMutableBufferPointer { out in
                for f in 0..<groupFrames { synthesise(slot: c, frame: f, into: out.baseAddress! + start + f * hop) }
            }
        }
    }

    private func storeBandPowers(_ x: UnsafePointer<Float>, frame f: Int, binLimit: Int) {
        let bands = layout.bandCount
        for b in 0..<bands {
            var acc: Float = 0
            for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], binLimit) {
                acc += x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1]
            }
            powers[f * bands + b] = acc
        }
    }

    private func computeLevels() {
        let bands = layout.bandCount, perTile = layout.framesPerTile
        for t in 0..<WatermarkLayout.tilesPerGroup {
            for b in 0..<bands {
                var e: Float = 0
                for i in 0..<perTile { e += powers[(t * perTile + i) * bands + b] }
                levels[t * bands + b] = Float.log(e + floor[b])
            }
        }
    }

    private func projection(of bit: Int, firstTile: Int) -> Float {
        let u = map.spreading[bit]
        var p: Float = 0
        for (i, cell) in map.cells[bit].enumerated() {
            p += u[i] * levels[(cell.tile - firstTile) * layout.bandCount + cell.band]
        }
        return p
    }

    private func applyChange(_ change: Float, bit: Int, firstTile: Int) {
        let cells = map.cells[bit]
        for (i, cell) in cells.enumerated() {
            cellLevels[i] = levels[(cell.tile - firstTile) * layout.bandCount + cell.band]
        }
        map.spreading[bit].withUnsafeBufferPointer { u in
            cellLevels.withUnsafeBufferPointer { l in
                cellChanges.withUnsafeMutableBufferPointer { out in
                    SpreadSpectrumEmbedder.allocate(change, spreading: u, levels: l, into: out)
                }
            }
        }
        for (i, cell) in cells.enumerated() {
            gains[(cell.tile - firstTile) * layout.bandCount + cell.band] *= Float.exp(cellChanges[i] / 2)
        }
    }

    /// Adds frame `f`'s change (its original spectrum in `slot` × (gain − 1), windowed) at `out`.
    private func synthesise(slot c: Int, frame f: Int, into out: UnsafeMutablePointer<Float>) {
        let bands = layout.bandCount
        let tile = f / layout.framesPerTile
        let x = spectra.baseAddress! + (c * groupFrames + f) * (frameLength + 2)
        var changed = false
        for i in 0..<(frameLength + 2) { spectrum[i] = 0 }
        for b in 0..<bands {
            let g = gains[tile * bands + b] - 1
            guard g != 0 else { continue }
            changed = true
            for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], frameLength / 2 + 1) {
                spectrum[2 * k] = x[2 * k] * g
                spectrum[2 * k + 1] = x[2 * k + 1] * g
            }
        }
        guard changed else { return }
        fft.inverseUnnormalized(destroying: spectrum.baseAddress!, synthesis.baseAddress!)
        let scale = 1 / Float(frameLength)
        for k in 0..<frameLength { out[k] += synthesis[k] * window[k] * scale }
    }
}
