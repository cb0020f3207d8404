import AudioCore

/// Frame length, hop, FFT size, window and layout of a short-time Fourier transform.
public struct STFTConfiguration: Sendable, Hashable, Codable {
    /// Samples per frame, ≥ 2.
    public var frameLength: Int
    /// Samples between frame starts, 1...frameLength.
    public var hop: Int
    /// FFT length, even and ≥ frameLength (frames are zero-padded to it).
    public var fftSize: Int
    /// Window shape.
    public var window: WindowKind
    /// Symmetric (filter-design) instead of periodic window.
    public var symmetricWindow: Bool
    /// Where frames fall on the signal.
    public var layout: FrameLayout

    /// Creates a configuration; `fftSize` defaults to the next power of two ≥ `frameLength`.
    public init(frameLength: Int, hop: Int, fftSize: Int? = nil, window: WindowKind = .hann,
                symmetricWindow: Bool = false, layout: FrameLayout = .padded) {
        self.frameLength = frameLength
        self.hop = hop
        self.fftSize = fftSize ?? Self.nextPowerOfTwo(frameLength)
        self.window = window
        self.symmetricWindow = symmetricWindow
        self.layout = layout
    }

    /// Smallest power of two ≥ `n` (and ≥ 2).
    public static func nextPowerOfTwo(_ n: Int) -> Int {
        var p = 2
        while p < n { p <<= 1 }
        return p
    }

    /// Checks the ranges documented on each property.
    public func validate() throws(DSPError) {
        guard frameLength >= 2 else { throw .invalidConfiguration(detail: "frameLength \(frameLength); expected ≥ 2") }
        guard (1...frameLength).contains(hop) else {
            throw .invalidConfiguration(detail: "hop \(hop); expected 1...\(frameLength)")
        }
        guard fftSize >= frameLength, fftSize % 2 == 0 else {
            throw .invalidConfiguration(detail: "fftSize \(fftSize); expected an even size ≥ frameLength \(frameLength)")
        }
    }
}

/// Complex short-time spectra of a signal: `frameCount` frames × `binCount` bins, stored
/// frame-major with interleaved complex values.
public struct Spectrogram: Sendable, Equatable {
    /// Number of frames.
    public let frameCount: Int
    /// Bins per frame (`fftSize / 2 + 1`).
    public let binCount: Int
    /// `frameCount × binCount × 2` floats: frame f, bin k is (`values[2(f·binCount+k)]`, `…+1`).
    public var values: [Float]

    /// Creates a spectrogram from stored values.
    public init(frameCount: Int, binCount: Int, values: [Float]) {
        precondition(values.count == frameCount * binCount * 2)
        self.frameCount = frameCount
        self.binCount = binCount
        self.values = values
    }

    /// The complex value (re, im) of `bin` in `frame`.
    public subscript(frame: Int, bin: Int) -> (re: Float, im: Float) {
        let i = 2 * (frame * binCount + bin)
        return (values[i], values[i + 1])
    }
}

/// Short-time Fourier transform and its inverse (weighted overlap-add).
///
/// `inverse` divides by the summed squared window, so `inverse(forward(x))` reproduces `x`
/// (to float precision) whenever every sample is covered by some non-zero window value —
/// which holds for every COLA window/hop pair with the `.padded` layout.
public struct STFT: Sendable {
    /// The configuration in use.
    public let configuration: STFTConfiguration
    /// The analysis (and synthesis) window, `frameLength` values.
    public let window: [Float]
    private let fft: RealFFT

    /// Creates a transform.
    /// - Throws: `DSPError.invalidConfiguration` for out-of-range parameters.
    public init(_ configuration: STFTConfiguration) throws(DSPError) {
        try configuration.validate()
        self.configuration = configuration
        self.window = configuration.window.values(length: configuration.frameLength,
                                                  symmetric: configuration.symmetricWindow)
        self.fft = RealFFT(size: configuration.fftSize)
    }

    /// Number of frames `forward` produces for `length` samples.
    public func frameCount(length: Int) -> Int {
        configuration.layout.frameCount(length: length, frameLength: configuration.frameLength, hop: configuration.hop)
    }

