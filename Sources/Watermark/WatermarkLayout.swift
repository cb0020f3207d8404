/// Where a watermark lives in the time–frequency plane of audio at one sampling rate.
///
/// Audio is analysed in frames of 32 ms (`frameLength` samples, sqrt-Hann, 50 % overlap). The band
/// from 150 Hz to 3.6 kHz is split into `bandCount` log-spaced bands (the same in hertz at every
/// rate, so a mark made at 44.1 kHz is found after resampling to 8 kHz); a *cell* is one band over
/// `framesPerTile` consecutive frames (32 ms of hop). Tiles come in *groups* of two (64 ms); each
/// bit lives inside one group, as `cellsPerBit / 2` same-band pairs (one cell in each tile of the
/// group, opposite signs), so an embedder only needs 80 ms of look-ahead. A *block* is
/// `tilesPerBlock` tiles carrying the sync bits and the coded payload bits, scattered over its
/// groups by the key; blocks repeat back to back for the whole signal.
public struct WatermarkLayout: Sendable, Hashable {
    /// Sampling rate, hertz.
    public let sampleRate: Double
    /// Samples per analysis frame (even; 32 ms).
    public let frameLength: Int
    /// Samples between frames (`frameLength / 2`).
    public var hop: Int { frameLength / 2 }
    /// Frames per tile.
    public let framesPerTile: Int
    /// Log-spaced bands.
    public let bandCount: Int
    /// First FFT bin of each band, plus the end bin (count `bandCount + 1`).
    public let bandEdges: [Int]
    /// Cells that carry one bit.
    public let cellsPerBit: Int
    /// Known bits that locate a block.
    public let syncBits: Int
    /// Coded payload bits per block.
    public let codedBits: Int
    /// Tiles per block.
    public let tilesPerBlock: Int
    /// Payload size.
    public let payloadSize: Payload.Size

    /// Lowest band edge, hertz.
    public static let lowestFrequency = 150.0
    /// Highest band edge, hertz: inside the telephone band and below 8 kHz sampling's Nyquist.
    public static let highestFrequency = 3_600.0
    /// Supported sampling rates, hertz.
    public static let rateRange = 8_000.0...192_000.0

    /// The layout for a sampling rate and payload size.
    public init(sampleRate: Double, payloadSize: Payload.Size = .standard) throws(WatermarkError) {
        guard Self.rateRange.contains(sampleRate) else {
            throw .unsupportedAudio(detail: "sampling rate \(sampleRate) Hz; expected 8–192 kHz")
        }
        self.sampleRate = sampleRate
        // The same grid in seconds and hertz at every rate, so marks survive resampling:
        // 32 ms frames (an even number of samples), bands from 150 Hz to 3.6 kHz.
        let n = 2 * Int((0.016 * sampleRate).rounded())
        frameLength = n
        framesPerTile = 2
        bandCount = 24
        // Bins are 31.25 Hz (±0.06 %) at every rate, so a band covers the same hertz wherever the
        // audio was resampled to. (Zero-padding 44.1 kHz's 1412-sample frames to a fast 1440-point
        // FFT made bins 2 % narrower and cost 100 bit errors after resampling; docs/watermark-notes.md.)
        bandEdges = Self.bandEdges(bandCount: bandCount, binHz: sampleRate / Double(n))
        cellsPerBit = 6
        syncBits = 64
        self.payloadSize = payloadSize
        codedBits = ChannelCode.codedLength(payloadBits: payloadSize.rawValue)
        let bitsPerGroup = bandCount / (cellsPerBit / 2)
        tilesPerBlock = 2 * ((syncBits + codedBits + bitsPerGroup - 1) / bitsPerGroup)
    }

