public import Evaluation

/// One item reduced to what the metrics read: score, class, and up to four numbers whose meaning depends on the check.
public struct MeasuredItem: Sendable, Hashable {
    /// Score (synthetic: LLR, higher = bona fide).
    public var score: Double
    /// 1 target / positive (bona fide, watermarked), 0 non-target, −1 unlabelled.
    public var label: Int8
    /// Check-specific numbers (watermark: detected, payload correct; redaction: leaked, background, kept, primary frames).
    public var a = 0.0, b = 0.0, c = 0.0, d = 0.0
}

/// How a metric is read.
public struct MetricInfo: Sendable, Hashable, Codable {
    /// Name in outputs (`eer`, `fpr`, …).
    public var name: String
    /// What it measures, in words (units, polarity).
    public var meaning: String
    /// Lower values are better.
    public var lowerIsBetter: Bool
    /// A rate compared by ratio: parity flags apply.
    public var isRate: Bool
}

/// The metrics of a check, computed from a sample of items. Implementations compute every metric in one pass over
/// the sample (the bootstrap calls this thousands of times).
public protocol MetricSuite: Sendable {
    /// The metrics, in report order.
    var metrics: [MetricInfo] { get }
    /// Reduces a result to what the metrics read (nil: the result does not count, e.g. no score).
    func measure(_ result: AuditItemResult) -> MeasuredItem?
    /// Every metric of a sample (nil where undefined, e.g. an empty class).
    func evaluate(_ sample: [MeasuredItem]) -> [Double?]
}

/// Synthetic-speech detection: the detector's LLR against bona fide / spoof labels.
public struct SyntheticSpeechMetrics: MetricSuite {
    /// The operating threshold on the LLR (bona fide at or above).
    public var threshold: Double
    /// Costs of minDCF / actDCF (ASVspoof 5 by default).
    public var cost: CostMetrics.CostModel

    /// Creates the suite.
    public init(threshold: Double = 0, cost: CostMetrics.CostModel = .asvspoof5) {
        self.threshold = threshold
        self.cost = cost
    }

    /// The metrics: EER, minDCF, actDCF, Cllr, FPR and FNR at the threshold, the share of all items flagged, and the
    /// per-group-threshold what-if (each group's own equal-error threshold and its FPR/FNR there).
    public var metrics: [MetricInfo] {
        [MetricInfo(name: "eer", meaning: "equal error rate (0–1)", lowerIsBetter: true, isRate: true),
         MetricInfo(name: "min_dcf", meaning: "minimum normalised DCF (ASVspoof 5 costs)", lowerIsBetter: true, isRate: false),
         MetricInfo(name: "act_dcf", meaning: "actual normalised DCF at the Bayes threshold of the LLR (calibration)", lowerIsBetter: true, isRate: false),
         MetricInfo(name: "cllr", meaning: "log-likelihood-ratio cost, bits (calibration; 1 = uninformative)", lowerIsBetter: true, isRate: false),
         MetricInfo(name: "fpr", meaning: "bona fide flagged as synthetic at the operating threshold (0–1)", lowerIsBetter: true, isRate: true),
         MetricInfo(name: "fnr", meaning: "synthetic passed as bona fide at the operating threshold (0–1)", lowerIsBetter: true, isRate: true),
         MetricInfo(name: "flag_rate", meaning: "all items flagged as synthetic at the operating threshold (0–1)", lowerIsBetter: false, isRate: true),
         MetricInfo(name: "own_threshold", meaning: "what-if: the group's own equal-error LLR threshold", lowerIsBetter: false, isRate: false),
         MetricInfo(name: "fpr_own_threshold", meaning: "what-if: FPR at the group's own threshold", lowerIsBetter: true, isRate: true),
         MetricInfo(name: "fnr_own_threshold", meaning: "what-if: FNR at the group's own threshold", lowerIsBetter: true, isRate: true)]
    }

    /// Score and class: `bonafide` → 1, `spoof` → 0, anything else unlabelled.
    public func measure(_ result: AuditItemResult) -> MeasuredItem? {
        guard let score = result.score, score.isFinite else { return nil }
        let label: Int8 = switch result.label { case "bonafide": 1; case "spoof": 0; default: -1 }
        return MeasuredItem(score: score, label: label)
    }

