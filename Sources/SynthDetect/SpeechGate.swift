public import Foundation
public import Learning

/// Whether audio holds speech at all, decided before the synthetic-speech detector's score is used, so that
/// music, tones, noise and silence get "no speech" instead of a bona fide (or synthetic) verdict.
///
/// The evidence is 31 statistics of the detector's own 8 kHz frame analysis (10 ms frames; nothing else is
/// computed but a pitch track and a spectral peak per frame), chosen for what separates speech from other sound
/// whatever its language or synthesizer: syllabic energy modulation (2–8 Hz), the dips between syllables, voicing
/// that comes and goes with a moving pitch, and rapid spectral change; see `SpeechEvidence.names`. A logistic
/// regression (`voiceguard gate-train`, fitted on speech of both classes against the corpora's `nonspeech` set)
/// turns them into a log-odds of speech.
///
/// The decision (`SynthDetector.score`), in order: nothing above the silence floor → no speech; log-odds at or above
/// `confirmAbove` → speech; otherwise, when the pretrained Silero VAD is available, speech if and only if it finds at
/// least `confirmSeconds` of 32 ms windows with speech probability ≥ 0.5 (it stops as soon as it has; music, tones
/// and noise make it run over the whole recording, speech rarely needs it); without Silero, speech if and only if the
/// log-odds is at least `threshold`.
public struct SpeechGateModel: Sendable, Codable, Hashable, CheckedModelFile {
    /// File format name.
    public static let formatName = "voiceguard-speechgate"
    /// Newest format version this build reads and writes.
    public static let currentVersion = 1
    static let fileKind = "speech-gate"

    /// Always `formatName`.
    public var format: String
    /// Format version.
    public var version: Int
    /// Names of the evidence statistics, in order (must equal `SpeechEvidence.names`).
    public var evidence: [String]
    /// Log-odds of speech (positive class) from the evidence.
    public var classifier: LogisticRegression
    /// Without Silero: log-odds below this are "no speech" (natural log; chosen in training so that ≤ 0.5 % of the
    /// training speech falls below it, and never above 0).
    public var threshold: Double
    /// Log-odds from which speech needs no confirmation by Silero: the training speech's `confirmShare` quantile
    /// (a cost budget: that share of speech runs Silero until it finds `confirmSeconds`), never below `threshold`.
    public var confirmAbove: Double
    /// Seconds of Silero speech windows (probability ≥ 0.5) that confirm speech below `confirmAbove`.
    public var confirmSeconds: Double
    /// Provenance.
    public var training: Training

    /// What a gate was fitted on.
    public struct Training: Sendable, Codable, Hashable {
        /// Manifest file names (comma-separated) and the SHA-256 of their concatenation.
        public var manifests: String
        public var manifestSHA256: String
        /// Training examples: speech (both classes; plus speech over music) and non-speech.
        public var speech: Int
        public var nonSpeech: Int
        /// Share of the training speech below `threshold`, and of the training non-speech at or above it.
        public var speechRejected: Double
        public var nonSpeechAccepted: Double
        /// Share of the training speech below `confirmAbove` (what Silero confirms when it is available).
        public var speechToConfirm: Double
        /// Tool version that trained it.
        public var tool: String

        /// Creates provenance information.
        public init(manifests: String, manifestSHA256: String, speech: Int, nonSpeech: Int, speechRejected: Double,
                    nonSpeechAccepted: Double, speechToConfirm: Double, tool: String) {
            self.speechToConfirm = speechToConfirm
            self.manifests = manifests
            self.manifestSHA256 = manifestSHA256
            self.speech = speech
            self.nonSpeech = nonSpeech
            self.speechRejected = speechRejected
            self.nonSpeechAccepted = nonSpeechAccepted
            self.tool = tool
        }

        enum CodingKeys: String, CodingKey {
            case manifests, tool, speech
            case manifestSHA256 = "manifest_sha256", nonSpeech = "non_speech"
            case speechRejected = "speech_rejected", nonSpeechAccepted = "non_speech_accepted"
            case speechToConfirm = "speech_to_confirm"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, evidence, classifier, threshold, training
        case confirmAbove = "confirm_above", confirmSeconds = "confirm_seconds"
    }

    /// Creates a gate.
    public init(classifier: LogisticRegression, threshold: Double, confirmAbove: Double, confirmSeconds: Double = 0.1,
                training: Training) {
        format = Self.formatName
        version = Self.currentVersion
        evidence = SpeechEvidence.names
        self.classifier = classifier
        self.threshold = threshold
        self.confirmAbove = max(confirmAbove, threshold)
        self.confirmSeconds = confirmSeconds
        self.training = training
    }

