import ArgumentParser
import VoiceGuard

/// How to read headerless input. Given any of these, the input is read as raw PCM and
/// rate, channels and encoding must all be given.
struct RawInputOptions: ParsableArguments {
    @Option(name: [.customLong("input-rate")], help: "Raw input: sampling rate in Hz.")
    var rate: Int?

    @Option(name: [.customLong("input-channels")], help: "Raw input: channels per frame.")
    var channels: Int?

    @Option(name: [.customLong("input-encoding")],
            help: "Raw input: sample encoding (\(SampleEncoding.rawEncodings.map(\.rawValue).joined(separator: ", "))).")
    var encoding: String?

    @Option(name: [.customLong("input-endian")], help: "Raw input: byte order (little, big).")
    var endian: String = "little"

    /// The raw parameters, or `nil` when the input is to be read from its header.
    func parameters(forPath path: String) throws(AudioFileError) -> RawAudioParameters? {
        try RawInputOptions.parameters(rate: rate, channels: channels, encoding: encoding, endian: endian,
                                       path: path, flagPrefix: "--input-")
    }

    static func parameters(rate: Int?, channels: Int?, encoding: String?, endian: String,
                           path: String, flagPrefix: String) throws(AudioFileError) -> RawAudioParameters? {
        let isRawFile = path.hasSuffix(".raw") || path.hasSuffix(".pcm")
        guard rate != nil || channels != nil || encoding != nil || isRawFile else { return nil }
        var missing: [String] = []
        if rate == nil { missing.append("\(flagPrefix)rate") }
        if channels == nil { missing.append("\(flagPrefix)channels") }
        if encoding == nil { missing.append("\(flagPrefix)encoding") }
        guard missing.isEmpty, let rate, let channels, let encoding else {
            throw .invalidRawParameters(detail: "\(path): headerless input needs \(missing.joined(separator: ", "))")
        }
        guard let order = RawAudioParameters.ByteOrder(rawValue: endian.lowercased()) else {
            throw .invalidRawParameters(detail: "byte order '\(endian)'; expected little or big")
        }
        return try RawAudioParameters(sampleRate: rate, channelCount: channels,
                                      encoding: RawAudioParameters.encoding(named: encoding), byteOrder: order)
    }
}
