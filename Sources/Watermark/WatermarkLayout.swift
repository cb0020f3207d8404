/// Where a watermark lives in the time–frequency plane of audio at one sampling rate.
///
/// Audio is analysed in frames of 32 ms (`frameLength` samples, sqrt-Hann, 50 % overlap). The band
/// from 150 Hz to 3.6 kHz is split into `bandCount` log-spaced bands (the same in hertz at every
/// rate, so a mark made at 44.1 kHz is found after resampling to 8 kHz);
/// a *cell* is one band over `framesPerTile` consecutive frames. A *block* is `tilesPerBlock`
/// tiles; it carries the sync bits and the coded payload bits, each bit spread over
/// `cellsPerBit` cells chosen by the key. Blocks repeat back to back for the whole signal.
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
        let top = Self.highestFrequency
        let binHz = sampleRate / Double(n)
        var edges: [Int] = []
        for i in 0...bandCount {
            let f = Self.lowestFrequency * Double.pow(top / Self.lowestFrequency, Double(i) / Double(bandCount))
            edges.append(Int((f / binHz).rounded()))
        }
        // Every band at least one bin wide.
        for i in 1...bandCount where edges[i] <= edges[i - 1] { edges[i] = edges[i - 1] + 1 }
        bandEdges = edges
        cellsPerBit = 6
        syncBits = 64
        self.payloadSize = payloadSize
        codedBits = ChannelCode.codedLength(payloadBits: payloadSize.rawValue)
        let cellsNeeded = (syncBits + codedBits) * cellsPerBit
        tilesPerBlock = 2 * ((cellsNeeded + 2 * bandCount - 1) / (2 * bandCount))
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
struct CellMap: Sendable {
    /// For bit j (sync bits first, then coded bits): its cells as (tile, band).
    let cells: [[(tile: Int, band: Int)]]
    /// For bit j: the spreading vector (zero sum, unit norm).
    let spreading: [[Float]]
    /// For bit j: the dither in 0..<1 (fraction of the quantiser step).
    let dither: [Float]
    /// Sync bit values (0/1).
    let syncValues: [UInt8]

    init(layout: WatermarkLayout, key: WatermarkKey) {
        let bits = layout.syncBits + layout.codedBits
        var stream = KeyedStream(key: key.bytes, label: "cells/\(layout.payloadSize.rawValue)/\(layout.bandCount)/\(layout.tilesPerBlock)")
        // Cells come in pairs inside one band (two keyed tiles, signs + and −), so any gain or
        // filter that treats a band the same over time cancels out of every projection.
        var pairs: [(band: Int, plus: Int, minus: Int)] = []
        for band in 0..<layout.bandCount {
            let tiles = stream.permutation(layout.tilesPerBlock)
            for i in stride(from: 0, to: tiles.count - 1, by: 2) { pairs.append((band, tiles[i], tiles[i + 1])) }
        }
        let order = stream.permutation(pairs.count)
        let pairsPerBit = layout.cellsPerBit / 2
        var cells: [[(tile: Int, band: Int)]] = []
        var spreading: [[Float]] = []
        let norm = 1 / Float(layout.cellsPerBit).squareRoot()
        for j in 0..<bits {
            var c: [(tile: Int, band: Int)] = []
            var u: [Float] = []
            for k in 0..<pairsPerBit {
                let pair = pairs[order[j * pairsPerBit + k]]
                c.append((pair.plus, pair.band)); u.append(norm)
                c.append((pair.minus, pair.band)); u.append(-norm)
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
    }
}