    /// The log-odds of speech of an evidence vector (natural log; higher = more likely speech).
    public func score(_ evidence: [Float]) -> Double { classifier.score(evidence) }

    /// Whether a log-odds of speech counts as speech without Silero.
    public func isSpeech(_ score: Double) -> Bool { score >= threshold }

    /// Whether a log-odds of speech needs Silero's confirmation (when Silero is available).
    public func needsConfirmation(_ score: Double) -> Bool { score < confirmAbove }

    /// The decision for one recording or segment (see the type's description).
    /// - Parameters:
    ///   - evidence: its `SpeechEvidence` (nil: silence).
    ///   - confirm: Silero's speech seconds in it, counted up to the argument (nil: Silero unavailable).
    public func verdict(_ evidence: [Float]?, confirm: ((Double) -> Double)?) -> SpeechVerdict {
        guard let evidence else { return SpeechVerdict(isSpeech: false, score: nil, confirmedSeconds: nil) }
        let s = score(evidence)
        if !needsConfirmation(s) { return SpeechVerdict(isSpeech: true, score: s, confirmedSeconds: nil) }
        guard let confirm else { return SpeechVerdict(isSpeech: isSpeech(s), score: s, confirmedSeconds: nil) }
        let seconds = confirm(confirmSeconds)
        return SpeechVerdict(isSpeech: seconds >= confirmSeconds, score: s, confirmedSeconds: seconds)
    }

    /// Decodes and checks a gate. - Parameter path: shown in errors.
    public static func decode(_ data: Data, path: String) throws(SynthDetectError) -> SpeechGateModel {
        try decodeChecked(data, path: path)
    }

    /// Reads and checks a gate file.
    public static func load(path: String) throws(SynthDetectError) -> SpeechGateModel { try loadChecked(path: path) }

    /// Checks format, version, evidence names, sizes and values.
    public func validate(path: String) throws(SynthDetectError) {
        guard format == Self.formatName else { throw .badModel(path: path, detail: "format \"\(format)\"; expected \"\(Self.formatName)\"") }
        guard (1...Self.currentVersion).contains(version) else {
            throw .badModel(path: path, detail: "format version \(version); this build reads 1…\(Self.currentVersion)")
        }
        guard evidence == SpeechEvidence.names else {
            throw .modelMismatch(path: path, detail: "speech evidence [\(evidence.joined(separator: ", "))]; this build computes [\(SpeechEvidence.names.joined(separator: ", "))]")
        }
        let d = SpeechEvidence.names.count
        guard classifier.mean.count == d, classifier.scale.count == d, classifier.weights.count == d else {
            throw .badModel(path: path, detail: "classifier sizes \(classifier.mean.count)/\(classifier.scale.count)/\(classifier.weights.count) for \(d) statistics")
        }
        guard (classifier.weights + [classifier.bias, threshold, confirmAbove]).allSatisfy(\.isFinite), confirmSeconds > 0,
              confirmSeconds.isFinite, classifier.mean.allSatisfy(\.isFinite),
              classifier.scale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw .badModel(path: path, detail: "non-finite or non-positive values")
        }
        // The detector model's bounds: beyond them a score overflows (see SynthDetectModel.validate).
        let limit = SynthDetectModel.coefficientLimit, features = SynthDetectModel.featureLimit
        guard (classifier.weights + [classifier.bias, threshold, confirmAbove]).allSatisfy({ abs($0) <= limit }), confirmSeconds <= 3_600,
              classifier.mean.allSatisfy({ abs(Double($0)) <= features }),
              classifier.scale.allSatisfy({ Double($0) >= 1 / features && Double($0) <= features }) else {
            throw .badModel(path: path, detail: "values out of range (weights, bias and thresholds within ±\(Int(limit)); statistic "
                            + "means within ±\(Int(features)), scales \(1 / features)…\(Int(features)); confirmation ≤ 3600 s)")
        }
    }

    /// Encodes the gate as pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The gate shipped with this build (see `Models/README.md`), or nil when none is bundled.
    public static func bundledDefault() throws(SynthDetectError) -> SpeechGateModel? {
        guard let json = bundledSpeechGateJSON else { return nil }
        return try decode(Data(json.utf8), path: "(built-in speech gate)")
    }

