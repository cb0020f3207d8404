/// Where analysis frames fall on a signal of `length` samples.
///
/// Frames are `frameLength` samples, `hop` apart; samples outside the signal read as zero.
public enum FrameLayout: String, Sendable, Hashable, Codable {
    /// First frame starts at sample 0; frames continue until every sample is in a frame;
    /// the last is zero-padded (MATLAB `buffer(x, L, L−hop, 'nodelay')`, the ASVspoof baseline).
    case startAligned
    /// The signal is preceded by `frameLength − hop` zeros, so every sample is covered by the
    /// same number of frames; the layout STFT → ISTFT reconstruction uses.
    case padded

    /// Offset (in samples, possibly negative) of frame 0's first sample.
    public func origin(frameLength: Int, hop: Int) -> Int {
        switch self {
        case .startAligned: 0
        case .padded: -(frameLength - hop)
        }
    }

    /// Number of frames for a signal of `length` samples (0 for an empty signal).
    public func frameCount(length: Int, frameLength: Int, hop: Int) -> Int {
        guard length > 0 else { return 0 }
        switch self {
        case .startAligned:
            let overlap = frameLength - hop
            return max(1, (length - overlap + hop - 1) / hop)
        case .padded:
            let padded = length + (frameLength - hop)
            return (padded + hop - 1) / hop
        }
    }
}