    /// Every metric of a sample.
    public func evaluate(_ sample: [MeasuredItem]) -> [Double?] {
        let trials = sample.filter { $0.label >= 0 }.map { ScoredTrial(score: $0.score, isTarget: $0.label == 1) }
        let flagged = sample.isEmpty ? nil : Double(sample.filter { $0.score < threshold }.count) / Double(sample.count)
        let curve = CostMetrics.detCurve(trials)
        guard !curve.isEmpty else { return [nil, nil, nil, nil, nil, nil, flagged, nil, nil, nil] }
        let point = CostMetrics.operatingPoint(trials, threshold: threshold)
        // Own threshold: the DET point where miss and false-alarm rates are closest.
        let own = curve.min { abs($0.missRate - $0.falseAlarmRate) < abs($1.missRate - $1.falseAlarmRate) }!
        return [DetectionMetrics.equalErrorRate(curve: curve), CostMetrics.minimumDCF(curve: curve, cost: cost),
                CostMetrics.actualDCF(trials, cost: cost), CostMetrics.cllr(trials),
                point.missRate, point.falseAlarmRate, flagged,
                own.threshold.isFinite ? own.threshold : nil, own.missRate, own.falseAlarmRate]
    }
}

/// Watermark detection: `a` = detected on the marked copy (0/1), `b` = payload decoded exactly (0/1), `c` = a mark
/// reported on the unmarked original (0/1).
public struct WatermarkMetrics: MetricSuite {
    /// Creates the suite.
    public init() {}

    /// Detection rate and payload accuracy on the marked copies, false positives on the originals.
    public var metrics: [MetricInfo] {
        [MetricInfo(name: "detection_rate", meaning: "marked copies where the mark was found (0–1)", lowerIsBetter: false, isRate: true),
         MetricInfo(name: "payload_accuracy", meaning: "marked copies whose payload was decoded exactly (0–1)", lowerIsBetter: false, isRate: true),
         MetricInfo(name: "false_positive_rate", meaning: "unmarked originals where a mark was reported (0–1)", lowerIsBetter: true, isRate: true)]
    }

    /// Detected / payload / false-positive flags.
    public func measure(_ result: AuditItemResult) -> MeasuredItem? {
        guard let detected = result.values["detected"] else { return nil }
        return MeasuredItem(score: result.score ?? 0, label: -1, a: detected, b: result.values["payload_correct"] ?? 0, c: result.values["false_positive"] ?? 0)
    }

    /// Every metric of a sample.
    public func evaluate(_ sample: [MeasuredItem]) -> [Double?] {
        guard !sample.isEmpty else { return [nil, nil, nil] }
        let n = Double(sample.count)
        return [sample.reduce(0) { $0 + $1.a } / n, sample.reduce(0) { $0 + $1.b } / n, sample.reduce(0) { $0 + $1.c } / n]
    }
}

/// Redaction against ground truth: `a` background frames left, `b` background frames, `c` primary frames kept,
/// `d` primary frames (frame totals, so group rates weight items by their speech).
public struct RedactionMetrics: MetricSuite {
    /// Creates the suite.
    public init() {}

    /// Leakage and retention.
    public var metrics: [MetricInfo] {
        [MetricInfo(name: "leakage", meaning: "non-overlapped background frames left unredacted (0–1)", lowerIsBetter: true, isRate: true),
         MetricInfo(name: "retention", meaning: "primary-only frames kept (0–1)", lowerIsBetter: false, isRate: true)]
    }

    /// Frame counts.
    public func measure(_ result: AuditItemResult) -> MeasuredItem? {
        guard let bg = result.values["background_frames"], let primary = result.values["primary_frames"] else { return nil }
        return MeasuredItem(score: 0, label: -1, a: result.values["background_left"] ?? 0, b: bg, c: result.values["primary_kept"] ?? 0, d: primary)
    }

    /// Every metric of a sample.
    public func evaluate(_ sample: [MeasuredItem]) -> [Double?] {
        let left = sample.reduce(0) { $0 + $1.a }, bg = sample.reduce(0) { $0 + $1.b }
        let kept = sample.reduce(0) { $0 + $1.c }, primary = sample.reduce(0) { $0 + $1.d }
        return [bg > 0 ? left / bg : nil, primary > 0 ? kept / primary : nil]
    }
}
