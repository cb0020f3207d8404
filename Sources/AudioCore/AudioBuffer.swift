/// A block of audio held in memory: 32-bit float samples, interleaved by frame.
///
/// A *frame* is one sample per channel at one instant; `samples[frame * channelCount + channel]`
/// is the sample of `channel` at `frame`. Sample values are nominally in −1.0...1.0 (0 dBFS);
/// values outside that range are kept, never clipped, until they are written to an integer format.
public struct AudioBuffer: Sendable, Equatable {
    /// Sampling rate in hertz (frames per second); always > 0.
    public let sampleRate: Double
    /// Number of interleaved channels; always ≥ 1.
    public let channelCount: Int
    /// Interleaved samples; `samples.count` is a multiple of `channelCount`.
    public var samples: [Float] {
        didSet { precondition(samples.count % channelCount == 0, "samples must hold whole frames") }
    }

    /// Creates a buffer from interleaved samples.
    /// - Parameters:
    ///   - sampleRate: frames per second, > 0.
    ///   - channelCount: channels per frame, ≥ 1.
    ///   - samples: interleaved samples; the count must be a multiple of `channelCount`.
    public init(sampleRate: Double, channelCount: Int, samples: [Float] = []) {
        precondition(sampleRate > 0, "sampleRate must be positive")
        precondition(channelCount >= 1, "channelCount must be at least 1")
        precondition(samples.count % channelCount == 0, "samples must hold whole frames")
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.samples = samples
    }

    /// Creates a mono buffer.
    public init(mono samples: [Float], sampleRate: Double) {
        self.init(sampleRate: sampleRate, channelCount: 1, samples: samples)
    }

    /// Creates a buffer by interleaving separate channel arrays of equal length.
    public init(sampleRate: Double, channels: [[Float]]) {
        precondition(!channels.isEmpty, "at least one channel is required")
        let frames = channels[0].count
        precondition(channels.allSatisfy { $0.count == frames }, "channels must have equal length")
        var interleaved = [Float](repeating: 0, count: frames * channels.count)
        for (c, channel) in channels.enumerated() {
            for f in 0..<frames { interleaved[f * channels.count + c] = channel[f] }
        }
        self.init(sampleRate: sampleRate, channelCount: channels.count, samples: interleaved)
    }

    /// Number of frames (samples per channel).
    public var frameCount: Int { samples.count / channelCount }

    /// Duration in seconds.
    public var duration: Double { Double(frameCount) / sampleRate }

    /// The samples of one channel, de-interleaved.
    /// - Parameter index: channel index in `0..<channelCount`.
    public func channel(_ index: Int) -> [Float] {
        precondition((0..<channelCount).contains(index), "channel index out of range")
        if channelCount == 1 { return samples }
        return [Float](unsafeUninitializedCapacity: frameCount) { out, count in
            samples.withUnsafeBufferPointer { src in
                var s = index
                for f in 0..<frameCount {
                    out[f] = src[s]
                    s += channelCount
                }
            }
            count = frameCount
        }
    }

    /// All channels, de-interleaved.
    public var channels: [[Float]] { (0..<channelCount).map(channel) }

    /// Appends the frames of another buffer with the same rate and channel count.
    public mutating func append(contentsOf other: AudioBuffer) {
        precondition(other.channelCount == channelCount && other.sampleRate == sampleRate,
                     "appended audio must have the same rate and channel count")
        samples.append(contentsOf: other.samples)
    }

    /// A copy holding frames `range` (frame indices, clamped to the buffer).
    public func frames(_ range: Range<Int>) -> AudioBuffer {
        let lower = max(0, min(range.lowerBound, frameCount))
        let upper = max(lower, min(range.upperBound, frameCount))
        return AudioBuffer(sampleRate: sampleRate, channelCount: channelCount,
                           samples: Array(samples[(lower * channelCount)..<(upper * channelCount)]))
    }
}
