/// Fixed-width rows of `Float` indexed by absolute frame number, of which only a recent window is kept:
/// the bounded history the streaming filter's stages read from. Rows are appended in order; `discard(before:)`
/// drops old ones (in batches, so appending stays amortised constant time and memory stays bounded).
struct FrameTable {
    /// Values per row.
    let width: Int
    /// Absolute index of the first stored row.
    private(set) var first = 0
    private(set) var values: [Float] = []

    init(width: Int) { self.width = width }

    /// One past the last stored row (absolute).
    var end: Int { first + values.count / width }

    /// Value `j` of row `f` (absolute; must be stored).
    subscript(f: Int, j: Int) -> Float {
        get { values[(f - first) * width + j] }
        set { values[(f - first) * width + j] = newValue }
    }

    /// Appends a row filled by `fill` (given the row's storage, zeroed).
    mutating func append(_ fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let start = values.count
        values.append(contentsOf: repeatElement(0, count: width))
        values.withUnsafeMutableBufferPointer { all in fill(UnsafeMutableBufferPointer(rebasing: all[start..<(start + width)])) }
    }

    /// Appends a row of one value (tables of width 1).
    mutating func append(_ value: Float) { values.append(value) }

    /// Drops rows before `f` once at least `batch` of them are droppable.
    mutating func discard(before f: Int, batch: Int = 512) {
        let droppable = min(f, end) - first
        guard droppable >= batch else { return }
        values.removeFirst(droppable * width)
        first += droppable
    }
}

/// Samples indexed by absolute position, of which only a recent window is kept.
struct SampleHistory {
    private(set) var first = 0
    private(set) var values: [Float] = []

    /// One past the last stored sample (absolute).
    var end: Int { first + values.count }

    /// Sample `i` (absolute), zero outside the stored range.
    @inline(__always) func value(_ i: Int) -> Float { i >= first && i < end ? values[i - first] : 0 }

    mutating func append(contentsOf samples: some Collection<Float>) { values.append(contentsOf: samples) }

    /// Drops samples before `i` once at least `batch` of them are droppable.
    mutating func discard(before i: Int, batch: Int = 32_768) {
        let droppable = min(i, end) - first
        guard droppable >= batch else { return }
        values.removeFirst(droppable)
        first += droppable
    }
}
