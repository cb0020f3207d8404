import ArgumentParser
import Foundation
import VoiceGuard

/// `voiceguard convert IN OUT`: change format, rate and channels, streaming with constant memory.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert audio between formats, sampling rates and channel counts.",
        discussion: """
        The output format comes from --format, else OUT's extension, else the input's format; \
        the encoding from --encoding, else the input's when the container allows it. Audio \
        streams through in blocks (constant memory). OUT is written atomically (temporary file, \
        then rename) and is never replaced unless -y is given; an input is never overwritten. \
        Use - for stdin (WAV stream, or raw PCM with --input-rate/--input-channels/--input-encoding) \
        and - for stdout.
        """)

    @Argument(help: "Input audio file, or - for stdin.")
    var input: String

    @Argument(help: "Output audio file, or - for stdout.")
    var output: String

    @Option(name: .long, help: "Output sampling rate in Hz (default: the input's).")
    var rate: Int?

    @Option(name: .long, help: "Output channel count (default: the input's); fewer channels are averaged, more are copied.")
    var channels: Int?

    @Option(name: .long, help: "Output format: \(AudioFormat.namedFormats.joined(separator: ", ")).")
    var format: String?

    @Option(name: .long, help: "Output sample encoding: \(SampleEncoding.allCases.map(\.rawValue).joined(separator: ", ")).")
    var encoding: String?

    @Option(name: .long, help: "Resampling quality: hq (default) or vhq.")
    var quality: String = "hq"

    @Option(name: .long, help: "Encoder compression level for FLAC/Vorbis/Opus/MP3, 0 (best quality) to 1 (smallest).")
    var compressionLevel: Double?

    @Flag(name: [.customShort("y"), .long], help: "Replace OUT if it exists.")
    var overwrite = false

    @OptionGroup var rawInput: RawInputOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let rate, !RawAudioParameters.sampleRateRange.contains(rate) {
            throw ValidationError("--rate \(rate) is out of range; expected \(RawAudioParameters.sampleRateRange.lowerBound)–\(RawAudioParameters.sampleRateRange.upperBound) Hz")
        }
        if let channels, !RawAudioParameters.channelRange.contains(channels) {
            throw ValidationError("--channels \(channels) is out of range; expected 1–\(RawAudioParameters.channelRange.upperBound)")
        }
        if let format, AudioFormat.named(format) == nil {
            throw ValidationError("--format '\(format)' is unknown; expected one of \(AudioFormat.namedFormats.joined(separator: ", "))")
        }
        if let encoding, SampleEncoding(rawValue: encoding.lowercased()) == nil {
            throw ValidationError("--encoding '\(encoding)' is unknown; expected one of \(SampleEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !["hq", "vhq", "high", "veryhigh"].contains(quality.lowercased()) {
            throw ValidationError("--quality '\(quality)' is unknown; expected hq or vhq")
        }
        if let level = compressionLevel, !(0...1).contains(level) {
            throw ValidationError("--compression-level \(level); expected 0 to 1")
        }
    }

    func run() throws {
        let console = global.console
        try runReportingErrors(console) {
            let reader = try AudioFileReader(path: input, raw: rawInput.parameters(forPath: input))
            let source = reader.info
            let targetFormat = try resolveFormat(source: source)
            let targetRate = rate ?? source.sampleRate
            let targetChannels = channels ?? source.channelCount
            console.detail("\(source.path): \(source.containerName), \(source.encodingName), \(source.sampleRate) Hz, \(source.channelCount) ch")
            let writer = try AudioFileWriter(
                path: output, format: targetFormat, sampleRate: targetRate, channelCount: targetChannels,
                options: .init(overwrite: overwrite, protectedInputs: [input], compressionLevel: compressionLevel))
            let resampler = targetRate == source.sampleRate ? nil : try Resampler(
                inputRate: Double(source.sampleRate), outputRate: Double(targetRate),
                channelCount: targetChannels, quality: quality.lowercased().hasPrefix("v") ? .veryHigh : .high)
            var mixed: [Float] = []
            var resampled: [Float] = []
            let framesIn = try reader.forEachBlock { block in
                mixed.removeAll(keepingCapacity: true)
                ChannelMixer.remix(block, from: source.channelCount, to: targetChannels, appendingTo: &mixed)
                if let resampler {
                    resampled.removeAll(keepingCapacity: true)
                    try mixed.withUnsafeBufferPointer { try resampler.process($0, appendingTo: &resampled) }
                    try writer.write(resampled)
                } else {
                    try writer.write(mixed)
                }
            }
            if let resampler {
                resampled.removeAll(keepingCapacity: true)
                try resampler.flush(appendingTo: &resampled)
                try writer.write(resampled)
            }
            try writer.finish()
            let summary = ConvertSummary(
                input: source.path, output: output == "-" ? "stdout" : output,
                container: targetFormat.container.rawValue, encoding: targetFormat.encoding.rawValue,
                sampleRate: targetRate, channels: targetChannels, framesIn: framesIn,
                framesOut: writer.framesWritten, durationSeconds: Double(writer.framesWritten) / Double(targetRate))
            if global.json {
                try Console.printJSON(summary)
            } else if output != "-" {
                console.info("\(summary.output): \(targetFormat), \(targetRate) Hz, \(targetChannels) ch, \(String(format: "%.3f", summary.durationSeconds)) s")
            }
        }
    }

    /// Output format: --format, else OUT's extension, else the input's; encoding: --encoding,
    /// else the input's when the container can hold it, else a lossless choice of similar depth.
    func resolveFormat(source: AudioFileInfo) throws(AudioFileError) -> AudioFormat {
        let sourceFormat = source.format ?? AudioFormat(container: .wav, encoding: .pcm16)
        var target: AudioFormat
        var explicitEncoding = false
        if let format, let named = AudioFormat.named(format) {
            target = named
            explicitEncoding = named.container == .ogg && ["opus", "vorbis"].contains(format.lowercased())
        } else if output != "-", let inferred = AudioFormat.inferred(fromPath: output) {
            target = inferred
            explicitEncoding = inferred.encoding == .opus
        } else {
            target = sourceFormat
            if output == "-" && ![.wav, .au, .raw, .aiff].contains(target.container) {
                target = AudioFormat(container: .wav, encoding: .pcm16)
            }
        }
        if let encoding, let e = SampleEncoding(rawValue: encoding.lowercased()) {
            target.encoding = e
        } else if !explicitEncoding {
            let allowed = AudioFormat.encodings(for: target.container)
            if allowed.contains(sourceFormat.encoding) {
                target.encoding = sourceFormat.encoding
            } else if target.container == .flac && [.pcm32, .float32, .float64].contains(sourceFormat.encoding) {
                target.encoding = .pcm24
            } else if !allowed.contains(target.encoding) {
                target.encoding = AudioFormat.defaultEncoding(for: target.container)
            }
        }
        guard target.isSupported else {
            throw .unsupportedOutput(path: output, detail: "\(target.container.rawValue) cannot hold \(target.encoding.rawValue); expected one of \(AudioFormat.encodings(for: target.container).map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }
}

/// JSON document printed by `convert --json`.
struct ConvertSummary: Codable {
    var schema = "voiceguard.convert/1"
    var input: String
    var output: String
    var container: String
    var encoding: String
    var sampleRate: Int
    var channels: Int
    var framesIn: Int
    var framesOut: Int
    var durationSeconds: Double

    enum CodingKeys: String, CodingKey {
        case schema, input, output, container, encoding, channels
        case sampleRate = "sample_rate"
        case framesIn = "frames_in"
        case framesOut = "frames_out"
        case durationSeconds = "duration_seconds"
    }
}
