public import Foundation

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
    /// Enrolled mode: speech whose GE2E cosine with the enrollment is at least this is the primary talker (0…1).
    public var keepThreshold: Double
    /// Dominant mode: the same with the recording's dominant talker (0…1).
    public var dominantKeepThreshold: Double
    /// Below `keep − uncertainMargin` speech is another talker; in between it is uncertain (removed by default).
    public var uncertainMargin: Double
    /// Dominant mode: segments whose embeddings have at least this cosine are one talker (0…1).
    public var dominantNeighbourhood: Double
    /// What it was fitted on.
    public var training: [String: String]

    enum CodingKeys: String, CodingKey {
        case format, version, training
        case speechOnThreshold = "speech_on_threshold", speechOffThreshold = "speech_off_threshold"
        case possibleSpeechThreshold = "possible_speech_threshold", keepThreshold = "keep_threshold"
        case dominantKeepThreshold = "dominant_keep_threshold", uncertainMargin = "uncertain_margin"
        case dominantNeighbourhood = "dominant_neighbourhood"
    }

    /// Creates a model.
    public init(speechOnThreshold: Double = 0.5, speechOffThreshold: Double = 0.35, possibleSpeechThreshold: Double = 0.15,
                keepThreshold: Double, dominantKeepThreshold: Double, uncertainMargin: Double = 0.05,
                dominantNeighbourhood: Double = 0.75, training: [String: String] = [:]) {
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
        let thresholds = [model.speechOnThreshold, model.speechOffThreshold, model.possibleSpeechThreshold, model.keepThreshold,
                          model.dominantKeepThreshold, model.uncertainMargin, model.dominantNeighbourhood]
        guard thresholds.allSatisfy({ $0.isFinite && (0...1).contains($0) }),
              model.speechOffThreshold <= model.speechOnThreshold, model.possibleSpeechThreshold <= model.speechOffThreshold else {
            throw .badModel(path: path, detail: "thresholds out of range (each 0…1; possible ≤ off ≤ on)")
        }
        return model
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
