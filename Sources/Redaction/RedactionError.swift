public import AudioCore
public import Learning
public import Perception

/// What can go wrong in voice activity detection, speaker modelling and redaction.
public enum RedactionError: VoiceGuardError, Equatable {
    /// Audio the filter cannot use (no channels, rate too low).
    case unsupportedAudio(detail: String)
    /// The enrollment holds too little speech.
    case enrollmentTooShort(path: String, speechSeconds: Double, minimumSeconds: Double)
    /// The input holds no speech at all where some was required.
    case noSpeech(detail: String)
    /// A model file cannot be used.
    case badModel(path: String, detail: String)
    /// Training data is unusable.
    case badTrainingData(detail: String)
    /// A pretrained network's weights are missing or corrupt.
    case weights(PerceptionError)
    /// The input holds a NaN or infinite sample: nothing it carries can be judged, so nothing is kept (fail closed).
    /// `frame` is the sample frame (0-based), `seconds` its time.
    case nonFiniteSample(frame: Int, channel: Int, seconds: Double, value: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .unsupportedAudio, .enrollmentTooShort, .noSpeech, .badModel, .badTrainingData, .nonFiniteSample: .dataError
        case let .weights(error): error.exitStatus
        }
    }

    public var code: String {
        switch self {
        case .unsupportedAudio: "redaction.unsupported-audio"
        case .enrollmentTooShort: "redaction.enrollment-too-short"
        case .noSpeech: "redaction.no-speech"
        case .badModel: "redaction.bad-model"
        case .badTrainingData: "redaction.bad-training-data"
        case .nonFiniteSample: "redaction.non-finite-sample"
        case let .weights(error): error.code
        }
    }

    public var description: String {
        switch self {
        case let .unsupportedAudio(detail): "unsupported audio: \(detail)"
        case let .enrollmentTooShort(path, seconds, minimum):
            "\(path): enrollment holds \(String(format: "%.2f", seconds)) s of speech; need at least \(String(format: "%.1f", minimum)) s"
        case let .noSpeech(detail): "no speech found: \(detail)"
        case let .badModel(path, detail): "\(path): not a usable VoiceGuard redaction model: \(detail)"
        case let .badTrainingData(detail): "unusable training data: \(detail)"
        case let .nonFiniteSample(frame, channel, seconds, value):
            "sample frame \(frame) (\(String(format: "%.3f", seconds)) s), channel \(channel + 1) is \(value); expected finite samples "
                + "(nothing is written: the filter cannot judge audio it cannot analyse)"
        case let .weights(error): error.description
        }
    }
}

extension RedactionError {
    /// The redaction view of a model-fitting failure.
    public init(_ error: LearningError) {
        switch error {
        case let .badTrainingData(detail): self = .badTrainingData(detail: detail)
        }
    }
}

extension RedactionError {
    /// Throws `nonFiniteSample` for the first NaN or infinite value of `interleaved` — the one rule behind whole-file,
    /// streaming and enrollment runs. `firstFrame` is the sample frame `interleaved` starts at.
    static func checkFinite(_ interleaved: UnsafeBufferPointer<Float>, channelCount: Int, sampleRate: Double,
                            firstFrame: Int = 0) throws(RedactionError) {
        guard let k = interleaved.firstIndex(where: { !$0.isFinite }) else { return }
        let frame = firstFrame + k / channelCount, value = interleaved[k]
        throw .nonFiniteSample(frame: frame, channel: k % channelCount, seconds: Double(frame) / sampleRate,
                               value: value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf"))
    }
}
