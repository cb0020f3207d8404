public import AudioCore
import CSndFile

/// Writes audio to a file atomically, or to standard output.
///
/// Samples go to a hidden temporary file beside the destination; `finish()` flushes it to disk
/// and renames it into place, so the destination either does not change or holds the complete
/// output — never a partial file. A writer released without `finish()` (an error path, a
/// cancelled task) deletes its temporary file. An existing destination is replaced only with
/// `overwrite`, and never when it is one of the `protectedInputs`.
public final class AudioFileWriter {
    /// Options controlling overwriting and encoder settings.
    public struct Options: Sendable {
        /// Replace an existing destination (`-y/--overwrite`). Default `false`.
        public var overwrite: Bool
        /// Paths of the command's inputs: the destination may never be any of them (same file,
        /// even through another path or a link).
        public var protectedInputs: [String]
        /// Encoder compression level for FLAC, Vorbis, Opus and MP3, 0.0 (best quality, largest)
        /// to 1.0 (smallest); `nil` keeps libsndfile's default.
        public var compressionLevel: Double?

        /// Creates options.
        public init(overwrite: Bool = false, protectedInputs: [String] = [], compressionLevel: Double? = nil) {
            self.overwrite = overwrite
            self.protectedInputs = protectedInputs
            self.compressionLevel = compressionLevel
        }
    }

    /// Sampling rates Ogg Opus can be written at, in hertz.
    public static let opusSampleRates = [8_000, 12_000, 16_000, 24_000, 48_000]

    /// Containers libsndfile writes to a pipe as it goes (others are spooled when stdout is a pipe).
    static let streamableContainers: Set<AudioContainer> = [.au, .raw, .ogg, .mp3]

    /// Destination path (`-` for standard output).
    public let path: String
    /// Format being written.
    public let format: AudioFormat
    /// Frames per second.
    public let sampleRate: Int
    /// Channels per frame.
    public let channelCount: Int
    /// Frames written so far.
    public private(set) var framesWritten = 0

    private var handle: OpaquePointer?
    private let temporaryPath: String?
    /// `TemporaryFiles` slots of the temporary or spool file, released when it is published or deleted.
    private var cleanupSlots: [Int] = []
    /// Standard output spooled through a temporary file (formats that need seeking).
    private let spoolPath: String?
    private let overwrite: Bool
    private var finished = false

    /// Opens a writer.
    /// - Parameters:
    ///   - path: destination file, or `"-"` for standard output.
    ///   - format: container and encoding; must be a supported pair.
    ///   - sampleRate: frames per second, 1,000–768,000 Hz (Opus: 8/12/16/24/48 kHz).
    ///   - channelCount: 1–64 (MP3: 1–2).
    ///   - options: overwrite policy and encoder settings.
    /// - Throws: `AudioFileError` (`.outputExists`, `.wouldOverwriteInput`, `.unsupportedOutput`, `.cannotCreate`).
    public init(path: String, format: AudioFormat, sampleRate: Int, channelCount: Int,
                options: Options = Options()) throws(AudioFileError) {
        self.path = path
        self.format = format
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.overwrite = options.overwrite
        let display = path == AudioFileReader.standardStreamPath ? "stdout" : path

        guard format.isSupported else {
            throw .unsupportedOutput(path: display, detail: "\(format.container.rawValue) cannot hold \(format.encoding.rawValue); expected one of \(AudioFormat.encodings(for: format.container).map(\.rawValue).joined(separator: ", "))")
        }
        guard RawAudioParameters.sampleRateRange.contains(sampleRate) else {
            throw .unsupportedOutput(path: display, detail: "sample rate \(sampleRate) Hz is out of range; expected \(RawAudioParameters.sampleRateRange.lowerBound)–\(RawAudioParameters.sampleRateRange.upperBound) Hz")
        }
        guard RawAudioParameters.channelRange.contains(channelCount) else {
            throw .unsupportedOutput(path: display, detail: "\(channelCount) channels; expected 1–\(RawAudioParameters.channelRange.upperBound)")
        }
        if format.encoding == .opus && !Self.opusSampleRates.contains(sampleRate) {
            throw .unsupportedOutput(path: display, detail: "Opus encodes only at 8, 12, 16, 24 or 48 kHz, not \(sampleRate) Hz; resample first (e.g. --rate 48000)")
        }
        if format.container == .mp3 && channelCount > 2 {
            throw .unsupportedOutput(path: display, detail: "MP3 holds 1 or 2 channels, not \(channelCount); mix down first (e.g. --channels 2)")
        }
        if format.encoding == .gsm610 && (sampleRate != 8_000 || channelCount != 1) {
            throw .unsupportedOutput(path: display, detail: "GSM 06.10 is 8 kHz mono, not \(sampleRate) Hz × \(channelCount) channels")
        }

        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channelCount)
        info.format = SndFileFormat.code(for: format)
        guard sf_format_check(&info) == Int32(SF_TRUE) else {
            throw .unsupportedOutput(path: display, detail: "libsndfile cannot write \(format) at \(sampleRate) Hz with \(channelCount) channels")
        }

