import Foundation

/// L2-regularised logistic regression on standardised features, trained by Newton's method with
/// the two classes weighted equally (so its output is a log-odds at a 50 % prior: an
/// uncalibrated log-likelihood ratio). Positive class = target (bona fide).
public struct LogisticRegression: Sendable, Hashable, Codable {
    /// Per-feature mean removed before scoring.
    public var mean: [Float]
    /// Per-feature divisor (standard deviation, 1 where constant).
    public var scale: [Float]
    /// Weights on the standardised features.
    public var weights: [Double]
    /// Intercept.
    public var bias: Double

    /// Creates a model from its parameters.
    public init(mean: [Float], scale: [Float], weights: [Double], bias: Double) {
        self.mean = mean
        self.scale = scale
        self.weights = weights
        self.bias = bias
    }

    /// The linear score (log-odds) of one feature vector.
    public func score(_ x: [Float]) -> Double { x.withUnsafeBufferPointer { score($0) } }

    /// The linear score (log-odds) of a row slice of a feature matrix (no copy).
    public func score(_ x: ArraySlice<Float>) -> Double { x.withUnsafeBufferPointer { score($0) } }

    private func score(_ x: UnsafeBufferPointer<Float>) -> Double {
        var s = bias
        for i in weights.indices { s += weights[i] * Double((x[i] - mean[i]) / scale[i]) }
        return s
    }

    /// Trains on `features` (one vector per example, equal lengths) with `labels` (true = target).
    /// - Parameters:
    ///   - groups: optional group of every example (e.g. its synthesis family): each class's weight is then shared
    ///     equally among its groups, and within a group equally among its examples, so a large group (one engine's
    ///     thousands of utterances) counts as much as a small one. Nil: every example of a class weighs the same.
    ///   - l2: ridge penalty on the weights (not the intercept), relative to the class-balanced mean loss.
    ///   - iterations: Newton steps at most (stops earlier when the step is tiny).
    /// - Throws: `LearningError.badTrainingData` when a class is missing or lengths differ.
    public static func train(features: [[Float]], labels: [Bool], groups: [String]? = nil, l2: Double = 5e-3,
                             iterations: Int = 30) throws(LearningError) -> LogisticRegression {
        guard let d = features.first?.count, features.count == labels.count else {
            throw .badTrainingData(detail: "no examples, or \(features.count) vectors for \(labels.count) labels")
        }
        if let groups, groups.count != labels.count {
            throw .badTrainingData(detail: "\(groups.count) groups for \(labels.count) examples")
        }
        guard features.allSatisfy({ $0.count == d }) else { throw .badTrainingData(detail: "feature vectors of different lengths") }
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else {
            throw .badTrainingData(detail: "\(positives) positive (target, e.g. bona fide) and \(negatives) negative examples; both classes are needed")
        }
        // Standardise.
        var mean = [Float](repeating: 0, count: d), scale = [Float](repeating: 1, count: d)
        for x in features { for i in 0..<d { mean[i] += x[i] } }
        for i in 0..<d { mean[i] /= Float(features.count) }
        var variance = [Float](repeating: 0, count: d)
        for x in features { for i in 0..<d { variance[i] += (x[i] - mean[i]) * (x[i] - mean[i]) } }
        for i in 0..<d { let s = (variance[i] / Float(features.count)).squareRoot(); scale[i] = s > 1e-6 ? s : 1 }
        let z: [[Double]] = features.map { x in (0..<d).map { Double((x[$0] - mean[$0]) / scale[$0]) } + [1] }
        let weightOf = groups.map { groupBalancedWeights(labels: labels, groups: $0) }
            ?? labels.map { $0 ? 0.5 / Double(positives) : 0.5 / Double(negatives) }
        let (w, _) = newton(z, labels: labels, exampleWeights: weightOf, l2: l2, iterations: iterations)
        return LogisticRegression(mean: mean, scale: scale, weights: Array(w[0..<d]), bias: w[d])
    }

    /// Example weights summing to 0.5 per class, shared equally among the class's groups and, within a group, among
    /// its examples (the weights `train(features:labels:groups:)` uses).
    public static func groupBalancedWeights(labels: [Bool], groups: [String]) -> [Double] {
        var sizes: [Bool: [String: Int]] = [true: [:], false: [:]]
        for (label, group) in zip(labels, groups) { sizes[label, default: [:]][group, default: 0] += 1 }
        return zip(labels, groups).map { label, group in
            let perClass = sizes[label] ?? [:]
            return 0.5 / Double(perClass.count) / Double(perClass[group] ?? 1)
        }
    }

