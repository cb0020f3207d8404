import Foundation

/// cos(2πx) to about 1e-4 (a soft value needs no more): x reduced to [−½, ½], then an even
/// polynomial in x² on [0, ¼] with the quadrant's sign.
@inline(__always)
func cosineOfTurns(_ x: Float) -> Float {
    var r = x - x.rounded()            // [−½, ½]
    r = abs(r)                         // cos is even
    let flip = r > 0.25
    if flip { r = 0.5 - r }            // cos(2π(½ − r)) = −cos(2πr)
    let t = 2 * Float.pi * r
    let t2 = t * t
    let c = 1 + t2 * (-0.5 + t2 * (1.0 / 24 + t2 * (-1.0 / 720 + t2 * (1.0 / 40_320))))
    return flip ? -c : c
}

/// Log tile energies of one frequency scale at every start position of a quarter-hop grid.
///
/// Position `q = 4k + r` is the frame that starts at sample `offsets[r] + k · hop`; a tile there
/// is that frame and the next one at the same offset (two hops, 8 positions later).
struct TileGrid {
    /// Bands per tile.
    let bands: Int
    /// Start positions with a whole tile.
    let count: Int
    /// Natural-log tile energies, position-major (`bands` values per position).
    let levels: [Float]
    /// Per position: the mean level of the block-long stretch of tiles centred there, the
    /// reference against which a bit's reliability is judged.
    let reference: [Float]

    init(powers: [[Float]], layout: WatermarkLayout) {
        bands = layout.bandCount
        let frames = powers.map { $0.count / layout.bandCount }.min() ?? 0
        count = max(0, 4 * (frames - 1))
        let floor = BandEnergies.tileFloor(layout)
        var levels = [Float](repeating: 0, count: count * bands)
        var mean = [Float](repeating: 0, count: count)
        let bands = self.bands
        for q in 0..<count {
            let r = q % 4, k = q / 4
            powers[r].withUnsafeBufferPointer { p in
                var sum: Float = 0
                for b in 0..<bands {
                    let e = Float.log(p[k * bands + b] + p[(k + 1) * bands + b] + floor[b])
                    levels[q * bands + b] = e
                    sum += e
                }
                mean[q] = sum / Float(bands)
            }
        }
        // Block-long centred means over tiles (every 8th position), by prefix sums per residue.
        var prefix = [Double](repeating: 0, count: count + 8)
        for q in 0..<count { prefix[q + 8] = prefix[q] + Double(mean[q]) }
        let half = layout.tilesPerBlock / 2
        var reference = [Float](repeating: 0, count: count)
        for q in 0..<count {
            var lo = q - 8 * half, hi = q + 8 * half  // tiles lo, lo+8, …, hi (inclusive)
            while lo < 0 { lo += 8 }
            while hi >= count { hi -= 8 }
            let n = (hi - lo) / 8 + 1
            reference[q] = Float((prefix[hi + 8] - prefix[lo]) / Double(n))
        }
        self.levels = levels
        self.reference = reference
    }
}

/// Scores and decodes block alignments over a `TileGrid` at any time scale.
///
/// Every bit lives in one group (two tiles), so a bit's soft value depends only on where its
/// group starts. Sync soft values are computed once per position; an alignment at time scale
/// `a` reads group `g` at `start + round(16 · g · a)` positions, which makes each extra time scale
/// cost one pass of 64 look-ups per position rather than a new analysis.
struct AlignmentSearch {
    struct Candidate {
        var startSample: Int
        var payload: [UInt8]
        var z: Double
        var errors: Int
        var blocks: Int
        var timeScale: Double
        var frequencyScale: Double
    }

    let layout: WatermarkLayout
    let offsets: [Int]
    let step: Float
    let syncBits: Int
    let bitCount: Int
    let cellsPerBit: Int
    /// Per bit: its group in the block.
    let groupOfBit: [Int]
    /// Per bit and cell: offset of the cell's level from the group's first level in a `TileGrid`
    /// (tile within the group × 8 positions × bands + band).
    let cellOffset: [Int]
    /// Per bit and cell: spreading weight.
    let weights: [Float]
    let dither: [Float]
    let syncSigns: [Float]

    /// Quarter-hop positions per tile and per group.
    static let positionsPerTile = 8
    static let positionsPerGroup = 16

