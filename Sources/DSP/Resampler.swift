public import AudioCore
import CSoxr

/// Quality recipes of the resampler (libsoxr).
public enum ResamplerQuality: String, Sendable, Hashable, Codable, CaseIterable {
    /// libsoxr "quick" (cubic); only for previews.
    case quick
    /// 16-bit quality, short filters.
    case low
    /// 16-bit quality, steeper filters.
    case medium
    /// 20-bit quality (≈ 120 dB stop-band): the default.
    case high
    /// 28-bit quality (≈ 170 dB stop-band), about twice the cost of `high`.
    case veryHigh = "vhq"

    var recipe: UInt {
        switch self {
        case .quick: 0
        case .low: 1
        case .medium: 2
        case .high: UInt(SOXR_HQ)
        case .veryHigh: UInt(SOXR_VHQ)
        }
    }
}

/// A streaming sample-rate converter for interleaved float audio (libsoxr).
///
/// Feed blocks of any size with `process`, then call `flush` once at the end to drain the
/// filter's delay; the concatenated outputs are the whole resampled signal. Scratch memory is
/// reused between calls. One instance serves one stream on one thread at a time.
public final class Resampler {
    /// Input rate, hertz.
    public let inputRate: Double
    /// Output rate, hertz.
    public let outputRate: Double
    /// Interleaved channels.
    public let channelCount: Int
    /// Quality recipe.
    public let quality: ResamplerQuality
    private let soxr: soxr_t
    private var scratch: [Float] = []

    /// Creates a resampler.
    /// - Parameters:
    ///   - inputRate: hertz, > 0.
    ///   - outputRate: hertz, > 0.
    ///   - channelCount: ≥ 1.
    ///   - quality: filter quality (default `.high`).
    /// - Throws: `DSPError.invalidConfiguration` or `.resamplerFailed`.
    public init(inputRate: Double, outputRate: Double, channelCount: Int, quality: ResamplerQuality = .high) throws(DSPError) {
        guard inputRate > 0, outputRate > 0 else {
            throw .invalidConfiguration(detail: "rates \(inputRate) → \(outputRate) Hz; expected positive rates")
        }
        guard channelCount >= 1 else { throw .invalidConfiguration(detail: "channelCount \(channelCount); expected ≥ 1") }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.channelCount = channelCount
        self.quality = quality
        var error: soxr_error_t? = nil
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var q = soxr_quality_spec(quality.recipe, 0)
        guard let s = soxr_create(inputRate, outputRate, UInt32(channelCount), &error, &io, &q, nil), error == nil else {
            throw .resamplerFailed(detail: error.map { String(cString: $0) } ?? "soxr_create failed")
        }
        soxr = s
    }

    deinit { soxr_delete(soxr) }

    /// Output frames per input frame.
    public var ratio: Double { outputRate / inputRate }

    /// Filter delay in output frames at this point of the stream.
    public var delay: Double { soxr_delay(soxr) }

    /// Resamples a block of interleaved input and appends the output produced so far to `output`.
    public func process(_ input: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(DSPError) {
        try run(input: input, isEnd: false, output: &output)
    }

    /// Resamples a block of interleaved input; returns the output produced so far.
    public func process(_ input: [Float]) throws(DSPError) -> [Float] {
        var out: [Float] = []
        try input.withUnsafeBufferPointer { (p) throws(DSPError) in try process(p, appendingTo: &out) }
        return out
    }

    /// Signals the end of input and appends the remaining output to `output`.
    public func flush(appendingTo output: inout [Float]) throws(DSPError) {
        try run(input: UnsafeBufferPointer(start: nil, count: 0), isEnd: true, output: &output)
    }

    /// Signals the end of input and returns the remaining output.
    public func flush() throws(DSPError) -> [Float] {
        var out: [Float] = []
        try flush(appendingTo: &out)
        return out
    }

    private func run(input: UnsafeBufferPointer<Float>, isEnd: Bool, output: inout [Float]) throws(DSPError) {
        let inFrames = input.count / channelCount
        let chunkFrames = max(1024, Int((Double(inFrames) * ratio).rounded(.up)) + 64)
        if scratch.count < chunkFrames * channelCount { scratch = [Float](repeating: 0, count: chunkFrames * channelCount) }
        var consumed = 0
        while true {
            var done = 0
            var produced = 0
            let remaining = inFrames - consumed
            let err: soxr_error_t? = scratch.withUnsafeMutableBufferPointer { out in
                if isEnd {
                    return soxr_process(soxr, nil, 0, nil, out.baseAddress, chunkFrames, &produced)
                }
                return soxr_process(soxr, input.baseAddress.map { $0 + consumed * channelCount }, remaining, &done,
                                    out.baseAddress, chunkFrames, &produced)
            }
            if let err { throw .resamplerFailed(detail: String(cString: err)) }
            consumed += done
            output.append(contentsOf: scratch[0..<(produced * channelCount)])
            if isEnd {
                if produced == 0 { break }
            } else if consumed >= inFrames && produced < chunkFrames {
                break
            }
        }
    }

    /// Resamples a whole buffer to `rate` hertz.
    public static func resample(_ buffer: AudioBuffer, to rate: Double, quality: ResamplerQuality = .high) throws(DSPError) -> AudioBuffer {
        if rate == buffer.sampleRate { return buffer }
        let r = try Resampler(inputRate: buffer.sampleRate, outputRate: rate, channelCount: buffer.channelCount, quality: quality)
        var out: [Float] = []
        out.reserveCapacity(Int(Double(buffer.samples.count) * r.ratio) + 64)
        try buffer.samples.withUnsafeBufferPointer { (p) throws(DSPError) in try r.process(p, appendingTo: &out) }
        try r.flush(appendingTo: &out)
        return AudioBuffer(sampleRate: rate, channelCount: buffer.channelCount, samples: out)
    }
}
