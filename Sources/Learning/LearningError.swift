public import AudioCore

/// What can go wrong when fitting a statistical model.
public enum LearningError: VoiceGuardError, Equatable {
    /// The training data cannot fit the model (a class missing, ragged vectors, too few examples).
    case badTrainingData(detail: String)

    public var exitStatus: ExitStatus { .dataError }

    public var code: String { "learning.bad-training-data" }

    public var description: String {
        switch self {
        case let .badTrainingData(detail): "unusable training data: \(detail)"
        }
    }
}