        if path == AudioFileReader.standardStreamPath {
            temporaryPath = nil
            let isPipe = Platform.status(fd: 1).kind != .regular
            if format.container == .wav && isPipe,
               let header = StandardStreams.streamingWAVHeader(encoding: format.encoding, sampleRate: sampleRate,
                                                               channelCount: channelCount) {
                // Streaming WAV: header with unknown-length sizes, then raw little-endian samples.
                guard StandardStreams.writeAll(1, header) else {
                    throw .cannotCreate(path: display, reason: Platform.lastErrorMessage)
                }
                info.format = Int32(SF_FORMAT_RAW) | SndFileFormat.code(for: format.encoding) | Int32(SF_ENDIAN_LITTLE)
                handle = sf_open_fd(1, Int32(SFM_WRITE), &info, 0)
                spoolPath = nil
            } else if !isPipe || Self.streamableContainers.contains(format.container),
                      let h = sf_open_fd(1, Int32(SFM_WRITE), &info, 0) {
                handle = h
                spoolPath = nil
            } else {
                // Formats libsndfile cannot write to a pipe are spooled and copied out by finish().
                let spool = try StandardStreams.makeSpoolFile()
                if let slot = TemporaryFiles.register(spool) { cleanupSlots.append(slot) }
                handle = sf_open(spool, Int32(SFM_WRITE), &info)
                spoolPath = spool
            }
            guard handle != nil else {
                throw .cannotCreate(path: display, reason: String(cString: sf_strerror(nil)))
            }
        } else {
            spoolPath = nil
            let destination = Platform.status(path)
            if destination.kind == .directory { throw .cannotCreate(path: path, reason: "it is a directory") }
            for input in options.protectedInputs where input != AudioFileReader.standardStreamPath {
                let other = Platform.status(input)
                if input == path || (destination.kind != .missing && other.kind != .missing
                                     && other.device == destination.device && other.inode == destination.inode) {
                    throw .wouldOverwriteInput(path: path)
                }
            }
            if destination.kind != .missing && !options.overwrite { throw .outputExists(path: path) }
            let temp = Self.temporaryPath(for: path)
            let slot = TemporaryFiles.register(temp)
            guard let h = sf_open(temp, Int32(SFM_WRITE), &info) else {
                let reason = String(cString: sf_strerror(nil))
                Platform.remove(temp)
                TemporaryFiles.unregister(slot)
                throw .cannotCreate(path: path, reason: reason)
            }
            temporaryPath = temp
            if let slot { cleanupSlots.append(slot) }
            handle = h
        }
        // Integer encodings clip out-of-range floats instead of wrapping around.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        if var level = options.compressionLevel {
            level = min(1, max(0, level))
            sf_command(handle, Int32(SFC_SET_COMPRESSION_LEVEL), &level, Int32(MemoryLayout<Double>.size))
        }
    }

    deinit {
        if !finished { abort() }
    }

    private static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(directory).\(base).vg\(Platform.processID)-\(tag).tmp"
    }

    /// Writes interleaved samples (a whole number of frames).
    /// - Throws: `.writeFailed` (e.g. disk full); the writer is then aborted and nothing is published.
    public func write(_ samples: UnsafeBufferPointer<Float>) throws(AudioFileError) {
        precondition(samples.count % channelCount == 0, "write whole frames")
        guard let handle, !finished else { throw .writeFailed(path: path, detail: "writer already finished") }
        let frames = samples.count / channelCount
        guard frames > 0, let base = samples.baseAddress else { return }
        let n = Int(sf_writef_float(handle, base, sf_count_t(frames)))
        if n != frames {
            let detail = String(cString: sf_strerror(handle))
            abort()
            throw .writeFailed(path: path, detail: "wrote \(n) of \(frames) frames at frame \(framesWritten): \(detail)")
        }
        framesWritten += frames
    }

    /// Writes interleaved samples.
    public func write(_ samples: [Float]) throws(AudioFileError) {
        try samples.withUnsafeBufferPointer { (p) throws(AudioFileError) in try write(p) }
    }

    /// Writes a buffer whose channel count matches the writer's.
    public func write(_ buffer: AudioBuffer) throws(AudioFileError) {
        precondition(buffer.channelCount == channelCount, "channel count mismatch")
        try write(buffer.samples)
    }

    /// Completes the output: closes the encoder, flushes to disk and moves the file into place.
    /// - Throws: `.writeFailed` or `.outputExists` (if the destination appeared meanwhile and
    ///   overwriting was not allowed); in every error case no partial output remains.
    public func finish() throws(AudioFileError) {
        guard !finished, let h = handle else { return }
        handle = nil
        let status = sf_close(h)
        finished = true
        defer { releaseCleanupSlots() }
        guard let temp = temporaryPath else {
            defer { if let spoolPath { Platform.remove(spoolPath) } }
            if status != 0 { throw .writeFailed(path: "stdout", detail: String(cString: sf_error_number(status))) }
            if let spoolPath { try StandardStreams.copyToStandardOutput(spoolPath) }
            return
        }
        if status != 0 {
            Platform.remove(temp)
            throw .writeFailed(path: path, detail: String(cString: sf_error_number(status)))
        }
        guard Platform.fsyncPath(temp) else {
            Platform.remove(temp)
            throw .writeFailed(path: path, detail: "fsync failed: \(Platform.lastErrorMessage)")
        }
        if overwrite {
            guard Platform.rename(temp, path) else {
                let reason = Platform.lastErrorMessage
                Platform.remove(temp)
                throw .writeFailed(path: path, detail: "rename failed: \(reason)")
            }
        } else {
            let result = Platform.publishNoClobber(temp, path)
            if result != 0 {
                Platform.remove(temp)
                if result == EEXIST_VALUE { throw .outputExists(path: path) }
                throw .writeFailed(path: path, detail: Platform.errorMessage(result))
            }
        }
    }

    /// Abandons the output: closes and deletes the temporary file. Safe to call more than once.
    public func abort() {
        if let h = handle { sf_close(h); handle = nil }
        if let temp = temporaryPath, !finished { Platform.remove(temp) }
        if let spoolPath, !finished { Platform.remove(spoolPath) }
        finished = true
        releaseCleanupSlots()
    }

    private func releaseCleanupSlots() {
        for slot in cleanupSlots { TemporaryFiles.unregister(slot) }
        cleanupSlots = []
    }

    /// Writes a whole buffer to `path` atomically.
    public static func write(_ buffer: AudioBuffer, to path: String, format: AudioFormat,
                             options: Options = Options()) throws(AudioFileError) {
        let writer = try AudioFileWriter(path: path, format: format, sampleRate: Int(buffer.sampleRate.rounded()),
                                         channelCount: buffer.channelCount, options: options)
        try writer.write(buffer)
        try writer.finish()
    }
}
