import AudioCore
import DSP

/// Band powers of mono audio fed in blocks of any size, for each of the detector's sub-hop offsets.
///
/// Keeps only the samples the next frames need, and the band powers until the detector drops
/// them (`dropFrames`), so memory is bounded by the search window, not the audio. The frames are
/// the same as `STFT` with `.startAligned` frames of the signal shifted by each offset, including
/// the zero-padded last frame.
final class StreamingBandPowers {
    let layout: WatermarkLayout
    let offsets: [Int]
    /// [offset] → frame-major band powers (`bandCount` values per frame).
    private(set) var powers: [[Float]]
    private(set) var received = 0
    /// Global index of the first frame still held (frames before it were dropped).
    private(set) var firstFrame = 0
    /// Frames held at every offset.
    var frameCount: Int { powers.map { $0.count / layout.bandCount }.min() ?? 0 }

    private var buffer: [Float] = []
    private var bufferStart = 0
    private var nextFrame: [Int]
    private let fft: RealFFT
    private let window: [Float]
    // FFTW-aligned scratch buffers (the SIMD plans need the allocator's alignment).
    private let frame: UnsafeMutableBufferPointer<Float>
    private let spectrum: UnsafeMutableBufferPointer<Float>
    private var bands: [Float]

    init(layout: WatermarkLayout) {
        self.layout = layout
        offsets = (0..<4).map { $0 * layout.hop / 4 }
        powers = Array(repeating: [], count: 4)
        bands = [Float](repeating: 0, count: layout.bandCount)
        nextFrame = offsets
        fft = RealFFT(size: layout.frameLength)
        window = WindowKind.sqrtHann.values(length: layout.frameLength)
        frame = RealFFT.allocate(layout.frameLength)
        spectrum = RealFFT.allocate(layout.frameLength + 2)
    }

    deinit {
        RealFFT.deallocate(frame)
        RealFFT.deallocate(spectrum)
    }

    /// Forgets the first `n` frames of every offset (a detector that has searched them).
    func dropFrames(_ n: Int) {
        guard n > 0 else { return }
        for offset in powers.indices { powers[offset].removeFirst(min(n * layout.bandCount, powers[offset].count)) }
        firstFrame += n
    }

    /// Adds mono samples.
    func add(_ samples: UnsafeBufferPointer<Float>) {
        buffer.append(contentsOf: samples)
        received += samples.count
        analyse(upTo: received, padded: false)
        // Drop samples no pending frame needs.
        let keepFrom = nextFrame.min() ?? received
        let drop = keepFrom - bufferStart
        if drop > 65_536 {
            buffer.removeFirst(drop)
            bufferStart = keepFrom
        }
    }

    /// Analyses the last, zero-padded frames once the stream has ended.
    func finish() {
        analyse(upTo: received, padded: true)
    }

    private func analyse(upTo end: Int, padded: Bool) {
        let n = layout.frameLength, h = layout.hop
        for (i, offset) in offsets.enumerated() {
            let length = end - offset
            let total = length > 0 ? max(1, (length - (n - h) + h - 1) / h) : 0
            while true {
                let start = nextFrame[i]
                let index = (start - offset) / h
                if padded { guard index < total else { break } } else { guard start + n <= end else { break } }
                let first = start - bufferStart
                buffer.withUnsafeBufferPointer { src in
                    window.withUnsafeBufferPointer { w in
                        let available = max(0, min(n, src.count - first))
                        for k in 0..<available { frame[k] = src[first + k] * w[k] }
                        for k in available..<n { frame[k] = 0 }
                    }
                }
                fft.forward(frame.baseAddress!, spectrum.baseAddress!)
                let y = spectrum, edges = layout.bandEdges, binLimit = n / 2 + 1
                for b in 0..<layout.bandCount {
                    var acc: Float = 0
                    for k in edges[b]..<min(edges[b + 1], binLimit) {
                        acc += y[2 * k] * y[2 * k] + y[2 * k + 1] * y[2 * k + 1]
                    }
                    bands[b] = acc
                }
                powers[i].append(contentsOf: bands)
                nextFrame[i] = start + h
            }
        }
    }
}
