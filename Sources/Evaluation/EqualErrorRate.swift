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
        let targets = trials.filter(\.isTarget).count
        let nonTargets = trials.count - targets
        guard targets > 0, nonTargets > 0 else { return nil }
        let sorted = trials.sorted { $0.score < $1.score }
        // Threshold just above sorted[i]: misses = targets with score ≤ it; false alarms = non-targets above.
        var misses = 0, falseAlarms = nonTargets
        var previous = (miss: 0.0, fa: 1.0)
        var i = 0
        while i < sorted.count {
            let s = sorted[i].score
            while i < sorted.count && sorted[i].score == s {
                if sorted[i].isTarget { misses += 1 } else { falseAlarms -= 1 }
                i += 1
            }
            let current = (miss: Double(misses) / Double(targets), fa: Double(falseAlarms) / Double(nonTargets))
            if current.miss >= current.fa {
                // Crossing between previous and current operating points.
                let d0 = previous.fa - previous.miss, d1 = current.miss - current.fa
                let t = d0 + d1 > 0 ? d0 / (d0 + d1) : 0
                return previous.miss + t * (current.miss - previous.miss)
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
