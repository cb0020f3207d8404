public import AudioCore

/// Errors raised by DSP components: invalid configurations and library failures.
public enum DSPError: VoiceGuardError, Equatable {
    /// A parameter is out of range; `detail` names it and the accepted range.
    case invalidConfiguration(detail: String)
    /// The input is too short for the requested analysis.
    case inputTooShort(samples: Int, minimum: Int)
    /// The resampling library reported an error.
    case resamplerFailed(detail: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .invalidConfiguration: .usage
        case .inputTooShort: .dataError
        case .resamplerFailed: .software
        }
    }

    public var code: String {
        switch self {
        case .invalidConfiguration: "invalid-configuration"
        case .inputTooShort: "input-too-short"
        case .resamplerFailed: "resampler-failed"
        }
    }

    public var description: String {
        switch self {
        case .invalidConfiguration(let d): "invalid DSP configuration: \(d)"
        case .inputTooShort(let n, let m): "input too short: \(n) samples; at least \(m) are needed"
        case .resamplerFailed(let d): "resampler failed: \(d)"
        }
    }
}
