import ArgumentParser
import Foundation
import VoiceGuard

/// `voiceguard watermark …`: keyed watermark embedding and detection.
struct WatermarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watermark",
        abstract: "Embed and detect keyed spread-spectrum watermarks.",
        subcommands: [GenKey.self, Embed.self, Detect.self])
}

extension WatermarkCommand {
    /// `voiceguard watermark gen-key KEYFILE`
    struct GenKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gen-key", abstract: "Write a new random 256-bit key to KEYFILE (mode 0600; never replaces a file).")

        @Argument(help: "Key file to create.")
        var keyFile: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let console = global.console
            try runReportingErrors(console) {
                let key = WatermarkKey.generate()
                try key.write(to: keyFile)
                console.info("\(keyFile): new key, fingerprint \(key.fingerprint)")
                if global.json { try Console.printJSON(["key_file": keyFile, "fingerprint": key.fingerprint]) }
            }
        }
    }

    /// `voiceguard watermark embed IN OUT --key KEYFILE --payload HEX`
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embed", abstract: "Mark IN with a payload under a key and write OUT (same format unless asked).")

        @Argument(help: "Input audio, or - for stdin.") var input: String
        @Argument(help: "Output audio, or - for stdout.") var output: String
        @Option(name: .long, help: "Key file made by gen-key.") var key: String
        @Option(name: .long, help: "Payload: 32 hex digits (128 bits), or 8 with --short.") var payload: String
        @Option(name: .long, help: "Strength 0.25–4 (default 1): higher is more robust and more audible; detect needs the same value.") var strength: Double = 1
        func validate() throws { try validateStrength(strength) }
        @Flag(name: .long, help: "32-bit payload that needs less audio.") var short = false
        @Flag(name: [.customShort("y"), .long], help: "Replace OUT if it exists.") var overwrite = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let console = global.console
            try runReportingErrors(console) {
                let watermarkKey = try WatermarkKey.read(from: key)
                let message = try Payload(hex: payload, size: short ? .short : .standard)
                let reader = try AudioFileReader(path: input)
                let info = reader.info
                let embedder = try SpreadSpectrumEmbedder(key: watermarkKey, payload: message, strength: strength)
                let stream = try embedder.makeStream(sampleRate: Double(info.sampleRate), channelCount: info.channelCount)
                let blockSeconds = stream.layout.blockSeconds
                if let frames = info.declaredFrameCount, Double(frames) / Double(info.sampleRate) < blockSeconds {
                    throw WatermarkError.audioTooShort(seconds: Double(frames) / Double(info.sampleRate), minimumSeconds: blockSeconds)
                }
                var format = info.format ?? AudioFormat(container: .wav, encoding: .pcm16)
                if output != "-", let inferred = AudioFormat.inferred(fromPath: output) {
                    format = AudioFormat(container: inferred.container,
                                         encoding: AudioFormat.encodings(for: inferred.container).contains(format.encoding) ? format.encoding : inferred.encoding)
                }
                if output == "-" && ![.wav, .au, .raw].contains(format.container) { format = AudioFormat(container: .wav, encoding: .pcm16) }
                // Streams: constant memory whatever the length, output written atomically on success.
                let writer = try AudioFileWriter(path: output, format: format, sampleRate: info.sampleRate,
                                                 channelCount: info.channelCount,
                                                 options: .init(overwrite: overwrite, protectedInputs: [input]))
                var marked: [Float] = []
                _ = try reader.forEachBlock(blockFrames: 16_384) { block in
                    marked.removeAll(keepingCapacity: true)
                    stream.process(block, appendingTo: &marked)
                    try writer.write(marked)
                }
                marked.removeAll(keepingCapacity: true)
                stream.finish(appendingTo: &marked)
                try writer.write(marked)
                let duration = Double(stream.framesReceived) / Double(info.sampleRate)
                guard duration >= blockSeconds else {
                    writer.abort()
                    throw WatermarkError.audioTooShort(seconds: duration, minimumSeconds: blockSeconds)
                }
                try writer.finish()
                let snr = stream.signalToChangeRatio
                let silentShare = stream.bitsEmbedded > 0 ? Double(stream.silentBits) / Double(stream.bitsEmbedded) : 1
                if silentShare > 0.5 {
                    console.warning("\(input == "-" ? "stdin" : input): \(Int((silentShare * 100).rounded())) % of the mark fell on near-silence (below −60 dBFS in 150–3600 Hz); detection needs audible content there")
                }
                console.info("\(output == "-" ? "stdout" : output): marked \(String(format: "%.2f", duration)) s with \(message.size.rawValue)-bit payload, SNR \(String(format: "%.1f", snr)) dB, latency \(String(format: "%.0f", stream.latencySeconds * 1000)) ms")
                if global.json {
                    try Console.printJSON(EmbedSummary(output: output, payload: message.hex, durationSeconds: duration, snrDB: snr,
                                                       latencySeconds: stream.latencySeconds, silentFraction: silentShare))
                }
            }
        }
    }

    /// `voiceguard watermark detect IN... --key KEYFILE`
    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detect", abstract: "Find watermarks made with a key.",
            discussion: "Exit status 0 when a watermark (or, with --expect, that payload) is found in every file, 1 when not, 65/66 for unreadable input.")

        @Argument(help: "Audio files, or - for stdin.") var files: [String]
        @Option(name: .long, help: "Key file.") var key: String
        @Option(name: .long, help: "Exit 0 only if this payload (hex) is found in every file.") var expect: String?
        @Flag(name: .long, help: "Look for 32-bit payloads.") var short = false
        @Option(name: .long, help: "The strength the marks were embedded with (default 1).") var strength: Double = 1
        func validate() throws { try validateStrength(strength) }
        @Flag(name: .long, help: "Skip the speed, tempo and pitch search (faster; finds only marks in unmodified timing).") var noScaleSearch = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let console = global.console
            try runReportingErrors(console) {
                let watermarkKey = try WatermarkKey.read(from: key)
                let expected = try expect.map { try Payload(hex: $0, size: short ? .short : .standard).hex }
                var results: [DetectResult] = []
                var allFound = true
                var failure: ExitStatus?
                for path in files {
                    do {
                        // Streams the file: memory holds band powers, not the audio.
                        let reader = try AudioFileReader(path: path)
                        var detector = WatermarkDetector(key: watermarkKey, payloadSize: short ? .short : .standard, strength: strength)
                        if noScaleSearch { detector.passes = DetectionPass.unscaled }
                        let search = try detector.search(sampleRate: Double(reader.info.sampleRate),
                                                         channelCount: reader.info.channelCount) { feed in
                            try reader.forEachBlock(blockFrames: 32_768) { feed($0) }
                        }
                        let detections = search.detections
                        results.append(DetectResult(path: path, detections: detections, alignmentsSearched: search.alignmentsSearched, error: nil))
                        let ok = expected.map { e in detections.contains { $0.payload == e } } ?? !detections.isEmpty
                        allFound = allFound && ok
                        if !global.json {
                            if detections.isEmpty { Console.writeOutput("\(path): no watermark\n") }
                            for d in detections {
                                Console.writeOutput("\(path): \(d.payload) \(String(format: "%.2f–%.2f s", d.startSeconds, d.endSeconds)) bit errors \(d.bitErrors)/\(d.codedBits) p \(String(format: "%.1e", d.pValue))\n")
                            }
                        }
                    } catch {
                        let report = ErrorReport(error)
                        console.error(report.message)
                        results.append(DetectResult(path: path, detections: [], alignmentsSearched: 0, error: report))
                        failure = failure ?? ExitStatus(rawValue: report.exitStatus)
                        allFound = false
                    }
                }
                if global.json { try Console.printJSON(DetectOutput(files: results)) }
                if let failure { throw ExitCode(failure) }
                if !allFound { throw ExitCode(ExitStatus.negative) }
            }
        }
    }
}

struct EmbedSummary: Codable {
    var schema = "voiceguard.watermark-embed/1"
    var output: String
    var payload: String
    var durationSeconds: Double
    var snrDB: Double
    var latencySeconds: Double
    var silentFraction: Double
    enum CodingKeys: String, CodingKey {
        case schema, output, payload
        case durationSeconds = "duration_seconds"
        case snrDB = "snr_db"
        case latencySeconds = "latency_seconds"
        case silentFraction = "silent_fraction"
    }
}

struct DetectResult: Codable {
    var path: String
    var detections: [WatermarkDetection]
    var alignmentsSearched: Int
    var error: ErrorReport?

    enum CodingKeys: String, CodingKey {
        case path, detections, error
        case alignmentsSearched = "alignments_searched"
    }
}

struct DetectOutput: Codable {
    var schema = "voiceguard.watermark-detect/1"
    var files: [DetectResult]
}