    /// Minimises Σ cᵢ log(1 + exp(−yᵢ w·zᵢ)) + (λ/2)‖w‖² (intercept, the last entry, unpenalised)
    /// by Newton steps with step halving. Returns the weights and the final loss.
    static func newton(_ z: [[Double]], labels: [Bool], exampleWeights c: [Double], l2 lambda: Double,
                       iterations: Int) -> ([Double], Double) {
        let n = z[0].count
        var w = [Double](repeating: 0, count: n)
        func loss(_ w: [Double]) -> Double {
            var total = 0.0
            for (i, x) in z.enumerated() {
                var s = 0.0
                for j in 0..<n { s += w[j] * x[j] }
                total += c[i] * softplus(labels[i] ? -s : s)
            }
            for j in 0..<(n - 1) { total += 0.5 * lambda * w[j] * w[j] }
            return total
        }
        var current = loss(w)
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: n)
            var hessian = [Double](repeating: 0, count: n * n)
            for (i, x) in z.enumerated() {
                var s = 0.0
                for j in 0..<n { s += w[j] * x[j] }
                let p = 1 / (1 + Foundation.exp(-s))
                let r = c[i] * (p - (labels[i] ? 1 : 0))
                let h = c[i] * max(p * (1 - p), 1e-12)
                for j in 0..<n {
                    gradient[j] += r * x[j]
                    let hx = h * x[j]
                    if hx == 0 { continue }
                    for k in j..<n { hessian[j * n + k] += hx * x[k] }
                }
            }
            for j in 0..<n { for k in 0..<j { hessian[j * n + k] = hessian[k * n + j] } }
            for j in 0..<(n - 1) { gradient[j] += lambda * w[j]; hessian[j * n + j] += lambda }
            hessian[(n - 1) * n + (n - 1)] += 1e-9
            guard let step = solveSymmetric(hessian, gradient, n) else { break }
            var t = 1.0
            var next = w
            while true {
                for j in 0..<n { next[j] = w[j] - t * step[j] }
                let value = loss(next)
                if value <= current || t < 1e-4 { current = min(current, value); break }
                t /= 2
            }
            let change = zip(next, w).map { abs($0 - $1) }.max() ?? 0
            w = next
            if change < 1e-7 { break }
        }
        return (w, current)
    }

    /// Solves A x = b for symmetric positive-definite A (n × n, row-major) by Cholesky.
    static func solveSymmetric(_ a: [Double], _ b: [Double], _ n: Int) -> [Double]? {
        guard let l = LinearDiscriminant.cholesky(a, n) else { return nil }
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * y[k] }
            y[i] = sum / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }

    static func softplus(_ x: Double) -> Double { x > 30 ? x : Foundation.log1p(Foundation.exp(x)) }
}

/// An affine map from raw scores to calibrated log-likelihood ratios, `llr = slope · score + offset`,
/// fitted by logistic regression with both classes weighted equally (minimum Cllr).
public struct AffineCalibration: Sendable, Hashable, Codable {
    /// Multiplier (positive for a useful detector).
    public var slope: Double
    /// Offset, natural-log units.
    public var offset: Double

    /// Creates a calibration.
    public init(slope: Double, offset: Double) {
        self.slope = slope
        self.offset = offset
    }

    /// The identity.
    public static let identity = AffineCalibration(slope: 1, offset: 0)

    /// The calibrated LLR of a raw score.
    public func callAsFunction(_ score: Double) -> Double { slope * score + offset }

    /// Fits on scores with labels (true = target).
    /// - Throws: `LearningError.badTrainingData` when a class is missing.
    public static func fit(scores: [Double], labels: [Bool]) throws(LearningError) -> AffineCalibration {
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0, scores.count == labels.count else {
            throw .badTrainingData(detail: "calibration needs both classes (\(positives) positive, \(negatives) negative)")
        }
        let weights = labels.map { $0 ? 0.5 / Double(positives) : 0.5 / Double(negatives) }
        let (w, _) = LogisticRegression.newton(scores.map { [$0, 1] }, labels: labels, exampleWeights: weights,
                                               l2: 1e-6, iterations: 50)
        return AffineCalibration(slope: w[0], offset: w[1])
    }
}
