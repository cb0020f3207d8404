/// A binary detection score with its ground truth.
public struct ScoredTrial: Sendable, Hashable {
    /// Detector output; by convention higher means "target" (e.g. bona fide).
    public var score: Double
    /// Whether the trial is a target (positive) trial.
    public var isTarget: Bool

    /// Creates a trial.
    public init(score: Double, isTarget: Bool) {
        self.score = score
        self.isTarget = isTarget
    }
}

/// Error-rate metrics of binary detectors.
public enum DetectionMetrics {
    /// The equal error rate in 0...1: the point where the miss rate (targets scored below the
    /// threshold) equals the false-alarm rate (non-targets at or above it), interpolated linearly
    /// between the two thresholds around the crossing (the ROC convex-hull-free "EER by crossing").
    ///
    /// Ties are handled by treating tied scores as one threshold step. Returns `nil` when either
    /// class is empty.
    public static func equalErrorRate(_ trials: [ScoredTrial]) -> Double? {
        equalErrorRate(curve: CostMetrics.detCurve(trials))
    }

    /// The equal error rate of a DET curve from `CostMetrics.detCurve` (nil when it is empty).
    public static func equalErrorRate(curve: [CostMetrics.OperatingPoint]) -> Double? {
        // Walk the DET curve from "accept all" (miss 0, false alarm 1) to the first point where the
        // miss rate reaches the false-alarm rate, and interpolate between it and the one before.
        guard var previous = curve.first else { return nil }
        for current in curve.dropFirst() {
            if current.missRate >= current.falseAlarmRate {
                let d0 = previous.falseAlarmRate - previous.missRate, d1 = current.missRate - current.falseAlarmRate
                let t = d0 + d1 > 0 ? d0 / (d0 + d1) : 0
                return previous.missRate + t * (current.missRate - previous.missRate)
            }
            previous = current
        }
        return 0
    }

    /// The EER of a one-dimensional cue used as a detector in whichever direction separates better:
    /// `min(EER(cue), EER(−cue))`, in 0...0.5. A cue that carries no information sits near 0.5.
    public static func bestDirectionEqualErrorRate(_ trials: [ScoredTrial]) -> Double? {
        guard let up = equalErrorRate(trials) else { return nil }
        let down = equalErrorRate(trials.map { ScoredTrial(score: -$0.score, isTarget: $0.isTarget) }) ?? up
        return min(up, down)
    }
}
