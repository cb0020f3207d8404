public import Foundation
public import Learning

/// The privacy filter's decision thresholds over its pretrained perception (Silero VAD speech probabilities and
/// GE2E speaker cosines), stored as versioned JSON (format `voiceguard-redaction`, version 2) and checked on load.
/// The networks themselves are not in it: they are the pinned pretrained weight files (`PretrainedWeights`).
/// `voiceguard redact-train` fits the thresholds on training mixtures; the built-in model is `make redaction-model`'s.
public struct RedactionModel: Sendable, Codable, Equatable {
    /// Format tag.
    public var format = "voiceguard-redaction"
    /// Format version (2: pretrained perception).
    public var version = 2
    /// A frame starts speech when its Silero probability is at least this (0…1).
    public var speechOnThreshold: Double
    /// A frame continues speech while its probability is at least this (0…speechOnThreshold): hysteresis.
    public var speechOffThreshold: Double
    /// Frames with a probability at least this but not speech are possible speech: removed unless next to the primary
    /// talker (0…speechOffThreshold).
    public var possibleSpeechThreshold: Double
    /// Enrolled mode: fusion of [speaker score against the enrollment, level of the segment's speech relative to the
    /// loudest speech so far (dB)] into the log-odds that speech is the primary talker.
    public var fusion: LogisticRegression
    /// Dominant mode's fusion (the score is against the recording's dominant talker).
    public var dominantFusion: LogisticRegression
    /// Enrolled mode: speech whose fused probability is at least this is the primary talker (0…1).
    public var keepThreshold: Double
    /// Dominant mode: the same (0…1).
    public var dominantKeepThreshold: Double
    /// Below `keep − uncertainMargin` speech is another talker; in between it is uncertain (removed by default).
    public var uncertainMargin: Double
    /// Enrolled mode: speech scoring below this against the enrollment is never kept, however loud (fail closed).
    public var scoreFloor: Double
    /// Enrolled mode: nothing is kept until the recording's presence score (`PrivacyFilter.presenceScore`: one
    /// talker's segments, 2 s of speech or more, averaged) has reached this against the enrollment — the enrolled talker
    /// is confirmed present; an absent talker rarely is.
    public var confirmThreshold: Double
    /// Enrolled mode: segments whose embeddings have at least this cosine are one talker for the presence check (0…1).
    public var presenceNeighbourhood: Double
    /// Score-normalisation cohort: unit-length GE2E embeddings of training talkers (one per talker); empty = raw cosines.
    public var cohort: [[Float]] = []
    /// Dominant mode: segments whose embeddings have at least this cosine are one talker (0…1).
    public var dominantNeighbourhood: Double
    /// What it was fitted on.
    public var training: [String: String]

    enum CodingKeys: String, CodingKey {
        case format, version, training
        case speechOnThreshold = "speech_on_threshold", speechOffThreshold = "speech_off_threshold"
        case possibleSpeechThreshold = "possible_speech_threshold", keepThreshold = "keep_threshold"
        case dominantKeepThreshold = "dominant_keep_threshold", uncertainMargin = "uncertain_margin"
        case dominantNeighbourhood = "dominant_neighbourhood", cohort, fusion, dominantFusion = "dominant_fusion"
        case scoreFloor = "score_floor", confirmThreshold = "confirm_threshold", presenceNeighbourhood = "presence_neighbourhood"
    }

    /// Creates a model.
    public init(speechOnThreshold: Double = 0.5, speechOffThreshold: Double = 0.35, possibleSpeechThreshold: Double = 0.05,
                fusion: LogisticRegression = .scoreOnly, dominantFusion: LogisticRegression = .scoreOnly,
                keepThreshold: Double, dominantKeepThreshold: Double, uncertainMargin: Double = 0.05,
                scoreFloor: Double = 0, confirmThreshold: Double = 0, presenceNeighbourhood: Double = 0.75,
                dominantNeighbourhood: Double = 0.75, cohort: [[Float]] = [], training: [String: String] = [:]) {
        self.cohort = cohort
        self.fusion = fusion
        self.dominantFusion = dominantFusion
        self.scoreFloor = scoreFloor
        self.confirmThreshold = confirmThreshold
        self.presenceNeighbourhood = presenceNeighbourhood
        self.speechOnThreshold = speechOnThreshold
        self.speechOffThreshold = speechOffThreshold
        self.possibleSpeechThreshold = possibleSpeechThreshold
        self.keepThreshold = keepThreshold
        self.dominantKeepThreshold = dominantKeepThreshold
        self.uncertainMargin = uncertainMargin
        self.dominantNeighbourhood = dominantNeighbourhood
        self.training = training
    }