    init(map: CellMap, layout: WatermarkLayout, step: Float, offsets: [Int]) {
        self.layout = layout
        self.offsets = offsets
        self.step = step
        syncBits = layout.syncBits
        bitCount = map.cells.count
        cellsPerBit = layout.cellsPerBit
        groupOfBit = map.cells.map { $0[0].tile / WatermarkLayout.tilesPerGroup }
        cellOffset = map.cells.flatMap { cells in
            cells.map { ($0.tile % WatermarkLayout.tilesPerGroup) * Self.positionsPerTile * layout.bandCount + $0.band }
        }
        weights = map.spreading.flatMap { $0 }
        dither = map.dither
        syncSigns = map.syncValues.map { $0 == 0 ? 1 : -1 }
    }

    /// Soft value of bit `j` if its group starts at position `q`: w · cos(2π (p/Δ − dither)),
    /// +1 on the bit-0 lattice, −1 on the bit-1 lattice; w ∈ [0, 1] is 0 when the bit's quietest
    /// cell is 30 dB or more below the reference level (codec noise rules there), 1 at 15 dB.
    @inline(__always)
    func soft(_ j: Int, at q: Int, levels: UnsafeBufferPointer<Float>, reference: Float) -> Float {
        let base = levels.baseAddress! + q * layout.bandCount
        var p: Float = 0, level = Float.infinity
        cellOffset.withUnsafeBufferPointer { offsets in
            weights.withUnsafeBufferPointer { u in
                for i in (j * cellsPerBit)..<((j + 1) * cellsPerBit) {
                    let e = base[offsets[i]]
                    p += u[i] * e
                    level = min(level, e)
                }
            }
        }
        let w = max(0, min(1, (level - (reference - 6.9)) / 3.45))
        guard w > 0 else { return 0 }
        return w * cosineOfTurns(p / step - dither[j])
    }

    /// Per sync-carrying group: Σ sign·soft and Σ soft² of its sync bits when the group starts at
    /// each position (`[group][q]`), the partial sums from which block sync scores are assembled.
    struct SyncPartials {
        var groups: [Int] = []
        var dot: [[Float]] = []
        var energy: [[Float]] = []
    }

    func syncPartials(_ grid: TileGrid) -> SyncPartials {
        var out = SyncPartials()
        let last = max(0, grid.count - Self.positionsPerTile)  // tile 1 must fit
        for g in 0..<layout.groupsPerBlock {
            let bits = (0..<syncBits).filter { groupOfBit[$0] == g }
            guard !bits.isEmpty else { continue }
            var dot = [Float](repeating: 0, count: grid.count)
            var energy = [Float](repeating: 0, count: grid.count)
            grid.levels.withUnsafeBufferPointer { levels in
                for q in 0..<last {
                    for j in bits {
                        let v = soft(j, at: q, levels: levels, reference: grid.reference[q])
                        dot[q] += v * syncSigns[j]
                        energy[q] += v * v
                    }
                }
            }
            out.groups.append(g); out.dot.append(dot); out.energy.append(energy)
        }
        return out
    }

    /// Soft values of every bit of the block whose first group is at `start`.
    func blockSoft(_ grid: TileGrid, start: Int, groupStarts: [Int]) -> [Float] {
        grid.levels.withUnsafeBufferPointer { levels in
            (0..<bitCount).map { j in
                let q = start + groupStarts[groupOfBit[j]]
                return soft(j, at: q, levels: levels, reference: grid.reference[q])
            }
        }
    }

