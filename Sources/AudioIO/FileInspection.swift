import AudioCore

/// Checks made before handing a file to libsndfile, so that common failures get a
/// specific message (empty, directory, text renamed `.wav`, truncated WAV) instead of
/// a generic "format not recognised".
enum FileInspection {
    /// What the first bytes of a file look like.
    enum Signature: Equatable {
        case riffWave, rifx, rf64, flac, ogg, id3, mpegSync, aiff, au, unknown

        var containerName: String {
            switch self {
            case .riffWave, .rifx: "WAV"
            case .rf64: "RF64"
            case .flac: "FLAC"
            case .ogg: "Ogg"
            case .id3, .mpegSync: "MP3"
            case .aiff: "AIFF"
            case .au: "AU"
            case .unknown: "audio"
            }
        }
    }

    static func signature(of bytes: [UInt8]) -> Signature {
        func tag(_ at: Int, _ s: String) -> Bool {
            let t = Array(s.utf8)
            return bytes.count >= at + t.count && Array(bytes[at..<(at + t.count)]) == t
        }
        if tag(0, "RIFF") && tag(8, "WAVE") { return .riffWave }
        if tag(0, "RIFX") { return .rifx }
        if tag(0, "RF64") || tag(0, "BW64") { return .rf64 }
        if tag(0, "fLaC") { return .flac }
        if tag(0, "OggS") { return .ogg }
        if tag(0, "ID3") { return .id3 }
        if tag(0, "FORM") && (tag(8, "AIFF") || tag(8, "AIFC")) { return .aiff }
        if tag(0, ".snd") { return .au }
        if bytes.count >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0 { return .mpegSync }
        return .unknown
    }

    /// A short, safe description of unrecognised leading bytes: quoted text when printable,
    /// hex otherwise.
    static func describe(_ bytes: [UInt8]) -> String {
        let head = Array(bytes.prefix(12))
        let printable = head.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if printable && !head.isEmpty {
            let text = String(decoding: head, as: UTF8.self)
                .replacingAll("\n", with: "\\n").replacingAll("\r", with: "\\r").replacingAll("\t", with: "\\t")
            return "text \"\(text)\""
        }
        let hex = head.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: " ")
        return "bytes \(hex)"
    }

    /// Validates the chunk structure of a RIFF/WAVE file on disk: that a `fmt ` and a `data`
    /// chunk exist and that the file holds all the data the header declares.
    ///
    /// Placeholder data sizes written by streaming encoders (0 or ≥ 0x7FFF_F000) are accepted
    /// as "unknown length". Throws `.malformedHeader` or `.truncated`.
    static func checkWAVChunks(path: String, fileSize: Int) throws(AudioFileError) {
        guard let fp = fopenForRead(path) else { return }
        defer { fcloseFile(fp) }
        var offset = 12
        var blockAlign = 0
        var sawFormat = false
        while true {
            let header = Platform.read(fp, at: offset, count: 8)
            if header.count < 8 {
                throw .malformedHeader(path: path, container: "WAV", byteOffset: offset,
                                       detail: "file ends inside the chunk list before a 'data' chunk (expected an 8-byte chunk header)")
            }
            let id = String(decoding: header[0..<4], as: UTF8.self)
            let size = Int(UInt32(header[4]) | UInt32(header[5]) << 8 | UInt32(header[6]) << 16 | UInt32(header[7]) << 24)
            if id == "fmt " {
                let fmt = Platform.read(fp, at: offset + 8, count: 16)
                guard size >= 16, fmt.count == 16 else {
                    throw .malformedHeader(path: path, container: "WAV", byteOffset: offset,
                                           detail: "'fmt ' chunk is \(size) bytes; expected at least 16")
                }
                let channels = Int(UInt16(fmt[2]) | UInt16(fmt[3]) << 8)
                blockAlign = Int(UInt16(fmt[12]) | UInt16(fmt[13]) << 8)
                if channels == 0 {
                    throw .malformedHeader(path: path, container: "WAV", byteOffset: offset + 10,
                                           detail: "channel count is 0; expected 1 or more")
                }
                sawFormat = true
            } else if id == "data" {
                if !sawFormat {
                    throw .malformedHeader(path: path, container: "WAV", byteOffset: offset,
                                           detail: "'data' chunk comes before any 'fmt ' chunk")
                }
                let dataStart = offset + 8
                let available = fileSize - dataStart
                let placeholder = size == 0 || size >= 0x7FFF_F000
                if !placeholder && size > available && blockAlign > 0 {
                    throw .truncated(path: path, byteOffset: fileSize, declaredFrames: size / blockAlign,
                                     availableFrames: max(0, available) / blockAlign)
                }
                return
            } else if !id.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
                throw .malformedHeader(path: path, container: "WAV", byteOffset: offset,
                                       detail: "invalid chunk identifier \(describe(Array(header[0..<4]))); expected a four-character code")
            }
            offset += 8 + size + (size & 1)
            if offset > fileSize {
                throw .malformedHeader(path: path, container: "WAV", byteOffset: fileSize,
                                       detail: "chunk '\(id)' runs past the end of the file before a 'data' chunk")
            }
        }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
