public import AudioCore
public import Foundation
public import Learning
public import Perception

/// A trained synthetic-speech detector: feature configuration, classifier, calibration and what
/// it was trained on. Stored as versioned JSON; loading checks everything before use.
///
/// Scores are calibrated log-likelihood ratios (natural log) of bona fide against synthetic:
/// **higher = more likely bona fide**, 0 = no evidence either way at equal priors.
public struct SynthDetectModel: Sendable, Codable, CheckedModelFile {
    /// File format name.
    public static let formatName = "voiceguard-synthdetect"
    /// Newest format version this build reads and writes.
    public static let currentVersion = 1
    static let fileKind = "model"

    /// Always `formatName`.
    public var format: String
    /// Format version.
    public var version: Int
    /// The features the classifier expects.
    public var features: SpoofFeatureExtractor.Configuration
    /// Back end: `logistic-regression` (utterance vectors) or `lfcc-gmm` (the ASVspoof-style
    /// baseline on speech-frame LFCCs).
    public var backend: String
    /// The classifier of the `logistic-regression` back end (raw scores).
    public var classifier: LogisticRegression?
    /// The mixtures of the `lfcc-gmm` back end.
    public var gmm: GMMPair?
    /// Raw score → calibrated LLR.
    public var calibration: AffineCalibration
    /// LLRs strictly inside this interval get the decision "abstain" (default −1…1 nats: the
    /// evidence is under e:1 either way).
    public var abstainBand: ClosedRange<Double>
    /// Provenance.
    public var training: TrainingInfo

    /// What a model was trained and calibrated on.
    public struct TrainingInfo: Sendable, Codable, Hashable {
        /// SHA-256 of the training manifest file.
        public var manifestSHA256: String
        /// Manifest file names (comma-separated).
        public var manifest: String
        /// Split used for training, and its class counts.
        public var trainSplit: String
        public var trainBonafide: Int
        public var trainSpoof: Int
        /// Split used for calibration, and its class counts.
        public var calibrationSplit: String
        public var calibrationBonafide: Int
        public var calibrationSpoof: Int
        /// Tool version that trained it.
        public var tool: String
        /// Manifest columns whose groups were weighted equally within each class in training (nil: none).
        public var balancedBy: [String]?

        /// Creates provenance information (counts are filled in by `SpoofTrainer`).
        public init(manifestSHA256: String, manifest: String, trainSplit: String, trainBonafide: Int, trainSpoof: Int,
                    calibrationSplit: String, calibrationBonafide: Int, calibrationSpoof: Int, tool: String) {
            self.manifestSHA256 = manifestSHA256
            self.manifest = manifest
            self.trainSplit = trainSplit
            self.trainBonafide = trainBonafide
            self.trainSpoof = trainSpoof
            self.calibrationSplit = calibrationSplit
            self.calibrationBonafide = calibrationBonafide
            self.calibrationSpoof = calibrationSpoof
            self.tool = tool
        }

        enum CodingKeys: String, CodingKey {
            case manifestSHA256 = "manifest_sha256", manifest, tool
            case trainSplit = "train_split", trainBonafide = "train_bonafide", trainSpoof = "train_spoof"
            case calibrationSplit = "calibration_split", calibrationBonafide = "calibration_bonafide"
            case calibrationSpoof = "calibration_spoof", balancedBy = "balanced_by"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, features, backend, classifier, gmm, calibration, training
        case abstainBand = "abstain_band"
    }

    /// Back-end names.
    public static let logisticRegression = "logistic-regression", lfccGMM = "lfcc-gmm"

    /// Creates a logistic-regression model.
    public init(features: SpoofFeatureExtractor.Configuration, classifier: LogisticRegression,
                calibration: AffineCalibration, abstainBand: ClosedRange<Double> = -1...1, training: TrainingInfo) {
        self.init(features: features, backend: Self.logisticRegression, classifier: classifier, gmm: nil,
                  calibration: calibration, abstainBand: abstainBand, training: training)
    }

    /// Creates an LFCC-GMM baseline model.
    public init(features: SpoofFeatureExtractor.Configuration, gmm: GMMPair, calibration: AffineCalibration,
                abstainBand: ClosedRange<Double> = -1...1, training: TrainingInfo) {
        self.init(features: features, backend: Self.lfccGMM, classifier: nil, gmm: gmm,
                  calibration: calibration, abstainBand: abstainBand, training: training)
    }

    private init(features: SpoofFeatureExtractor.Configuration, backend: String, classifier: LogisticRegression?,
                 gmm: GMMPair?, calibration: AffineCalibration, abstainBand: ClosedRange<Double>, training: TrainingInfo) {
        format = Self.formatName
        version = Self.currentVersion
        self.features = features
        self.backend = backend
        self.classifier = classifier
        self.gmm = gmm
        self.calibration = calibration
        self.abstainBand = abstainBand
        self.training = training
    }

    /// Whether the back end scores speech frames (true) or an utterance vector (false).
    public var scoresFrames: Bool { backend == Self.lfccGMM }