    /// Decodes and checks a model.
    /// - Throws: `RedactionError.badModel` naming what is wrong.
    public static func decode(_ data: Data, path: String) throws(RedactionError) -> RedactionModel {
        struct Header: Decodable { var format: String?; var version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw .badModel(path: path, detail: "not a JSON object")
        }
        guard header.format == "voiceguard-redaction" else {
            throw .badModel(path: path, detail: "format \"\(header.format ?? "none")\"; expected voiceguard-redaction")
        }
        guard header.version == 2 else {
            throw .badModel(path: path, detail: "version \(header.version.map(String.init) ?? "none"); this build reads version 2 "
                            + "(version 1 models held the old MFCC/LDA parts: refit with voiceguard redact-train)")
        }
        let model: RedactionModel
        do { model = try JSONDecoder().decode(RedactionModel.self, from: data) } catch {
            throw .badModel(path: path, detail: "fields missing or mistyped (\(error))")
        }
        let thresholds = [model.speechOnThreshold, model.speechOffThreshold, model.possibleSpeechThreshold, model.dominantNeighbourhood,
                          model.presenceNeighbourhood,
                          model.keepThreshold, model.dominantKeepThreshold]
        guard thresholds.allSatisfy({ $0.isFinite && (0...1).contains($0) }),
              [model.scoreFloor, model.confirmThreshold, model.uncertainMargin].allSatisfy({ $0.isFinite && abs($0) <= 100 }),
              model.uncertainMargin >= 0,
              model.speechOffThreshold <= model.speechOnThreshold, model.possibleSpeechThreshold <= model.speechOffThreshold else {
            throw .badModel(path: path, detail: "thresholds out of range (probabilities and neighbourhood 0…1, possible ≤ off ≤ on; floors finite)")
        }
        for (name, f) in [("fusion", model.fusion), ("dominant_fusion", model.dominantFusion)] {
            guard f.weights.count == 2, f.mean.count == 2, f.scale.count == 2 else {
                throw .badModel(path: path, detail: "\(name) has \(f.weights.count) weights, \(f.mean.count) means, \(f.scale.count) scales; "
                                + "expected 2 each (score, relative level)")
            }
            // A fusion that cannot be evaluated (scale 0, a mean of 3e38, a bias of −1e30) would decide nothing and keep
            // every voice: each field must be finite and in a range no fitted model leaves.
            guard f.mean.allSatisfy({ $0.isFinite && abs(Double($0)) <= Self.fusionMagnitudeLimit }),
                  f.scale.allSatisfy({ $0.isFinite && $0 >= 1e-6 && Double($0) <= Self.fusionMagnitudeLimit }),
                  (f.weights + [f.bias]).allSatisfy({ $0.isFinite && abs($0) <= Self.fusionMagnitudeLimit }) else {
                throw .badModel(path: path, detail: "\(name) out of range (means and weights finite with magnitude ≤ "
                                + "\(Int(Self.fusionMagnitudeLimit)), scales 1e-6…\(Int(Self.fusionMagnitudeLimit)))")
            }
        }
        guard model.cohort.allSatisfy({ $0.count == 256 && $0.allSatisfy(\.isFinite) }) else {
            throw .badModel(path: path, detail: "cohort embeddings must have 256 finite values each")
        }
        return model
    }

    /// Largest magnitude a fusion mean, scale, weight or bias may have (fitted models stay below 20).
    static let fusionMagnitudeLimit = 1_000.0

    /// Probability (0…1) that speech with this speaker score and relative level (dB) is the primary talker.
    public func primaryProbability(score: Float, relativeLevelDB: Float, dominant: Bool) -> Float {
        let z = (dominant ? dominantFusion : fusion).score([score, relativeLevelDB])
        return Float(1 / (1 + Foundation.exp(-z)))
    }

    /// Loads a model file.
    public static func load(path: String) throws(RedactionError) -> RedactionModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badModel(path: path, detail: "cannot read the file") }
        return try decode(data, path: path)
    }

    /// The model built into this binary (`make redaction-model`).
    public static var bundled: RedactionModel {
        // The embedded JSON is checked by a test; a build whose embedded model does not decode is a build error in spirit.
        (try? decode(Data(bundledRedactionJSON.utf8), path: "<built-in redaction model>"))!
    }

    /// Pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

extension LogisticRegression {
    /// A fusion that passes the speaker score through unchanged in log-odds (level ignored): z = 10·(score − 0.75).
    public static let scoreOnly = LogisticRegression(mean: [0.75, 0], scale: [0.1, 1], weights: [1, 0], bias: 0)
}
