import AudioCore
import CSndFile

/// Detects files whose header declares more audio than the file holds, for the containers where
/// libsndfile silently shortens the stream to what is there (AIFF, RF64, AU). WAV is checked
/// before opening by `FileInspection.checkWAVChunks`; FLAC reports a decode error by itself.
///
/// libsndfile records what the header declared in its parse log ("Frames : N" for AIFF's COMM
/// and RF64's ds64 chunks, "Data Size : N (should be M)" for AU); the check compares that with
/// the frame count it settled on.
enum TruncationCheck {
    static func check(handle: OpaquePointer, path: String, fileSize: Int, format: AudioFormat,
                      channelCount: Int, availableFrames: Int) throws(AudioFileError) {
        guard [.aiff, .rf64, .au].contains(format.container) else { return }
        var buffer = [CChar](repeating: 0, count: 8_192)
        _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &buffer, Int32(buffer.count))
        let log = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var declared: Int?
        if format.container == .au {
            if let bytes = number(after: "Data Size", in: log), log.contains("(should be"),
               let bits = format.encoding.bitsPerSample {
                declared = bytes / max(1, channelCount * bits / 8)
            }
        } else {
            declared = number(after: "Frames", in: log)
        }
        guard let declared, declared > availableFrames, declared < 0x7FFF_F000 else { return }
        throw .truncated(path: path, byteOffset: fileSize, declaredFrames: declared, availableFrames: availableFrames)
    }

    /// The integer after "`label` :" on a log line, if any.
    static func number(after label: String, in log: String) -> Int? {
        for line in log.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix(label) else { continue }
            let rest = trimmed.dropFirst(label.count).drop { $0 == " " }
            guard rest.first == ":" else { continue }
            let digits = rest.dropFirst().drop { $0 == " " }.prefix { $0.isNumber }
            if let n = Int(digits) { return n }
        }
        return nil
    }
}
