import Foundation

/// A Gaussian mixture with diagonal covariances, trained by expectation–maximisation: the back
/// end of the ASVspoof LFCC-GMM baseline (one mixture for bona fide frames, one for spoof frames;
/// an utterance scores the mean frame log-likelihood ratio).
public struct DiagonalGMM: Sendable, Hashable, Codable {
    /// Dimension of a frame.
    public var dimension: Int
    /// Mixture weights (sum 1).
    public var weights: [Float]
    /// Component means, component-major (`components × dimension`).
    public var means: [Float]
    /// Component variances, component-major.
    public var variances: [Float]

    /// Components.
    public var components: Int { weights.count }

    /// Creates a mixture from its parameters.
    public init(dimension: Int, weights: [Float], means: [Float], variances: [Float]) {
        self.dimension = dimension
        self.weights = weights
        self.means = means
        self.variances = variances
    }

    /// What the log density of each component needs, computed once per model rather than per frame:
    /// log wₖ − ½ log det Σₖ − (d/2) log 2π, and the precisions 1/σ².
    struct Prepared {
        let logConstants: [Double]
        let precisions: [Float]

        init(_ m: DiagonalGMM) {
            let base = -0.5 * Double(m.dimension) * Foundation.log(2 * Double.pi)
            logConstants = (0..<m.components).map { k in
                var logDet = 0.0
                for d in 0..<m.dimension { logDet += Double(Foundation.log(m.variances[k * m.dimension + d])) }
                return Double(Foundation.log(max(m.weights[k], 1e-30))) - 0.5 * logDet + base
            }
            precisions = m.variances.map { 1 / $0 }
        }
    }

    /// Writes log wₖ𝒩(x; μₖ, Σₖ) of every component to `terms` and returns their log-sum-exp.
    func componentLogDensities(_ x: UnsafePointer<Float>, _ prepared: Prepared,
                               into terms: UnsafeMutableBufferPointer<Double>) -> Double {
        var best = -Double.infinity
        means.withUnsafeBufferPointer { mu in
            prepared.precisions.withUnsafeBufferPointer { p in
                for k in 0..<components {
                    let m = mu.baseAddress! + k * dimension, pk = p.baseAddress! + k * dimension
                    var q: Float = 0
                    for d in 0..<dimension { let diff = x[d] - m[d]; q += diff * diff * pk[d] }
                    let t = prepared.logConstants[k] - 0.5 * Double(q)
                    terms[k] = t
                    best = max(best, t)
                }
            }
        }
        var sum = 0.0
        for k in 0..<components { sum += Foundation.exp(terms[k] - best) }
        return best + Foundation.log(sum)
    }

    /// Mean of log Σₖ wₖ 𝒩(x; μₖ, diag σ²ₖ) over flat frames (`dimension` values each).
    public func meanLogLikelihood(frames: [Float]) -> Double {
        let n = frames.count / dimension
        guard n > 0 else { return 0 }
        let prepared = Prepared(self)
        var total = 0.0
        withUnsafeTemporaryAllocation(of: Double.self, capacity: components) { terms in
            frames.withUnsafeBufferPointer { f in
                for i in 0..<n { total += componentLogDensities(f.baseAddress! + i * dimension, prepared, into: terms) }
            }
        }
        return total / Double(n)
    }

    /// Trains on frames (flat, `dimension` values each) with `components` components and
    /// `iterations` EM steps; initial means are frames drawn with `seed`; variances are floored at
    /// 1e-3 of the global variance; empty components are re-seeded.
    public static func train(frames: [Float], dimension: Int, components: Int, iterations: Int = 10,
                             seed: UInt64 = 20_261_126) -> DiagonalGMM {
        let n = frames.count / dimension
        precondition(n >= components, "need at least as many frames as components")
        var rng = seed
        func nextIndex() -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        var globalMean = [Double](repeating: 0, count: dimension), globalVar = [Double](repeating: 0, count: dimension)
        for i in 0..<n { for d in 0..<dimension { globalMean[d] += Double(frames[i * dimension + d]) } }
        for d in 0..<dimension { globalMean[d] /= Double(n) }
        for i in 0..<n { for d in 0..<dimension { let v = Double(frames[i * dimension + d]) - globalMean[d]; globalVar[d] += v * v } }
        for d in 0..<dimension { globalVar[d] = max(globalVar[d] / Double(n), 1e-8) }
        let floor = globalVar.map { Float($0 * 1e-3) }
        var model = DiagonalGMM(dimension: dimension, weights: [Float](repeating: 1 / Float(components), count: components),
                                means: [], variances: [])
        for _ in 0..<components {
            let i = nextIndex()
            model.means += frames[(i * dimension)..<((i + 1) * dimension)]
            model.variances += globalVar.map { Float($0) }
        }
        var responsibility = [Double](repeating: 0, count: components)
        for _ in 0..<iterations {
            var count = [Double](repeating: 0, count: components)
            var first = [Double](repeating: 0, count: components * dimension)
            var second = [Double](repeating: 0, count: components * dimension)
            let prepared = Prepared(model)
            responsibility.withUnsafeMutableBufferPointer { r in
                frames.withUnsafeBufferPointer { f in
                    for i in 0..<n {
                        let x = f.baseAddress! + i * dimension
                        let total = model.componentLogDensities(x, prepared, into: r)
                        for k in 0..<components {
                            let weight = Foundation.exp(r[k] - total)
                            guard weight > 1e-8 else { continue }
                            count[k] += weight
                            for d in 0..<dimension {
                                let v = Double(x[d])
                                first[k * dimension + d] += weight * v
                                second[k * dimension + d] += weight * v * v
                            }
                        }
                    }
                }
            }
            for k in 0..<components {
                if count[k] < 1e-3 {
                    let i = nextIndex()
                    for d in 0..<dimension { model.means[k * dimension + d] = frames[i * dimension + d]; model.variances[k * dimension + d] = Float(globalVar[d]) }
                    model.weights[k] = 1 / Float(n)
                    continue
                }
                model.weights[k] = Float(count[k] / Double(n))
                for d in 0..<dimension {
                    let mean = first[k * dimension + d] / count[k]
                    model.means[k * dimension + d] = Float(mean)
                    model.variances[k * dimension + d] = max(floor[d], Float(second[k * dimension + d] / count[k] - mean * mean))
                }
            }
            let total = model.weights.reduce(0, +)
            model.weights = model.weights.map { $0 / total }
        }
        return model
    }
}

/// The LFCC-GMM baseline: a bona fide and a spoof mixture over frames.
public struct GMMPair: Sendable, Hashable, Codable {
    /// Mixture of bona fide frames.
    public var bonafide: DiagonalGMM
    /// Mixture of spoof frames.
    public var spoof: DiagonalGMM

    /// Pairs two mixtures.
    public init(bonafide: DiagonalGMM, spoof: DiagonalGMM) {
        self.bonafide = bonafide
        self.spoof = spoof
    }

    /// Mean frame log-likelihood ratio of flat frames (`dimension` values each).
    public func score(frames: [Float]) -> Double {
        bonafide.meanLogLikelihood(frames: frames) - spoof.meanLogLikelihood(frames: frames)
    }
}
