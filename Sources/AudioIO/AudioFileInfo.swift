public import AudioCore

/// What is known about an opened audio file or stream before decoding it.
public struct AudioFileInfo: Sendable, Equatable {
    /// The path as given (`-` for standard input/output).
    public var path: String
    /// Container and encoding; `nil` for a format VoiceGuard has no name for
    /// (then `containerName` and `encodingName` still say what it is).
    public var format: AudioFormat?
    /// libsndfile's container name, e.g. "WAV (Microsoft)".
    public var containerName: String
    /// libsndfile's encoding name, e.g. "Signed 16 bit PCM".
    public var encodingName: String
    /// Frames per second, in hertz.
    public var sampleRate: Int
    /// Channels per frame.
    public var channelCount: Int
    /// Frames the header declares; `nil` when unknown (pipes; MP3 and Ogg, whose counts are estimates).
    public var declaredFrameCount: Int?
    /// Whether the source can seek (regular files); pipes cannot.
    public var isSeekable: Bool
}
