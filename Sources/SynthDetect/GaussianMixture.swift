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

    /// log Σₖ wₖ 𝒩(x; μₖ, diag σ²ₖ) of the frame at `x` (`dimension` values).
    public func logLikelihood(_ x: UnsafePointer<Float>) -> Double {
        var best = -Double.infinity
        var terms = [Double](repeating: 0, count: components)
        let constant = -0.5 * Double(dimension) * Foundation.log(2 * Double.pi)
        for k in 0..<components {
            var q: Float = 0, logDet: Float = 0
            for d in 0..<dimension {
                let v = variances[k * dimension + d]
                let diff = x[d] - means[k * dimension + d]
                q += diff * diff / v
                logDet += Foundation.log(v)
            }
            let t = Double(Foundation.log(max(weights[k], 1e-30))) + constant - 0.5 * Double(logDet + q)
            terms[k] = t
            best = max(best, t)
        }
        var sum = 0.0
        for t in terms { sum += Foundation.exp(t - best) }
        return best + Foundation.log(sum)
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
            // Per-component constants of the log density.
            let logConstant: [Float] = (0..<components).map { k in
                var logDet: Float = 0
                for d in 0..<dimension { logDet += Foundation.log(model.variances[k * dimension + d]) }
                return Foundation.log(max(model.weights[k], 1e-30)) - 0.5 * logDet
            }
            let precision = model.variances.map { 1 / $0 }
            frames.withUnsafeBufferPointer { f in
                model.means.withUnsafeBufferPointer { mu in
                    precision.withUnsafeBufferPointer { p in
                        for i in 0..<n {
                            let x = f.baseAddress! + i * dimension
                            var best = -Double.infinity
                            for k in 0..<components {
                                var q: Float = 0
                                let m = mu.baseAddress! + k * dimension, pk = p.baseAddress! + k * dimension
                                for d in 0..<dimension { let diff = x[d] - m[d]; q += diff * diff * pk[d] }
                                let t = Double(logConstant[k] - 0.5 * q)
                                responsibility[k] = t
                                best = max(best, t)
                            }
                            var sum = 0.0
                            for k in 0..<components { responsibility[k] = Foundation.exp(responsibility[k] - best); sum += responsibility[k] }
                            for k in 0..<components {
                                let r = responsibility[k] / sum
                                guard r > 1e-8 else { continue }
                                count[k] += r
                                for d in 0..<dimension {
                                    let v = Double(x[d])
                                    first[k * dimension + d] += r * v
                                    second[k * dimension + d] += r * v * v
                                }
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

    /// Mean frame log-likelihood ratio of flat frames (`dimension` values each).
    public func score(frames: [Float]) -> Double {
        let d = bonafide.dimension, n = frames.count / d
        guard n > 0 else { return 0 }
        var total = 0.0
        frames.withUnsafeBufferPointer { f in
            for i in 0..<n {
                let x = f.baseAddress! + i * d
                total += bonafide.logLikelihood(x) - spoof.logLikelihood(x)
            }
        }
        return total / Double(n)
    }
}