    /// Calls `body(frameIndex, spectrum)` for each frame of `signal`, where `spectrum` is the
    /// frame's `fftSize/2 + 1` interleaved complex bins. One scratch buffer serves all frames.
    public func forEachFrame(of signal: UnsafeBufferPointer<Float>,
                             _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
        let c = configuration
        let frames = frameCount(length: signal.count)
        let input = RealFFT.allocate(c.fftSize)
        let output = RealFFT.allocate(c.fftSize + 2)
        defer { RealFFT.deallocate(input); RealFFT.deallocate(output) }
        let origin = c.layout.origin(frameLength: c.frameLength, hop: c.hop)
        window.withUnsafeBufferPointer { w in
            for f in 0..<frames {
                FrameCopy.windowed(signal, start: origin + f * c.hop, window: w, into: input)
                fft.forward(input.baseAddress!, output.baseAddress!)
                body(f, UnsafeBufferPointer(output))
            }
        }
    }

    /// The complex spectrogram of `signal`.
    public func forward(_ signal: [Float]) -> Spectrogram {
        let bins = configuration.fftSize / 2 + 1
        let frames = frameCount(length: signal.count)
        var values = [Float](repeating: 0, count: frames * bins * 2)
        values.withUnsafeMutableBufferPointer { out in
            signal.withUnsafeBufferPointer { s in
                forEachFrame(of: s) { f, spectrum in
                    (out.baseAddress! + f * bins * 2).update(from: spectrum.baseAddress!, count: bins * 2)
                }
            }
        }
        return Spectrogram(frameCount: frames, binCount: bins, values: values)
    }

    /// Reconstructs `length` samples from a spectrogram made with the same configuration.
    public func inverse(_ spectrogram: Spectrogram, length: Int) -> [Float] {
        let c = configuration
        precondition(spectrogram.binCount == c.fftSize / 2 + 1, "spectrogram does not match this configuration")
        let origin = c.layout.origin(frameLength: c.frameLength, hop: c.hop)
        var output = [Float](repeating: 0, count: length)
        var envelope = [Float](repeating: 0, count: length)
        let spectrum = RealFFT.allocate(c.fftSize + 2)
        let frame = RealFFT.allocate(c.fftSize)
        defer { RealFFT.deallocate(spectrum); RealFFT.deallocate(frame) }
        let scale = 1 / Float(c.fftSize)
        spectrogram.values.withUnsafeBufferPointer { values in
            for f in 0..<spectrogram.frameCount {
                spectrum.baseAddress!.update(from: values.baseAddress! + f * spectrogram.binCount * 2,
                                             count: spectrogram.binCount * 2)
                fft.inverseUnnormalized(destroying: spectrum.baseAddress!, frame.baseAddress!)
                let start = origin + f * c.hop
                let lo = max(0, -start), hi = min(c.frameLength, length - start)
                if lo >= hi { continue }
                for n in lo..<hi {
                    let w = window[n]
                    output[start + n] += frame[n] * scale * w
                    envelope[start + n] += w * w
                }
            }
        }
        for i in 0..<length where envelope[i] > 1e-8 { output[i] /= envelope[i] }
        return output
    }
}

/// Copies one windowed, zero-padded frame out of a signal (samples outside it read as 0).
enum FrameCopy {
    static func windowed(_ signal: UnsafeBufferPointer<Float>, start: Int, window: UnsafeBufferPointer<Float>,
                         into frame: UnsafeMutableBufferPointer<Float>) {
        let length = window.count
        let lo = max(0, -start), hi = max(lo, min(length, signal.count - start))
        let dst = frame.baseAddress!
        if lo > 0 { dst.update(repeating: 0, count: lo) }
        if hi > lo {
            let src = signal.baseAddress! + start
            let w = window.baseAddress!
            for n in lo..<hi { dst[n] = src[n] * w[n] }
        }
        if frame.count > hi { (dst + hi).update(repeating: 0, count: frame.count - hi) }
    }
}
