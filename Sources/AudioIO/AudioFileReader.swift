public import AudioCore
import CSndFile

/// Reads audio from a file or standard input in blocks, with constant memory for any length.
///
/// Opening checks the file first (missing, directory, empty, not audio, truncated WAV) so
/// failures carry a specific `AudioFileError`. Samples are delivered as interleaved 32-bit floats
/// normalised to −1.0...1.0 whatever the file's encoding.
///
/// ```swift
/// let reader = try AudioFileReader(path: "speech.flac")
/// var block = [Float](repeating: 0, count: 4096 * reader.info.channelCount)
/// while case let frames = try block.withUnsafeMutableBufferPointer({ try reader.read(into: $0) }), frames > 0 {
///     // use block[0 ..< frames * channelCount]
/// }
/// ```
public final class AudioFileReader {
    /// What the header says about the source.
    public let info: AudioFileInfo
    /// Frames delivered so far.
    public private(set) var framesRead = 0

    private let handle: OpaquePointer
    private let fileSize: Int?

    /// Path that stands for standard input (and output, for writers).
    public static let standardStreamPath = "-"

    /// Opens `path` (or standard input for `"-"`).
    /// - Parameters:
    ///   - path: a file path, or `"-"` for standard input.
    ///   - raw: when given, the source is read as headerless samples with these parameters.
    /// - Throws: `AudioFileError` saying what is wrong with the source.
    public init(path: String, raw: RawAudioParameters? = nil) throws(AudioFileError) {
        var sfInfo = SF_INFO()
        if let raw {
            sfInfo.samplerate = Int32(raw.sampleRate)
            sfInfo.channels = Int32(raw.channelCount)
            let endian = raw.byteOrder == .little ? Int32(SF_ENDIAN_LITTLE) : Int32(SF_ENDIAN_BIG)
            sfInfo.format = Int32(SF_FORMAT_RAW) | SndFileFormat.code(for: raw.encoding) | endian
        }
        let opened: OpaquePointer?
        var size: Int? = nil
        var seekable = true
        if path == Self.standardStreamPath {
            let input = try StandardStreams.prepareInput(raw: raw != nil)
            seekable = input.seekable
            size = input.size
            opened = sf_open_fd(input.fd, Int32(SFM_READ), &sfInfo, input.fd == 0 ? 0 : 1)
        } else {
            let st = Platform.status(path)
            switch st.kind {
            case .missing: throw .notFound(path: path)
            case .directory: throw .isDirectory(path: path)
            case .regular, .other: break
            }
            guard Platform.isReadable(path) else { throw .notReadable(path: path, reason: Platform.lastErrorMessage) }
            if st.kind == .regular {
                size = st.size
                seekable = true
                if st.size == 0 { throw .empty(path: path) }
                if raw == nil, let head = Platform.readPrefix(path, count: 16) {
                    if FileInspection.signature(of: head) == .riffWave {
                        try FileInspection.checkWAVChunks(path: path, fileSize: st.size)
                    }
                }
            } else {
                seekable = false
            }
            opened = sf_open(path, Int32(SFM_READ), &sfInfo)
        }
        let displayPath = path == Self.standardStreamPath ? "stdin" : path
        guard let opened else {
            let message = String(cString: sf_strerror(nil))
            throw Self.openError(path: displayPath, rawPath: path, message: message, raw: raw)
        }
        // Validate before storing anything: a throw after full initialisation would run deinit.
        if sfInfo.channels < 1 || sfInfo.samplerate < 1 {
            sf_close(opened)
            throw .malformedHeader(path: displayPath, container: "audio", byteOffset: nil,
                                   detail: "header gives \(sfInfo.channels) channels at \(sfInfo.samplerate) Hz; expected ≥ 1 channel at a positive rate")
        }
        let format = SndFileFormat.format(from: sfInfo.format)
        if raw == nil, let size, seekable, let format {
            do {
                try TruncationCheck.check(handle: opened, path: displayPath, fileSize: size, format: format,
                                          channelCount: Int(sfInfo.channels), availableFrames: Int(sfInfo.frames))
            } catch {
                sf_close(opened)
                throw error
            }
        }
        let names = SndFileFormat.names(for: sfInfo.format)
        let exactCount = seekable && format.map { $0.container != .mp3 && $0.container != .ogg } ?? seekable
        handle = opened
        fileSize = size
        info = AudioFileInfo(path: displayPath, format: format, containerName: names.major, encodingName: names.minor,
                             sampleRate: Int(sfInfo.samplerate), channelCount: Int(sfInfo.channels),
                             declaredFrameCount: exactCount ? Int(sfInfo.frames) : nil, isSeekable: seekable)
        // Float files may hold values beyond ±1; keep them (no clipping on read).
        sf_command(handle, Int32(SFC_SET_NORM_FLOAT), nil, Int32(SF_TRUE))
    }

