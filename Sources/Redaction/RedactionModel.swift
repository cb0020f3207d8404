public import Foundation
public import Learning

/// The trained parts of the privacy filter — voice activity classifier, speaker-embedding projection
/// and decision thresholds — stored as versioned JSON (format `voiceguard-redaction`) and checked on load.
public struct RedactionModel: Sendable, Codable {
    /// Format tag.
    public var format = "voiceguard-redaction"
    /// Format version.
    public var version = 1
    /// Voice activity: logistic regression on `VoiceActivityFeatures` (81 values); output = log-odds of speech.
    public var voiceActivity: LogisticRegression
    /// Frames with a speech probability at or above this are speech (0…1).
    public var speechThreshold: Double
    /// Speaker embedding: LDA of `SpeakerFeatures` statistics (80 values), unit length.
    public var speakerProjection: LinearDiscriminant
    /// Fusion of a chunk's cues — [cosine with the primary talker, relative level (dB), tilt (dB)] — into the
    /// log-odds that it is the primary talker.
    public var fusion: LogisticRegression
    /// A chunk is the primary talker when its fused probability is at least this (0…1).
    public var keepThreshold: Double
    /// Dominant mode's fusion: the same cues, with the cosine normalised within the recording
    /// (`PrivacyFilter.normalizedScores`), since the reference comes from the recording itself.
    public var dominantFusion: LogisticRegression
    /// Dominant mode's keep threshold (0…1).
    public var dominantKeepThreshold: Double
    /// Below `keepThreshold − uncertainMargin` a chunk is another talker; in between it is uncertain.
    public var uncertainMargin: Double
    /// What it was trained on.
    public var training: [String: String]

    enum CodingKeys: String, CodingKey {
        case format, version, training
        case voiceActivity = "voice_activity", speechThreshold = "speech_threshold"
        case fusion, dominantFusion = "dominant_fusion", dominantKeepThreshold = "dominant_keep_threshold"
        case speakerProjection = "speaker_projection", keepThreshold = "keep_threshold", uncertainMargin = "uncertain_margin"
    }

    /// Creates a model.
    public init(voiceActivity: LogisticRegression, speechThreshold: Double, speakerProjection: LinearDiscriminant,
                fusion: LogisticRegression, keepThreshold: Double, dominantFusion: LogisticRegression, dominantKeepThreshold: Double,
                uncertainMargin: Double, training: [String: String]) {
        self.dominantFusion = dominantFusion
        self.dominantKeepThreshold = dominantKeepThreshold
        self.voiceActivity = voiceActivity
        self.speechThreshold = speechThreshold
        self.speakerProjection = speakerProjection
        self.fusion = fusion
        self.keepThreshold = keepThreshold
        self.uncertainMargin = uncertainMargin
        self.training = training
    }

    /// Decodes and checks a model.
    /// - Throws: `RedactionError.badModel` naming what is wrong.
    public static func decode(_ data: Data, path: String) throws(RedactionError) -> RedactionModel {
        let model: RedactionModel
        do { model = try JSONDecoder().decode(RedactionModel.self, from: data) } catch {
            throw .badModel(path: path, detail: "not a redaction model JSON (\(error))")
        }
        guard model.format == "voiceguard-redaction" else { throw .badModel(path: path, detail: "format \"\(model.format)\"; expected voiceguard-redaction") }
        guard model.version == 1 else { throw .badModel(path: path, detail: "version \(model.version); this build reads version 1") }
        let vad = model.voiceActivity
        guard vad.weights.count == VoiceActivityFeatures.dimension, vad.mean.count == vad.weights.count, vad.scale.count == vad.weights.count,
              (vad.weights + [vad.bias]).allSatisfy(\.isFinite) else {
            throw .badModel(path: path, detail: "voice activity classifier has \(vad.weights.count) weights; expected \(VoiceActivityFeatures.dimension)")
        }
        let lda = model.speakerProjection
        guard lda.inputDimension == SpeakerFeatures.statisticsDimension, lda.outputDimension >= 1,
              lda.projection.count == lda.outputDimension * lda.inputDimension, lda.projection.allSatisfy(\.isFinite) else {
            throw .badModel(path: path, detail: "speaker projection \(lda.outputDimension)×\(lda.inputDimension); expected input \(SpeakerFeatures.statisticsDimension)")
        }
        for fusion in [model.fusion, model.dominantFusion] {
            guard fusion.weights.count == 3, fusion.mean.count == 3, fusion.scale.count == 3,
                  (fusion.weights + [fusion.bias]).allSatisfy(\.isFinite) else {
                throw .badModel(path: path, detail: "fusion has \(fusion.weights.count) weights; expected 3")
            }
        }
        guard (0...1).contains(model.speechThreshold), (0...1).contains(model.keepThreshold), (0...1).contains(model.dominantKeepThreshold),
              model.uncertainMargin >= 0 else {
            throw .badModel(path: path, detail: "thresholds out of range")
        }
        return model
    }

    /// Probability (0…1) that a chunk with these cues is the primary talker.
    /// - Parameter dominant: use dominant mode's fusion (the score is then the within-recording normalised cosine).
    public func primaryProbability(score: Float, relativeLevelDB: Float, tiltDB: Float, dominant: Bool = false) -> Float {
        let z = (dominant ? dominantFusion : fusion).score([score, relativeLevelDB, tiltDB])
        return Float(1 / (1 + Foundation.exp(-z)))
    }

    /// Loads a model file.
    public static func load(path: String) throws(RedactionError) -> RedactionModel {
        guard let data = FileManager.default.contents(atPath: path) else { throw .badModel(path: path, detail: "cannot read the file") }
        return try decode(data, path: path)
    }

    /// The model built into this binary (`make redaction-model`).
    public static var bundled: RedactionModel? {
        bundledRedactionJSON.flatMap { try? decode(Data($0.utf8), path: "<built-in redaction model>") }
    }

    /// Pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
