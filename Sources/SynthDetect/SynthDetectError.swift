public import AudioCore
public import Learning

/// What can go wrong in synthetic-speech detection, training and evaluation.
public enum SynthDetectError: VoiceGuardError, Equatable {
    /// The audio is too short (or holds too little speech) to score.
    case tooShort(seconds: Double, minimumSeconds: Double)
    /// A model file cannot be used.
    case badModel(path: String, detail: String)
    /// The model was made for another feature configuration.
    case modelMismatch(path: String, detail: String)
    /// Training or evaluation data is unusable (e.g. one class missing).
    case badTrainingData(detail: String)
    /// Audio at a rate or with channels the detector cannot use.
    case unsupportedAudio(detail: String)
    /// A feature-set description (`--features`) names no valid blocks.
    case badFeatureSet(detail: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .tooShort, .badTrainingData, .unsupportedAudio, .badModel, .modelMismatch: .dataError
        case .badFeatureSet: .usage
        }
    }

    public var code: String {
        switch self {
        case .tooShort: "synthdetect.too-short"
        case .badModel: "synthdetect.bad-model"
        case .modelMismatch: "synthdetect.model-mismatch"
        case .badTrainingData: "synthdetect.bad-training-data"
        case .unsupportedAudio: "synthdetect.unsupported-audio"
        case .badFeatureSet: "synthdetect.bad-feature-set"
        }
    }

    public var description: String {
        switch self {
        case let .tooShort(seconds, minimum):
            "audio too short to score: \(String(format: "%.2f", seconds)) s of speech; need at least \(String(format: "%.2f", minimum)) s"
        case let .badModel(path, detail): "\(path): not a usable VoiceGuard detector model: \(detail)"
        case let .modelMismatch(path, detail): "\(path): model does not match this detector: \(detail)"
        case let .badTrainingData(detail): "unusable training or evaluation data: \(detail)"
        case let .unsupportedAudio(detail): "unsupported audio: \(detail)"
        case let .badFeatureSet(detail): "bad feature set: \(detail)"
        }
    }
}

extension SynthDetectError {
    /// The detector's view of a model-fitting failure.
    public init(_ error: LearningError) {
        switch error {
        case let .badTrainingData(detail): self = .badTrainingData(detail: detail)
        }
    }
}