    /// Scans every start position at one time scale: single blocks, then runs of consecutive
    /// blocks soft-combined. `decode` turns soft values into a payload (or nil); `accept` gets
    /// each decoded candidate; `candidates` counts the alignments tested (for the p-values).
    ///
    /// Single blocks are scored from the group partials (exactly the self-normalised sync score).
    /// Runs are screened with the pooled score Σ dot / √Σ energy over their blocks, and only
    /// those that pass are scored properly — sync soft values summed per bit over the run, then
    /// self-normalised — which is what the threshold and the p-value use (pooling alone would
    /// overstate the score of repeated audio).
    func scan(_ grid: TileGrid, partials: SyncPartials, timeScale: Double, frequencyScale: Double, threshold: Double,
              candidates: inout Int,
              decode: ([Float], Double) -> (payload: [UInt8], z: Double, errors: Int)?,
              accept: (Candidate) -> Void) {
        let groups = layout.groupsPerBlock
        let groupStarts = (0..<groups).map { Int((Double(Self.positionsPerGroup * $0) * timeScale).rounded()) }
        let blockLength = Double(Self.positionsPerGroup * groups) * timeScale
        let lastStart = grid.count - 1 - Self.positionsPerTile - groupStarts[groups - 1]
        guard lastStart >= 0 else { return }
        let starts = lastStart + 1
        // Block sync dot and energy at every start, assembled group by group (sequential, SIMD-friendly).
        var dot = [Float](repeating: 0, count: starts)
        var energy = [Float](repeating: 0, count: starts)
        dot.withUnsafeMutableBufferPointer { dot in
            energy.withUnsafeMutableBufferPointer { energy in
                for (index, g) in partials.groups.enumerated() {
                    let off = groupStarts[g]
                    partials.dot[index].withUnsafeBufferPointer { d in
                        partials.energy[index].withUnsafeBufferPointer { e in
                            for q in 0..<starts {
                                dot[q] += d[q + off]
                                energy[q] += e[q + off]
                            }
                        }
                    }
                }
            }
        }
        func sample(_ q: Int) -> Int { offsets[q % 4] + (q / 4) * layout.hop }
        func position(_ first: Int, _ k: Int) -> Int { first + Int((Double(k) * blockLength).rounded()) }
        /// The exact sync score of a run: per-bit sums of sync soft values, self-normalised.
        func runScore(_ first: Int, _ from: Int, _ to: Int) -> Double {
            var combined = [Float](repeating: 0, count: syncBits)
            grid.levels.withUnsafeBufferPointer { levels in
                for k in from...to {
                    let start = position(first, k)
                    for i in 0..<syncBits {
                        let q = start + groupStarts[groupOfBit[i]]
                        combined[i] += soft(i, at: q, levels: levels, reference: grid.reference[q])
                    }
                }
            }
            var d: Float = 0, e: Float = 0
            for i in 0..<syncBits { d += combined[i] * syncSigns[i]; e += combined[i] * combined[i] }
            return e > 0 ? Double(d) / Double(e).squareRoot() : 0
        }
        for first in 0..<min(Int(blockLength.rounded(.up)), starts) {
            var runStart = 0, blocks = 0
            var pooledDot: Float = 0, pooledEnergy: Float = 0
            var k = 0
            while true {
                let start = position(first, k)
                guard start <= lastStart else { break }
                candidates += 1
                let z = energy[start] > 0 ? Double(dot[start]) / Double(energy[start]).squareRoot() : 0
                if z >= threshold, let r = decode(blockSoft(grid, start: start, groupStarts: groupStarts), z) {
                    accept(Candidate(startSample: sample(start), payload: r.payload, z: r.z, errors: r.errors, blocks: 1,
                                     timeScale: timeScale, frequencyScale: frequencyScale))
                    pooledDot = 0; pooledEnergy = 0; blocks = 0; runStart = k + 1; k += 1
                    continue
                }
                pooledDot += dot[start]; pooledEnergy += energy[start]
                blocks += 1
                if blocks >= 2 {
                    candidates += 1
                    let screen = pooledEnergy > 0 ? Double(pooledDot) / Double(pooledEnergy).squareRoot() : 0
                    if screen >= threshold {
                        let zc = runScore(first, runStart, k)
                        if zc >= threshold {
                            var soft = [Float](repeating: 0, count: bitCount)
                            for b in runStart...k {
                                let part = blockSoft(grid, start: position(first, b), groupStarts: groupStarts)
                                for i in soft.indices { soft[i] += part[i] }
                            }
                            if let r = decode(soft, zc) {
                                accept(Candidate(startSample: sample(position(first, runStart)), payload: r.payload, z: r.z,
                                                 errors: r.errors, blocks: blocks, timeScale: timeScale, frequencyScale: frequencyScale))
                                pooledDot = 0; pooledEnergy = 0; blocks = 0; runStart = k + 1
                            }
                        }
                    }
                }
                if blocks >= 16 {
                    pooledDot = 0; pooledEnergy = 0; blocks = 0; runStart = k + 1
                }
                k += 1
            }
        }
    }
}
