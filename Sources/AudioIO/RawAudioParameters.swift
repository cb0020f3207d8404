public import AudioCore

/// How to interpret headerless (raw) PCM: rate, channels, sample encoding and byte order.
public struct RawAudioParameters: Sendable, Hashable {
    /// Byte order of multi-byte samples.
    public enum ByteOrder: String, Sendable, CaseIterable {
        /// Least significant byte first (the default; what x86 and ARM produce).
        case little
        /// Most significant byte first.
        case big
    }

    /// Frames per second; 1,000 to 768,000 Hz.
    public var sampleRate: Int
    /// Channels per frame; 1 to 64.
    public var channelCount: Int
    /// Sample coding; one of `SampleEncoding.rawEncodings`.
    public var encoding: SampleEncoding
    /// Byte order (ignored for 8-bit encodings).
    public var byteOrder: ByteOrder

    /// Supported sampling-rate range in hertz.
    public static let sampleRateRange = 1_000...768_000
    /// Supported channel-count range.
    public static let channelRange = 1...64

    /// Creates and validates raw parameters.
    /// - Throws: `AudioFileError.invalidRawParameters` naming the bad value and the accepted range.
    public init(sampleRate: Int, channelCount: Int, encoding: SampleEncoding, byteOrder: ByteOrder = .little) throws(AudioFileError) {
        guard Self.sampleRateRange.contains(sampleRate) else {
            throw .invalidRawParameters(detail: "sample rate \(sampleRate) Hz is out of range; expected \(Self.sampleRateRange.lowerBound)–\(Self.sampleRateRange.upperBound) Hz")
        }
        guard Self.channelRange.contains(channelCount) else {
            throw .invalidRawParameters(detail: "channel count \(channelCount) is out of range; expected \(Self.channelRange.lowerBound)–\(Self.channelRange.upperBound)")
        }
        guard SampleEncoding.rawEncodings.contains(encoding) else {
            throw .invalidRawParameters(detail: "encoding '\(encoding.rawValue)' cannot be raw; expected one of \(SampleEncoding.rawEncodings.map(\.rawValue).joined(separator: ", "))")
        }
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.encoding = encoding
        self.byteOrder = byteOrder
    }

    /// Parses an encoding name given on the command line.
    /// - Throws: `.invalidRawParameters` listing the accepted names.
    public static func encoding(named name: String) throws(AudioFileError) -> SampleEncoding {
        let aliases: [String: SampleEncoding] = ["s16": .pcm16, "s16le": .pcm16, "s24": .pcm24, "s32": .pcm32,
                                                 "f32": .float32, "f32le": .float32, "float32": .float32,
                                                 "f64": .float64, "s8": .pcm8, "u8": .pcmU8, "mulaw": .ulaw]
        if let e = SampleEncoding(rawValue: name.lowercased()) ?? aliases[name.lowercased()],
           SampleEncoding.rawEncodings.contains(e) { return e }
        throw .invalidRawParameters(detail: "unknown raw encoding '\(name)'; expected one of \(SampleEncoding.rawEncodings.map(\.rawValue).joined(separator: ", "))")
    }
}
