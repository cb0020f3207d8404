import Foundation

/// Detection-cost and calibration metrics for scores that are log-likelihood ratios
/// (natural log; higher = target, e.g. bona fide), as used by ASVspoof 5.
public enum CostMetrics {
    /// Costs and prior of a detection-cost function.
    public struct CostModel: Sendable, Hashable, Codable {
        /// Prior probability of a non-target (spoof) trial, 0 < p < 1.
        public var nonTargetPrior: Double
        /// Cost of missing a target (rejecting bona fide speech).
        public var missCost: Double
        /// Cost of a false alarm (accepting a spoof).
        public var falseAlarmCost: Double

        /// Creates a cost model.
        public init(nonTargetPrior: Double, missCost: Double, falseAlarmCost: Double) {
            self.nonTargetPrior = nonTargetPrior
            self.missCost = missCost
            self.falseAlarmCost = falseAlarmCost
        }

        /// ASVspoof 5: P(spoof) = 0.05, C_miss = 1, C_fa = 10.
        public static let asvspoof5 = CostModel(nonTargetPrior: 0.05, missCost: 1, falseAlarmCost: 10)

        /// The LLR threshold a Bayes decision uses: accept as target when LLR > log(C_fa·P_nt / (C_miss·(1−P_nt))).
        public var bayesThreshold: Double {
            Foundation.log(falseAlarmCost * nonTargetPrior / (missCost * (1 - nonTargetPrior)))
        }

        /// Cost of the best trivial decision (accept all or reject all), the normaliser.
        var defaultCost: Double { min(missCost * (1 - nonTargetPrior), falseAlarmCost * nonTargetPrior) }

        /// Normalised cost of an operating point with miss rate `pMiss` and false-alarm rate `pFa`.
        public func normalizedCost(missRate pMiss: Double, falseAlarmRate pFa: Double) -> Double {
            (missCost * (1 - nonTargetPrior) * pMiss + falseAlarmCost * nonTargetPrior * pFa) / defaultCost
        }
    }

    /// An operating point of a detector: thresholding at `threshold` (target when score ≥ threshold).
    public struct OperatingPoint: Sendable, Hashable, Codable {
        /// The threshold.
        public var threshold: Double
        /// Fraction of targets scored below it.
        public var missRate: Double
        /// Fraction of non-targets scored at or above it.
        public var falseAlarmRate: Double

        enum CodingKeys: String, CodingKey {
            case threshold
            case missRate = "miss_rate"
            case falseAlarmRate = "false_alarm_rate"
        }
    }

    /// Miss and false-alarm rates at a threshold (target when score ≥ threshold).
    public static func operatingPoint(_ trials: [ScoredTrial], threshold: Double) -> OperatingPoint {
        var targets = 0, misses = 0, nonTargets = 0, falseAlarms = 0
        for t in trials {
            if t.isTarget {
                targets += 1
                if t.score < threshold { misses += 1 }
            } else {
                nonTargets += 1
                if t.score >= threshold { falseAlarms += 1 }
            }
        }
        return OperatingPoint(threshold: threshold,
                              missRate: targets > 0 ? Double(misses) / Double(targets) : 0,
                              falseAlarmRate: nonTargets > 0 ? Double(falseAlarms) / Double(nonTargets) : 0)
    }

    /// Every distinct operating point, from the lowest threshold (accept all) to above the highest
    /// score (reject all): the DET curve.
    public static func detCurve(_ trials: [ScoredTrial]) -> [OperatingPoint] {
        let targets = trials.filter(\.isTarget).count
        let nonTargets = trials.count - targets
        guard targets > 0, nonTargets > 0 else { return [] }
        let sorted = trials.sorted { $0.score < $1.score }
        var points = [OperatingPoint(threshold: -.infinity, missRate: 0, falseAlarmRate: 1)]
        var misses = 0, falseAlarms = nonTargets
        var i = 0
        while i < sorted.count {
            let s = sorted[i].score
            while i < sorted.count && sorted[i].score == s {
                if sorted[i].isTarget { misses += 1 } else { falseAlarms -= 1 }
                i += 1
            }
            let next = i < sorted.count ? sorted[i].score : Double.infinity
            points.append(OperatingPoint(threshold: next, missRate: Double(misses) / Double(targets),
                                         falseAlarmRate: Double(falseAlarms) / Double(nonTargets)))
        }
        return points
    }

    /// Minimum normalised detection cost over all thresholds (the cost of the best threshold
    /// chosen with hindsight), in 0…1. `nil` when a class is empty.
    public static func minimumDCF(_ trials: [ScoredTrial], cost: CostModel = .asvspoof5) -> Double? {
        minimumDCF(curve: detCurve(trials), cost: cost)
    }

    /// Minimum normalised detection cost over the points of a DET curve (nil when it is empty).
    public static func minimumDCF(curve: [OperatingPoint], cost: CostModel = .asvspoof5) -> Double? {
        guard !curve.isEmpty else { return nil }
        return curve.map { cost.normalizedCost(missRate: $0.missRate, falseAlarmRate: $0.falseAlarmRate) }.min()
    }

    /// Actual normalised detection cost of LLR scores at the Bayes threshold (how good the
    /// decisions are, calibration included). `nil` when a class is empty.
    public static func actualDCF(_ trials: [ScoredTrial], cost: CostModel = .asvspoof5) -> Double? {
        guard trials.contains(where: \.isTarget), trials.contains(where: { !$0.isTarget }) else { return nil }
        let point = operatingPoint(trials, threshold: cost.bayesThreshold)
        return cost.normalizedCost(missRate: point.missRate, falseAlarmRate: point.falseAlarmRate)
    }

    /// The log-likelihood-ratio cost in bits (Brümmer): 0 is perfect, 1 is an uninformative
    /// calibrated detector, more is worse than no detector. `nil` when a class is empty.
    public static func cllr(_ trials: [ScoredTrial]) -> Double? {
        var targetSum = 0.0, targets = 0, nonTargetSum = 0.0, nonTargets = 0
        for t in trials {
            if t.isTarget { targetSum += softplus(-t.score); targets += 1 } else { nonTargetSum += softplus(t.score); nonTargets += 1 }
        }
        guard targets > 0, nonTargets > 0 else { return nil }
        return (targetSum / Double(targets) + nonTargetSum / Double(nonTargets)) / (2 * Foundation.log(2))
    }

    /// log(1 + eˣ) without overflow.
    static func softplus(_ x: Double) -> Double {
        x > 30 ? x : Foundation.log1p(Foundation.exp(x))
    }
}