    /// Fits a gate: speech examples (positive) against non-speech examples.
    /// - Parameters:
    ///   - speech / nonSpeech: evidence vectors (`SpeechEvidence.names.count` values each).
    ///   - groups: optional group of each example, speech first then non-speech (e.g. kind or family): each class's
    ///     weight is shared equally among its groups.
    /// - Throws: `SynthDetectError.badTrainingData` when a class is missing.
    ///   - confirmShare: share of the training speech (0…1) whose score Silero is asked to confirm (`confirmAbove`).
    public static func fit(speech: [[Float]], nonSpeech: [[Float]], groups: [String]? = nil, confirmShare: Double = 0.1,
                           manifests: String, manifestSHA256: String, tool: String) throws(SynthDetectError) -> SpeechGateModel {
        let labels = [Bool](repeating: true, count: speech.count) + [Bool](repeating: false, count: nonSpeech.count)
        let classifier: LogisticRegression
        do {
            classifier = try LogisticRegression.train(features: speech + nonSpeech, labels: labels, groups: groups, l2: 1e-2)
        } catch {
            throw SynthDetectError(error)
        }
        let speechScores = speech.map(classifier.score).sorted()
        let quantile = speechScores[min(speechScores.count - 1, Int(Double(speechScores.count) * 0.005))]
        let threshold = min(0, quantile)
        let rejected = Double(speechScores.filter { $0 < threshold }.count) / Double(speechScores.count)
        let nonSpeechScores = nonSpeech.map(classifier.score).sorted()
        let accepted = Double(nonSpeechScores.filter { $0 >= threshold }.count) / Double(nonSpeech.count)
        let confirmAbove = max(threshold, speechScores[min(speechScores.count - 1, Int(Double(speechScores.count) * min(1, max(0, confirmShare))))])
        let toConfirm = Double(speechScores.filter { $0 < confirmAbove }.count) / Double(speechScores.count)
        return SpeechGateModel(classifier: classifier, threshold: threshold, confirmAbove: confirmAbove, training: Training(
            manifests: manifests, manifestSHA256: manifestSHA256, speech: speech.count, nonSpeech: nonSpeech.count,
            speechRejected: rejected, nonSpeechAccepted: accepted, speechToConfirm: toConfirm, tool: tool))
    }
}

/// What the speech gate decided.
public struct SpeechVerdict: Sendable, Hashable {
    /// Whether the audio holds speech.
    public var isSpeech: Bool
    /// The gate's log-odds of speech (nil for silence).
    public var score: Double?
    /// Seconds of speech Silero found when asked to confirm (nil when not asked).
    public var confirmedSeconds: Double?
}

/// The statistics the speech gate decides on (`SpoofFeatureExtractor.speechEvidence`).
public enum SpeechEvidence {
    /// Names, in order (stored in gate files so a gate is only used with the evidence it was fitted on):
    /// - `dips_20db` / `dips_10db`: share of 10 ms frames between the first and last active frame more than 20 / 10 dB
    ///   below the 95th-percentile frame energy (the gaps between syllables and words; 0…1);
    /// - `energy_spread_db`: standard deviation of frame energy over that span (floored 40 dB below the reference; dB);
    /// - `syllabic_modulation`: share of the energy envelope's modulation power (0.5–25 Hz) in 2–8 Hz (0…1);
    /// - `voiced_share`: share of active frames the pitch tracker finds voiced (0…1);
    /// - `pitch_step_st`: median |change| of F0 between consecutive voiced frames (semitones);
    /// - `pitch_spread_st`: standard deviation of F0 over voiced frames (semitones);
    /// - `voiced_run_log`: log(1 + mean length of voiced runs in frames);
    /// - `peak_to_mean_db` / `peak_to_mean_spread_db`: mean and standard deviation over active frames of the strongest
    ///   62.5–4000 Hz spectral bin relative to the mean bin (tones: high and steady; dB);
    /// - `spectral_change`: mean Euclidean norm of the LFCC deltas Δc1…Δc19 over active frames;
    /// - `tilt_spread`: standard deviation over active frames of the 100–600 Hz minus 1.3–2.3 kHz log band energy
    ///   (vowels against fricatives; natural log);
    /// - `active_share`: share of frames above the floor that are within 35 dB of the reference (0…1);
    /// - `voicing_onsets_per_s`: unvoiced-to-voiced transitions per second of the span (syllables);
    /// - `low_band_modulation`: `syllabic_modulation` of the 100–600 Hz band's log energy;
    /// - `lfcc<k>_mean` / `lfcc<k>_spread`, k = 1…8: mean and standard deviation of LFCC c1…c8 (spectral envelope).
    public static let names = ["dips_20db", "dips_10db", "energy_spread_db", "syllabic_modulation", "voiced_share",
                               "pitch_step_st", "pitch_spread_st", "voiced_run_log", "peak_to_mean_db",
                               "peak_to_mean_spread_db", "spectral_change", "tilt_spread", "active_share",
                               "voicing_onsets_per_s", "low_band_modulation"]
        + (1...8).flatMap { ["lfcc\($0)_mean", "lfcc\($0)_spread"] }
}
