import Foundation
import ArgumentParser
import VoiceGuard

/// `voiceguard info FILE...`: format, length and levels of audio files.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show format, duration and levels (peak/RMS dBFS, clipped samples) of audio files.",
        discussion: """
        Each file is decoded in full (constant memory) so frame counts and levels are exact even \
        for MP3 and Ogg. A file that cannot be read is reported and the others are still shown; \
        the exit status is then that of the first failure. Use - for standard input (a WAV stream, \
        or raw PCM with --rate, --channels and --encoding).
        """)

    @Argument(help: "Audio files (WAV, RF64, FLAC, Ogg Vorbis/Opus, MP3, AIFF, AU, raw), or - for stdin.")
    var files: [String]

    @Option(name: [.customLong("rate"), .customLong("input-rate")], help: "Raw input: sampling rate in Hz.")
    var rate: Int?

    @Option(name: [.customLong("channels"), .customLong("input-channels")], help: "Raw input: channels per frame.")
    var channels: Int?

    @Option(name: [.customLong("encoding"), .customLong("input-encoding")],
            help: "Raw input: sample encoding (\(SampleEncoding.rawEncodings.map(\.rawValue).joined(separator: ", "))).")
    var encoding: String?

    @Option(name: [.customLong("endian"), .customLong("input-endian")], help: "Raw input: byte order (little, big).")
    var endian: String = "little"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one audio file (or - for stdin)") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        let console = global.console
        var reports: [FileReport] = []
        var firstFailure: ExitStatus?
        for path in files {
            do {
                let raw = try RawInputOptions.parameters(rate: rate, channels: channels, encoding: encoding,
                                                         endian: endian, path: path, flagPrefix: "--")
                let report = try FileReport.measure(path: path, raw: raw)
                reports.append(report)
                if !global.json { Console.writeOutput(report.humanText) }
            } catch {
                let e = ErrorReport(error)
                console.error(e.message)
                reports.append(FileReport(path: path, error: e))
                firstFailure = firstFailure ?? ExitStatus(rawValue: e.exitStatus) ?? .software
            }
        }
        if global.json { try Console.printJSON(InfoOutput(files: reports)) }
        if let firstFailure { throw ExitCode(firstFailure) }
    }
}

/// JSON document printed by `info --json`.
struct InfoOutput: Codable {
    var schema = "voiceguard.info/1"
    var files: [FileReport]
}

/// What `info` reports about one file.
struct FileReport: Codable {
    var path: String
    var container: String?
    var encoding: String?
    var formatName: String?
    var sampleRate: Int?
    var channels: Int?
    var frames: Int?
    var declaredFrames: Int?
    var durationSeconds: Double?
    /// `nil` (JSON null) for digital silence (−∞ dBFS).
    var peakDBFS: Double?
    var rmsDBFS: Double?
    var clippedSamples: Int?
    var error: ErrorReport?

    enum CodingKeys: String, CodingKey {
        case path, container, encoding, channels, frames, error
        case formatName = "format_name"
        case sampleRate = "sample_rate"
        case declaredFrames = "declared_frames"
        case durationSeconds = "duration_seconds"
        case peakDBFS = "peak_dbfs"
        case rmsDBFS = "rms_dbfs"
        case clippedSamples = "clipped_samples"
    }

    init(path: String, error: ErrorReport) {
        self.path = path
        self.error = error
    }

    init(info: AudioFileInfo, frames: Int, levels: LevelStatistics) {
        path = info.path
        container = info.format?.container.rawValue
        encoding = info.format?.encoding.rawValue
        formatName = "\(info.containerName), \(info.encodingName)"
        sampleRate = info.sampleRate
        channels = info.channelCount
        self.frames = frames
        declaredFrames = info.declaredFrameCount
        durationSeconds = Double(frames) / Double(info.sampleRate)
        peakDBFS = Self.finite(levels.peakDBFS)
        rmsDBFS = Self.finite(levels.rmsDBFS)
        clippedSamples = levels.clippedSamples
    }

    static func finite(_ x: Double) -> Double? {
        x.isFinite ? (x * 100).rounded() / 100 : nil
    }

    /// Opens, decodes and measures one file with constant memory.
    static func measure(path: String, raw: RawAudioParameters?) throws -> FileReport {
        let reader = try AudioFileReader(path: path, raw: raw)
        var meter = LevelMeter()
        let frames = try reader.forEachBlock { (block: UnsafeBufferPointer<Float>) in meter.add(block) }
        return FileReport(info: reader.info, frames: frames, levels: meter.statistics)
    }

    var humanText: String {
        func db(_ x: Double?) -> String { x.map { String(format: "%.2f dBFS", $0) } ?? "-inf dBFS (silence)" }
        return """
        \(path)
          format:    \(formatName ?? "?") [\(container ?? "?")/\(encoding ?? "?")]
          rate:      \(sampleRate ?? 0) Hz
          channels:  \(channels ?? 0)
          frames:    \(frames ?? 0)
          duration:  \(String(format: "%.3f", durationSeconds ?? 0)) s
          peak:      \(db(peakDBFS))
          rms:       \(db(rmsDBFS))
          clipped:   \(clippedSamples ?? 0) samples

        """
    }
}
