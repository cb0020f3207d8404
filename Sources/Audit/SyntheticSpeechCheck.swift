import AudioCore
import AudioIO
import Foundation
public import SynthDetect

/// The `synthetic` check: the synthetic-speech detector's calibrated LLR of each recording (natural log, higher =
/// bona fide), with the manifest's label (`bonafide`/`spoof` and the synonyms `SpoofCorpus.parseLabel` accepts).
public struct SyntheticSpeechCheck: AuditCheck {
    /// The detector.
    public let detector: SynthDetector
    /// Column holding the ground-truth label (optional: without it only the flag rate is defined).
    public let labelColumn: String

    /// Creates the check.
    public init(detector: SynthDetector, labelColumn: String = "label") {
        self.detector = detector
        self.labelColumn = labelColumn
    }

    /// `synthetic`.
    public var name: String { "synthetic" }
    /// The model's feature set and the SHA-256 of its training manifest.
    public var versions: [String: String] {
        ["model_features": detector.model.features.name, "model_training_sha256": detector.model.training.manifestSHA256]
    }
    /// None beyond id and path.
    public var requiredColumns: [String] { [] }

    /// Decodes the file and scores it.
    public func run(_ item: AuditItem) throws -> AuditItemResult {
        let audio = try item.readAudio()
        let llr = try detector.llr(audio)
        let label = SpoofCorpus.parseLabel(item.record.attributes[labelColumn]).map { $0 ? "bonafide" : "spoof" }
        return AuditItemResult(id: item.id, check: name, score: llr, label: label,
                               values: ["duration_seconds": Double(audio.frameCount) / audio.sampleRate])
    }
}

/// A stand-in check for testing the framework without a detector: the score is the recording's RMS level in dBFS
/// (a real measurement, but not a detector), the label comes from the label column as for `synthetic`.
public struct LevelCheck: AuditCheck {
    /// Column holding the label.
    public let labelColumn: String

    /// Creates the check.
    public init(labelColumn: String = "label") { self.labelColumn = labelColumn }

    /// `level`.
    public var name: String { "level" }
    /// The tool version only.
    public var versions: [String: String] { [:] }
    /// None beyond id and path.
    public var requiredColumns: [String] { [] }

    /// Decodes the file and measures its level.
    public func run(_ item: AuditItem) throws -> AuditItemResult {
        let audio = try item.readAudio()
        var energy = 0.0
        for s in audio.samples { energy += Double(s) * Double(s) }
        let rms = audio.samples.isEmpty ? 0 : (energy / Double(audio.samples.count)).squareRoot()
        let label = SpoofCorpus.parseLabel(item.record.attributes[labelColumn]).map { $0 ? "bonafide" : "spoof" }
        return AuditItemResult(id: item.id, check: name, score: 20 * log10(max(rms, 1e-10)), label: label,
                               values: ["duration_seconds": Double(audio.frameCount) / audio.sampleRate])
    }
}
