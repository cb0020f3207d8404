/// A file container (the outer file structure), independent of how samples are coded inside it.
public enum AudioContainer: String, Sendable, Codable, CaseIterable {
    /// RIFF WAVE (≤ 4 GiB).
    case wav
    /// RF64 / BW64: WAV with 64-bit sizes, for files over 4 GiB.
    case rf64
    /// Apple/SGI AIFF.
    case aiff
    /// Sun/NeXT `.au`.
    case au
    /// Free Lossless Audio Codec.
    case flac
    /// Ogg (carrying Vorbis or Opus).
    case ogg
    /// MPEG-1/2 Layer III elementary stream.
    case mp3
    /// Headerless samples; rate, channels and encoding must be given explicitly.
    case raw

    /// The usual file-name extension, without a dot.
    public var preferredExtension: String {
        switch self {
        case .wav, .rf64: "wav"
        case .aiff: "aiff"
        case .au: "au"
        case .flac: "flac"
        case .ogg: "ogg"
        case .mp3: "mp3"
        case .raw: "raw"
        }
    }
}

/// How samples are coded inside a container.
public enum SampleEncoding: String, Sendable, Codable, CaseIterable {
    /// Signed 8-bit PCM.
    case pcm8
    /// Unsigned 8-bit PCM.
    case pcmU8 = "pcmu8"
    /// Signed 16-bit PCM.
    case pcm16
    /// Signed 24-bit PCM.
    case pcm24
    /// Signed 32-bit PCM.
    case pcm32
    /// IEEE 754 32-bit float.
    case float32 = "float"
    /// IEEE 754 64-bit float.
    case float64 = "double"
    /// G.711 µ-law (8 bits).
    case ulaw
    /// G.711 A-law (8 bits).
    case alaw
    /// GSM 06.10 full-rate.
    case gsm610 = "gsm"
    /// Ogg Vorbis (lossy).
    case vorbis
    /// Ogg Opus (lossy; 8, 12, 16, 24 or 48 kHz only).
    case opus
    /// MPEG Layer III (lossy).
    case mp3

    /// Whether the coding discards information (round trips are only approximate).
    public var isLossy: Bool {
        switch self {
        case .vorbis, .opus, .mp3, .gsm610, .ulaw, .alaw: true
        default: false
        }
    }

    /// Bits per sample for PCM and float encodings; `nil` for compressed codings.
    public var bitsPerSample: Int? {
        switch self {
        case .pcm8, .pcmU8, .ulaw, .alaw: 8
        case .pcm16: 16
        case .pcm24: 24
        case .pcm32, .float32: 32
        case .float64: 64
        case .gsm610, .vorbis, .opus, .mp3: nil
        }
    }

    /// Encodings that raw (headerless) input and output accept.
    public static let rawEncodings: [SampleEncoding] = [.pcm8, .pcmU8, .pcm16, .pcm24, .pcm32, .float32, .float64, .ulaw, .alaw]
}

/// A container together with the sample encoding inside it, e.g. WAV + 24-bit PCM, Ogg + Opus.
public struct AudioFormat: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The outer file structure.
    public var container: AudioContainer
    /// The sample coding inside the container.
    public var encoding: SampleEncoding

    /// Creates a format; whether the pair can be written is checked by the writer.
    public init(container: AudioContainer, encoding: SampleEncoding) {
        self.container = container
        self.encoding = encoding
    }

    /// The encoding a container uses when none is asked for: 16-bit PCM for PCM containers,
    /// Vorbis for Ogg, Layer III for MP3.
    public static func defaultEncoding(for container: AudioContainer) -> SampleEncoding {
        switch container {
        case .ogg: .vorbis
        case .mp3: .mp3
        default: .pcm16
        }
    }

    /// Encodings each container can hold (as written through libsndfile).
    public static func encodings(for container: AudioContainer) -> [SampleEncoding] {
        switch container {
        case .wav: [.pcmU8, .pcm16, .pcm24, .pcm32, .float32, .float64, .ulaw, .alaw, .gsm610]
        case .rf64: [.pcmU8, .pcm16, .pcm24, .pcm32, .float32, .float64, .ulaw, .alaw]
        case .aiff: [.pcm8, .pcm16, .pcm24, .pcm32, .float32, .float64, .ulaw, .alaw]
        case .au: [.pcm8, .pcm16, .pcm24, .pcm32, .float32, .float64, .ulaw, .alaw]
        case .flac: [.pcm8, .pcm16, .pcm24]
        case .ogg: [.vorbis, .opus]
        case .mp3: [.mp3]
        case .raw: SampleEncoding.rawEncodings
        }
    }

    /// Whether this container can hold this encoding.
    public var isSupported: Bool { Self.encodings(for: container).contains(encoding) }

    /// Format names accepted on the command line (`--format`): container names plus
    /// `vorbis` (= ogg + vorbis) and `opus` (= ogg + opus).
    public static let namedFormats: [String] = ["wav", "rf64", "flac", "ogg", "vorbis", "opus", "mp3", "aiff", "au", "raw"]

    /// The format a command-line name stands for, with the container's default encoding;
    /// `nil` for an unknown name. Case-insensitive.
    public static func named(_ name: String) -> AudioFormat? {
        switch name.lowercased() {
        case "opus": AudioFormat(container: .ogg, encoding: .opus)
        case "vorbis", "ogg", "oga": AudioFormat(container: .ogg, encoding: .vorbis)
        case "aif": AudioFormat(container: .aiff, encoding: .pcm16)
        case "pcm": AudioFormat(container: .raw, encoding: .pcm16)
        default: AudioContainer(rawValue: name.lowercased()).map {
            AudioFormat(container: $0, encoding: defaultEncoding(for: $0))
        }
        }
    }

    /// The format a file name's extension implies (`x.opus` → Ogg Opus), or `nil`.
    public static func inferred(fromPath path: String) -> AudioFormat? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        let ext = String(path[path.index(after: dot)...])
        if ext.lowercased() == "wav" { return AudioFormat(container: .wav, encoding: .pcm16) }
        return named(ext)
    }

    /// "WAV, 24-bit PCM"-style text.
    public var description: String { "\(container.rawValue)/\(encoding.rawValue)" }
}