    /// Tiles per group (the span of one bit).
    public static let tilesPerGroup = 2
    /// Bits carried by one group.
    public var bitsPerGroup: Int { bandCount / (cellsPerBit / 2) }
    /// Groups per block.
    public var groupsPerBlock: Int { tilesPerBlock / Self.tilesPerGroup }
    /// Log-spaced band edges from `lowestFrequency` to `highestFrequency` in bins of `binHz`, each band ≥ 1 bin.
    static func bandEdges(bandCount: Int, binHz: Double) -> [Int] {
        var edges: [Int] = []
        for i in 0...bandCount {
            let f = lowestFrequency * Double.pow(highestFrequency / lowestFrequency, Double(i) / Double(bandCount))
            edges.append(Int((f / binHz).rounded()))
        }
        // Every band at least one bin wide.
        for i in 1...bandCount where edges[i] <= edges[i - 1] { edges[i] = edges[i - 1] + 1 }
        return edges
    }

    /// Samples per tile.
    public var tileSamples: Int { framesPerTile * hop }
    /// Samples per block.
    public var blockSamples: Int { tilesPerBlock * tileSamples }
    /// Block duration, seconds.
    public var blockSeconds: Double { Double(blockSamples) / sampleRate }
    /// Audio needed to detect one block wherever it starts, seconds (a block plus a tile).
    public var minimumDetectableSeconds: Double { Double(blockSamples + tileSamples + frameLength) / sampleRate }
}

extension Double {
    static func pow(_ x: Double, _ y: Double) -> Double {
        guard x > 0 else { return 0 }
        return exp(y * log(x))
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The keyed assignment of cells to bits, identical for every block.
///
/// Every bit sits in one group (two adjacent tiles): `cellsPerBit / 2` bands chosen by the key,
/// each contributing a +/− pair across the two tiles (orientation keyed). Any gain or filter that
/// changes slowly over time cancels out of every projection. Which group and bands carry which
/// bit is a keyed permutation, so sync and coded bits are spread over the whole block.
struct CellMap: Sendable {
    /// For bit j (sync bits first, then coded bits): its cells as (tile, band), tiles within the block.
    let cells: [[(tile: Int, band: Int)]]
    /// For bit j: the spreading vector (zero sum, unit norm).
    let spreading: [[Float]]
    /// For bit j: the dither in 0..<1 (fraction of the quantiser step).
    let dither: [Float]
    /// Sync bit values (0/1).
    let syncValues: [UInt8]
    /// For each group of the block: the bits it carries.
    let bitsInGroup: [[Int]]

    init(layout: WatermarkLayout, key: WatermarkKey) {
        let bits = layout.syncBits + layout.codedBits
        var stream = KeyedStream(key: key.bytes, label: "local-cells/\(layout.payloadSize.rawValue)/\(layout.bandCount)/\(layout.tilesPerBlock)")
        let pairsPerBit = layout.cellsPerBit / 2
        let perGroup = layout.bitsPerGroup
        let slots = stream.permutation(layout.groupsPerBlock * perGroup)
        var bandOrder: [[Int]] = []
        for _ in 0..<layout.groupsPerBlock { bandOrder.append(stream.permutation(layout.bandCount)) }
        let norm = 1 / Float(layout.cellsPerBit).squareRoot()
        var cells: [[(tile: Int, band: Int)]] = []
        var spreading: [[Float]] = []
        var bitsInGroup = [[Int]](repeating: [], count: layout.groupsPerBlock)
        for j in 0..<bits {
            let group = slots[j] / perGroup, slot = slots[j] % perGroup
            bitsInGroup[group].append(j)
            var c: [(tile: Int, band: Int)] = []
            var u: [Float] = []
            for k in 0..<pairsPerBit {
                let band = bandOrder[group][slot * pairsPerBit + k]
                let first = WatermarkLayout.tilesPerGroup * group
                let sign: Float = stream.nextByte() & 1 == 0 ? norm : -norm
                c.append((first, band)); u.append(sign)
                c.append((first + 1, band)); u.append(-sign)
            }
            cells.append(c)
            spreading.append(u)
        }
        var ditherStream = KeyedStream(key: key.bytes, label: "dither/\(layout.payloadSize.rawValue)")
        dither = (0..<bits).map { _ in Float(ditherStream.nextUnit()) }
        var syncStream = KeyedStream(key: key.bytes, label: "sync")
        syncValues = (0..<layout.syncBits).map { _ in syncStream.nextByte() & 1 }
        self.cells = cells
        self.spreading = spreading
        self.bitsInGroup = bitsInGroup.map { $0.sorted() }
    }
}
