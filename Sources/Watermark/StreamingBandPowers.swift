import AudioCore
import DSP

/// Band powers of audio fed in blocks of any size, for each of the detector's sub-hop offsets.
///
/// Keeps only the samples the next frames need (one frame per channel), so memory grows with the
/// number of frames (24 floats per frame and offset) and not with the audio. The frames are the
/// same as `STFT` with `.startAligned` frames of the signal shifted by each offset, including the
/// zero-padded last frame.
final class StreamingBandPowers {
    let layout: WatermarkLayout
    let channelCount: Int
    let offsets: [Int]
    /// [offset] → frame-major band powers (`bandCount` values per frame).
    private(set) var powers: [[Float]]
    private(set) var received = 0
    private var buffer: [[Float]]
    private var bufferStart = 0
    private var nextFrame: [Int]
    private let fft: RealFFT
    private let window: [Float]
    // FFTW-aligned scratch buffers (the SIMD plans need the allocator's alignment).
    private let frame: UnsafeMutableBufferPointer<Float>
    private let spectrum: UnsafeMutableBufferPointer<Float>
    private var bands: [Float]

    init(layout: WatermarkLayout, channelCount: Int) {
        self.layout = layout
        self.channelCount = channelCount
        offsets = (0..<4).map { $0 * layout.hop / 4 }
        powers = offsets.map { _ in [] }
        bands = [Float](repeating: 0, count: layout.bandCount)
        buffer = Array(repeating: [], count: channelCount)
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

    /// Adds interleaved samples.
    func add(_ interleaved: UnsafeBufferPointer<Float>) {
        let frames = interleaved.count / channelCount
        for c in 0..<channelCount {
            buffer[c].reserveCapacity(buffer[c].count + frames)
            for f in 0..<frames { buffer[c].append(interleaved[f * channelCount + c]) }
        }
        received += frames
        analyse(upTo: received, padded: false)
        // Drop samples no pending frame needs.
        let keepFrom = nextFrame.min() ?? received
        let drop = keepFrom - bufferStart
        if drop > 65_536 {
            for c in 0..<channelCount { buffer[c].removeFirst(drop) }
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
                for b in 0..<layout.bandCount { bands[b] = 0 }
                for c in 0..<channelCount {
                    let first = start - bufferStart
                    buffer[c].withUnsafeBufferPointer { src in
                        window.withUnsafeBufferPointer { w in
                            let available = max(0, min(n, src.count - first))
                            for k in 0..<available { frame[k] = src[first + k] * w[k] }
                            for k in available..<n { frame[k] = 0 }
                        }
                    }
                    fft.forward(frame.baseAddress!, spectrum.baseAddress!)
                    do {
                        let y = spectrum
                        for b in 0..<layout.bandCount {
                            var acc: Float = 0
                            for k in layout.bandEdges[b]..<min(layout.bandEdges[b + 1], n / 2 + 1) {
                                acc += y[2 * k] * y[2 * k] + y[2 * k + 1] * y[2 * k + 1]
                            }
                            bands[b] += acc
                        }
                    }
                }
                powers[i].append(contentsOf: bands)
                nextFrame[i] = start + h
            }
        }
    }
}