    /// The raw (uncalibrated) score of features: an utterance vector, or flat speech-frame LFCCs.
    public func rawScore(_ features: [Float]) -> Double {
        if let gmm { return gmm.score(frames: features) }
        return classifier?.score(features) ?? 0
    }

    /// The calibrated LLR of features (see `rawScore`).
    public func llr(_ features: [Float]) -> Double { calibration(rawScore(features)) }

    /// Decodes and checks a model.
    /// - Parameter path: shown in errors.
    public static func decode(_ data: Data, path: String) throws(SynthDetectError) -> SynthDetectModel {
        try decodeChecked(data, path: path)
    }

    /// Reads and checks a model file.
    public static func load(path: String) throws(SynthDetectError) -> SynthDetectModel { try loadChecked(path: path) }

    /// Largest magnitude of a classifier weight, its bias and the calibration's slope and offset.
    static let coefficientLimit = 10_000.0
    /// Largest magnitude of a feature mean (and of a scale; the smallest scale is its inverse).
    static let featureLimit = 1_000_000.0

    /// Checks format, version, sizes and values, and that the features are the ones this build computes.
    public func validate(path: String) throws(SynthDetectError) {
        guard format == Self.formatName else { throw .badModel(path: path, detail: "format \"\(format)\"; expected \"\(Self.formatName)\"") }
        guard version >= 1, version <= Self.currentVersion else {
            throw .badModel(path: path, detail: "format version \(version); this build reads 1…\(Self.currentVersion)")
        }
        switch backend {
        case Self.logisticRegression:
            guard let classifier else { throw .badModel(path: path, detail: "back end \(backend) without a classifier") }
            let d = features.dimension
            guard classifier.mean.count == d, classifier.scale.count == d, classifier.weights.count == d else {
                throw .badModel(path: path, detail: "classifier sizes \(classifier.mean.count)/\(classifier.scale.count)/\(classifier.weights.count) for \(d) features")
            }
            let values = classifier.weights + [classifier.bias, calibration.slope, calibration.offset]
            guard values.allSatisfy(\.isFinite), classifier.mean.allSatisfy(\.isFinite),
                  classifier.scale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw .badModel(path: path, detail: "non-finite or non-positive values")
            }
            // Finite is not enough: a weight of 1e300 overflows the score to ±infinity (and NaN), which no decision
            // can use. Fitted models stay far inside these bounds.
            guard values.allSatisfy({ abs($0) <= Self.coefficientLimit }),
                  classifier.mean.allSatisfy({ abs(Double($0)) <= Self.featureLimit }),
                  classifier.scale.allSatisfy({ Double($0) >= 1 / Self.featureLimit && Double($0) <= Self.featureLimit }) else {
                throw .badModel(path: path, detail: "values out of range (weights, bias and calibration within ±\(Int(Self.coefficientLimit)); "
                                + "feature means within ±\(Int(Self.featureLimit)), scales \(1 / Self.featureLimit)…\(Int(Self.featureLimit)))")
            }
        case Self.lfccGMM:
            guard let gmm else { throw .badModel(path: path, detail: "back end \(backend) without mixtures") }
            for m in [gmm.bonafide, gmm.spoof] {
                let k = m.weights.count
                guard m.dimension == 60, k > 0, m.means.count == k * 60, m.variances.count == k * 60 else {
                    throw .badModel(path: path, detail: "mixture sizes do not match 60-dimensional LFCC frames")
                }
                guard m.weights.allSatisfy({ $0.isFinite && $0 >= 0 }), m.means.allSatisfy({ $0.isFinite && abs(Double($0)) <= Self.featureLimit }),
                      m.variances.allSatisfy({ $0.isFinite && Double($0) >= 1e-12 && Double($0) <= Self.featureLimit * Self.featureLimit }) else {
                    throw .badModel(path: path, detail: "non-finite or non-positive mixture values")
                }
            }
        default:
            throw .badModel(path: path, detail: "unknown back end \"\(backend)\"; expected logistic-regression or lfcc-gmm")
        }
        guard features.isSupported else {
            throw .modelMismatch(path: path, detail: "trained on features \"\(features.name)\" (\(features.dimension) dims at \(features.sampleRate) Hz); this build computes feature sets of the blocks \(SpoofFeatureBlock.allCases.map(\.rawValue).joined(separator: ", ")) (version \(SpoofFeatureExtractor.Configuration.version)) at 8000 Hz")
        }
        if backend == Self.lfccGMM, features != .standard {
            throw .modelMismatch(path: path, detail: "the lfcc-gmm back end scores LFCC frames and is stored with the standard feature set, not \"\(features.name)\"")
        }
    }

    /// Encodes the model as pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): "missing field \"\(key.stringValue)\""
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
             let DecodingError.dataCorrupted(context):
            context.codingPath.map(\.stringValue).joined(separator: ".") + ": " + context.debugDescription
        default: "\(error)"
        }
    }
}

