import AudioCore
import CSndFile
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Standard input and output as audio streams.
///
/// libsndfile streams WAV, AU, Ogg, MP3 and raw through pipes but not FLAC (it needs to seek),
/// and it writes only AU and raw to pipes. These helpers close the gaps:
/// - stdin: the first bytes are peeked; FLAC is spooled to an unlinked temporary file, every
///   other format is relayed through a fresh pipe (constant memory) with the peeked bytes in front.
/// - stdout: WAV is written as a streaming header (unknown-length sizes, as sox and ffmpeg do)
///   followed by raw samples; formats that need seeking are spooled to a temporary file and
///   copied out when the writer finishes.
enum StandardStreams {
    /// A descriptor libsndfile can read the standard input from.
    struct Input {
        var fd: Int32
        /// Whether the descriptor can seek (a spooled file).
        var seekable: Bool
        var size: Int?
    }

    /// Prepares standard input for libsndfile. `raw` streams need no peeking.
    static func prepareInput(raw: Bool) throws(AudioFileError) -> Input {
        let st = Platform.status(fd: 0)
        if st.kind == .regular {
            if st.size == 0 { throw .empty(path: "stdin") }
            return Input(fd: 0, seekable: true, size: st.size)
        }
        if raw { return Input(fd: 0, seekable: false, size: nil) }
        var head = [UInt8](repeating: 0, count: 4)
        var got = 0
        while got < 4 {
            let n = head.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress! + got, 4 - got) }
            if n <= 0 { break }
            got += n
        }
        head.removeLast(4 - got)
        if got == 0 { throw .empty(path: "stdin") }
        // FLAC needs seeking; libsndfile reads RF64 from a pipe one frame short: spool both.
        if [Array("fLaC".utf8), Array("RF64".utf8), Array("BW64".utf8)].contains(head) {
            return try spoolToTemporaryFile(prefix: head)
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .readFailed(path: "stdin", detail: "pipe: \(Platform.lastErrorMessage)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let prefix = head
        let relay = Thread {
            // If the reader stops early, writes fail with EPIPE instead of killing the process:
            // SIGPIPE from write(2) goes to this thread, which blocks it.
            var block = sigset_t()
            sigemptyset(&block)
            sigaddset(&block, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &block, nil)
            defer { close(writeEnd) }
            guard writeAll(writeEnd, prefix) else { return }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, $0.count) }
                if n <= 0 { return }
                guard writeAll(writeEnd, Array(buffer[0..<n])) else { return }
            }
        }
        relay.start()
        return Input(fd: readEnd, seekable: false, size: nil)
    }

    private static func spoolToTemporaryFile(prefix: [UInt8]) throws(AudioFileError) -> Input {
        var template = Array((temporaryDirectory + "/voiceguard-stdin-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .readFailed(path: "stdin", detail: "cannot create a spool file: \(Platform.lastErrorMessage)") }
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        guard writeAll(fd, prefix) else { close(fd); throw .readFailed(path: "stdin", detail: "spool write failed") }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var total = prefix.count
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, $0.count) }
            if n < 0 { close(fd); throw .readFailed(path: "stdin", detail: Platform.lastErrorMessage) }
            if n == 0 { break }
            guard writeAll(fd, Array(buffer[0..<n])) else {
                close(fd)
                throw .readFailed(path: "stdin", detail: "spool write failed: \(Platform.lastErrorMessage)")
            }
            total += n
        }
        lseek(fd, 0, SEEK_SET)
        return Input(fd: fd, seekable: true, size: total)
    }

    /// Writes all bytes, retrying short writes; `false` on error (e.g. the reader went away).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    static var temporaryDirectory: String {
        ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// Creates an empty temporary file for spooling output; returns its path.
    static func makeSpoolFile() throws(AudioFileError) -> String {
        var template = Array((temporaryDirectory + "/voiceguard-stdout-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .cannotCreate(path: "stdout", reason: "cannot create a spool file: \(Platform.lastErrorMessage)") }
        close(fd)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Copies a file to standard output.
    static func copyToStandardOutput(_ path: String) throws(AudioFileError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .writeFailed(path: "stdout", detail: "spool file vanished: \(Platform.lastErrorMessage)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw .writeFailed(path: "stdout", detail: Platform.lastErrorMessage) }
            if n == 0 { return }
            guard writeAll(1, Array(buffer[0..<n])) else {
                throw .writeFailed(path: "stdout", detail: Platform.lastErrorMessage)
            }
        }
    }

    /// A WAV header for a stream of unknown length (RIFF and data sizes 0xFFFFFFFF).
    /// `nil` when the encoding has no plain WAV format tag.
    static func streamingWAVHeader(encoding: SampleEncoding, sampleRate: Int, channelCount: Int) -> [UInt8]? {
        let tag: UInt16
        switch encoding {
        case .pcmU8, .pcm16, .pcm24, .pcm32: tag = 1
        case .float32, .float64: tag = 3
        case .alaw: tag = 6
        case .ulaw: tag = 7
        default: return nil
        }
        guard let bits = encoding.bitsPerSample else { return nil }
        let blockAlign = channelCount * bits / 8
        var h: [UInt8] = []
        func u32(_ v: UInt32) { h += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        func u16(_ v: UInt16) { h += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        h += Array("RIFF".utf8); u32(0xFFFF_FFFF); h += Array("WAVE".utf8)
        h += Array("fmt ".utf8); u32(16)
        u16(tag); u16(UInt16(channelCount)); u32(UInt32(sampleRate))
        u32(UInt32(sampleRate * blockAlign)); u16(UInt16(blockAlign)); u16(UInt16(bits))
        h += Array("data".utf8); u32(0xFFFF_FFFF)
        return h
    }
}
