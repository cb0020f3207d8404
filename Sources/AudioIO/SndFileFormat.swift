import AudioCore
import CSndFile

/// Mapping between VoiceGuard's format enums and libsndfile's `SF_FORMAT_*` codes.
enum SndFileFormat {
    static func code(for container: AudioContainer) -> Int32 {
        switch container {
        case .wav: Int32(SF_FORMAT_WAV)
        case .rf64: Int32(SF_FORMAT_RF64)
        case .aiff: Int32(SF_FORMAT_AIFF)
        case .au: Int32(SF_FORMAT_AU)
        case .flac: Int32(SF_FORMAT_FLAC)
        case .ogg: Int32(SF_FORMAT_OGG)
        case .mp3: Int32(SF_FORMAT_MPEG)
        case .raw: Int32(SF_FORMAT_RAW)
        }
    }

    static func code(for encoding: SampleEncoding) -> Int32 {
        switch encoding {
        case .pcm8: Int32(SF_FORMAT_PCM_S8)
        case .pcmU8: Int32(SF_FORMAT_PCM_U8)
        case .pcm16: Int32(SF_FORMAT_PCM_16)
        case .pcm24: Int32(SF_FORMAT_PCM_24)
        case .pcm32: Int32(SF_FORMAT_PCM_32)
        case .float32: Int32(SF_FORMAT_FLOAT)
        case .float64: Int32(SF_FORMAT_DOUBLE)
        case .ulaw: Int32(SF_FORMAT_ULAW)
        case .alaw: Int32(SF_FORMAT_ALAW)
        case .gsm610: Int32(SF_FORMAT_GSM610)
        case .vorbis: Int32(SF_FORMAT_VORBIS)
        case .opus: Int32(SF_FORMAT_OPUS)
        case .mp3: Int32(SF_FORMAT_MPEG_LAYER_III)
        }
    }

    static func code(for format: AudioFormat) -> Int32 {
        code(for: format.container) | code(for: format.encoding)
    }

    /// The VoiceGuard format for a libsndfile format code, if VoiceGuard names it.
    static func format(from code: Int32) -> AudioFormat? {
        var major = code & Int32(SF_FORMAT_TYPEMASK)
        // WAVE_FORMAT_EXTENSIBLE is read and written as plain WAV by VoiceGuard.
        if major == Int32(SF_FORMAT_WAVEX) { major = Int32(SF_FORMAT_WAV) }
        let minor = code & Int32(SF_FORMAT_SUBMASK)
        guard let container = AudioContainer.allCases.first(where: { self.code(for: $0) == major }) else { return nil }
        if container == .mp3 { return AudioFormat(container: .mp3, encoding: .mp3) }
        guard let encoding = SampleEncoding.allCases.first(where: { self.code(for: $0) == minor }) else { return nil }
        return AudioFormat(container: container, encoding: encoding)
    }

    /// libsndfile's own names for a format code, for formats VoiceGuard has no enum for.
    static func names(for code: Int32) -> (major: String, minor: String) {
        func name(_ command: Int32, _ value: Int32) -> String {
            var info = SF_FORMAT_INFO()
            info.format = value
            guard sf_command(nil, command, &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
                  let n = info.name else { return String(value, radix: 16) }
            return String(cString: n)
        }
        return (name(Int32(SFC_GET_FORMAT_INFO), code & Int32(SF_FORMAT_TYPEMASK)),
                name(Int32(SFC_GET_FORMAT_INFO), code & Int32(SF_FORMAT_SUBMASK)))
    }
}