    deinit { sf_close(handle) }

    private static func openError(path: String, rawPath: String, message: String, raw: RawAudioParameters?) -> AudioFileError {
        if raw != nil { return .invalidRawParameters(detail: "\(path): \(message)") }
        let head = rawPath == standardStreamPath ? [] : (Platform.readPrefix(rawPath, count: 16) ?? [])
        let signature = FileInspection.signature(of: head)
        if signature == .unknown {
            if rawPath == standardStreamPath {
                return .notAudio(path: path, found: "a stream libsndfile cannot parse (\(message)); for raw PCM pass --input-rate, --input-channels and --input-encoding")
            }
            return .notAudio(path: path, found: FileInspection.describe(head))
        }
        return .malformedHeader(path: path, container: signature.containerName, byteOffset: nil, detail: message)
    }

    /// Reads up to `buffer.count / channelCount` frames into `buffer` (interleaved).
    /// - Returns: the number of frames read; 0 at the end of the stream.
    /// - Throws: `.decodeFailed` with the frame where decoding stopped, or `.truncated`
    ///   when the stream ends before the frame count its header declared.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws(AudioFileError) -> Int {
        let capacity = buffer.count / info.channelCount
        guard capacity > 0, let base = buffer.baseAddress else { return 0 }
        let n = Int(sf_readf_float(handle, base, sf_count_t(capacity)))
        if n < capacity {
            let err = sf_error(handle)
            if err != 0 {
                throw .decodeFailed(path: info.path, frame: framesRead + max(0, n),
                                    detail: String(cString: sf_error_number(err)))
            }
        }
        framesRead += max(0, n)
        if n == 0, let declared = info.declaredFrameCount, framesRead < declared {
            throw .truncated(path: info.path, byteOffset: fileSize ?? 0, declaredFrames: declared, availableFrames: framesRead)
        }
        return max(0, n)
    }

    /// Reads the next block of at most `maxFrames` frames; `nil` at the end of the stream.
    public func read(maxFrames: Int) throws(AudioFileError) -> AudioBuffer? {
        var block = [Float](repeating: 0, count: max(1, maxFrames) * info.channelCount)
        let n = try block.withUnsafeMutableBufferPointer { (p) throws(AudioFileError) -> Int in try read(into: p) }
        guard n > 0 else { return nil }
        block.removeLast(block.count - n * info.channelCount)
        return AudioBuffer(sampleRate: Double(info.sampleRate), channelCount: info.channelCount, samples: block)
    }

    /// Calls `body` with each successive block of interleaved samples (at most `blockFrames` frames),
    /// reusing one buffer: memory stays constant whatever the length of the source.
    /// - Returns: the total number of frames delivered.
    /// - Throws: `AudioFileError` from decoding, or whatever `body` throws (passed through unchanged).
    @discardableResult
    public func forEachBlock(blockFrames: Int = 16_384, _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws -> Int {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, blockFrames) * info.channelCount)
        defer { buffer.deallocate() }
        let start = framesRead
        while true {
            let n = try read(into: buffer)
            if n == 0 { break }
            try body(UnsafeBufferPointer(rebasing: buffer[0..<(n * info.channelCount)]))
        }
        return framesRead - start
    }

    /// Reads everything that remains into one buffer.
    public func readAll() throws(AudioFileError) -> AudioBuffer {
        var samples: [Float] = []
        if let declared = info.declaredFrameCount { samples.reserveCapacity(max(0, declared - framesRead) * info.channelCount) }
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 16_384 * info.channelCount)
        defer { block.deallocate() }
        while case let n = try read(into: block), n > 0 {
            samples.append(contentsOf: block[0..<(n * info.channelCount)])
        }
        return AudioBuffer(sampleRate: Double(info.sampleRate), channelCount: info.channelCount, samples: samples)
    }

    /// Moves to `frame` (0-based) in a seekable source.
    public func seek(toFrame frame: Int) throws(AudioFileError) {
        guard info.isSeekable, sf_seek(handle, sf_count_t(frame), Int32(SEEK_SET_VALUE)) >= 0 else {
            throw .readFailed(path: info.path, detail: "cannot seek to frame \(frame)")
        }
        framesRead = frame
    }

    /// Reads a whole file (or standard input) into memory.
    public static func read(path: String, raw: RawAudioParameters? = nil) throws(AudioFileError) -> AudioBuffer {
        try AudioFileReader(path: path, raw: raw).readAll()
    }
}

private let SEEK_SET_VALUE = 0
