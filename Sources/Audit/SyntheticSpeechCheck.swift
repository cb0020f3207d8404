import AudioCore
import AudioIO
import Foundation
public import SynthDetect

/// The `synthetic` check: the synthetic-speech detector's calibrated LLR of each recording (natural log, higher =
/// bona fide), with the manifest's label (`bonafide`/`spoof` and the synonyms `SpoofCorpus.parseLabel` accepts).
/// When the detector's speech gate answers "no speech" (music, tones, noise, silence) the item has no score and the
/// value `no_speech` = 1 (else 0); `speech_score` is the gate's log-odds of speech.
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
        ["model_features": detector.model.features.name, "model_training_sha256": detector.model.training.manifestSHA256,
         "speech_gate_sha256": detector.gate?.training.manifestSHA256 ?? "none",
         "speech_confirmation": detector.voiceActivity == nil ? "none" : "silero-vad"]
    }
    /// None beyond id and path.
    public var requiredColumns: [String] { [] }

    /// Decodes the file and scores it.
    public func run(_ item: AuditItem) throws -> AuditItemResult {
        let audio = try item.readAudio()
        let score = try detector.score(audio)
        let label = SpoofCorpus.parseLabel(item.record.attributes[labelColumn]).map { $0 ? "bonafide" : "spoof" }
        var values = ["duration_seconds": Double(audio.frameCount) / audio.sampleRate,
                      "no_speech": score.decision == .noSpeech ? 1 : 0]
        if let s = score.speechScore { values["speech_score"] = s }
        return AuditItemResult(id: item.id, check: name, score: score.llr, label: label, values: values)
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