/// A decision with the abstain band.
public enum SpoofDecision: String, Sendable, Codable {
    /// Evidence for human speech.
    case bonafide
    /// Evidence for synthetic or converted speech.
    case synthetic
    /// Too little evidence either way.
    case abstain
    /// The speech gate found no speech (music, tones, noise, silence): no verdict on synthesis.
    case noSpeech = "no-speech"
}

/// The detector's answer for a recording or segment.
public struct SpoofScore: Sendable, Hashable {
    /// Start and end of what was scored, seconds.
    public var start: Double
    public var end: Double
    /// Calibrated LLR (natural log, higher = bona fide); nil when the decision is `noSpeech`.
    public var llr: Double?
    /// The speech gate's log-odds of speech (natural log); nil without a gate or for silence.
    public var speechScore: Double?
    /// Seconds of speech Silero found when the gate asked it to confirm (it stops at the gate's `confirmSeconds`);
    /// nil when it was not asked.
    public var confirmedSpeechSeconds: Double?
    /// The decision: `noSpeech` when the gate says so (or there is too little speech to score), else from the LLR.
    public var decision: SpoofDecision
}

/// Scores recordings with a model.
public struct SynthDetector: Sendable {
    /// The model.
    public let model: SynthDetectModel
    /// The front end.
    public let extractor: SpoofFeatureExtractor
    /// LLR threshold: bona fide at or above it (outside the abstain band), synthetic below.
    public var threshold: Double = 0
    /// The speech gate (nil: every recording with enough active audio is scored as speech).
    public var gate: SpeechGateModel?
    /// The pretrained voice-activity network that confirms speech the gate is unsure of (nil: the gate decides alone).
    public var voiceActivity: SileroVoiceActivity?

    /// Creates a detector for a model, with a speech gate and its Silero confirmation (default: none).
    public init(model: SynthDetectModel, gate: SpeechGateModel? = nil, voiceActivity: SileroVoiceActivity? = nil) {
        self.model = model
        self.gate = gate
        self.voiceActivity = voiceActivity
        extractor = SpoofFeatureExtractor(model.features)
    }

    /// The score of a whole recording, gated: "no speech" for music, tones, noise and silence.
    /// - Throws: `SynthDetectError.tooShort` when the recording is shorter than the minimum (0.3 s).
    public func score(_ audio: AudioBuffer) throws(SynthDetectError) -> SpoofScore {
        let input = try extractor.detectorInput(of: audio, frameLevel: model.scoresFrames)
        let confirmation = SpeechConfirmation(audio: audio)
        return score(input, confirm: { confirmation.speechSeconds($0, $1, network: $2, enough: $3) })
    }

    /// Gated scores of segments of `seconds` (hop `seconds / 2`; silent segments left out).
    public func segmentScores(_ audio: AudioBuffer, seconds: Double) throws(SynthDetectError) -> [SpoofScore] {
        let confirmation = SpeechConfirmation(audio: audio)
        return try extractor.segmentInputs(of: audio, seconds: seconds, frameLevel: model.scoresFrames).map {
            score($0, confirm: { confirmation.speechSeconds($0, $1, network: $2, enough: $3) })
        }
    }

    /// The gated score of an analysed recording or segment. `confirm(start, end, network, enough)` returns the seconds
    /// of Silero speech windows in start…end seconds of the audio, stopping once it has `enough`.
    public func score(_ input: DetectorInput,
                      confirm: (Double, Double, SileroVoiceActivity, Double) -> Double) -> SpoofScore {
        let llr = input.features.map(model.llr)
        let verdict: SpeechVerdict
        if let gate {
            verdict = withoutActuallyEscaping(confirm) { confirm in
                gate.verdict(input.evidence, confirm: voiceActivity.map { network in
                    { enough in confirm(input.start, input.end, network, enough) }
                })
            }
        } else {
            verdict = SpeechVerdict(isSpeech: input.evidence != nil, score: nil, confirmedSeconds: nil)
        }
        let isSpeech = verdict.isSpeech, speechScore = verdict.score, confirmed = verdict.confirmedSeconds
        let decision = (isSpeech ? llr.map(decision) : nil) ?? .noSpeech
        return SpoofScore(start: input.start, end: input.end, llr: decision == .noSpeech ? nil : llr, speechScore: speechScore,
                          confirmedSpeechSeconds: confirmed, decision: decision)
    }

    /// The decision for an LLR: abstain inside the model's band (shifted by the threshold).
    public func decision(_ llr: Double) -> SpoofDecision {
        let band = (model.abstainBand.lowerBound + threshold)...(model.abstainBand.upperBound + threshold)
        if llr > band.lowerBound && llr < band.upperBound { return .abstain }
        return llr >= threshold ? .bonafide : .synthetic
    }

    /// What the model scores for `audio`: an utterance vector or speech-frame LFCCs.
    public func features(_ audio: AudioBuffer) throws(SynthDetectError) -> [Float] {
        model.scoresFrames ? try extractor.frameFeatures(of: audio) : try extractor.features(of: audio)
    }

    /// The calibrated LLR of a whole recording.
    public func llr(_ audio: AudioBuffer) throws(SynthDetectError) -> Double {
        model.llr(try features(audio))
    }
}
