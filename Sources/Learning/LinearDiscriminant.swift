import Foundation

/// Linear discriminant analysis: a projection that maximises between-class over within-class
/// scatter (the generalised symmetric eigenproblem S_b v = λ S_w v), fitted in Swift.
///
/// `project` centres a vector on the training mean, applies the projection and (by default)
/// scales the result to unit length, so that the cosine of two projections is their dot product.
public struct LinearDiscriminant: Sendable, Hashable, Codable {
    /// Training mean removed before projecting (input dimension).
    public var mean: [Float]
    /// Projection, row-major `outputDimension × inputDimension`.
    public var projection: [Float]
    /// Output dimension.
    public var outputDimension: Int

    /// Input dimension.
    public var inputDimension: Int { mean.count }

    /// Creates a projection from its parameters.
    public init(mean: [Float], projection: [Float], outputDimension: Int) {
        self.mean = mean
        self.projection = projection
        self.outputDimension = outputDimension
    }

    /// Projects `x` (input dimension) to `outputDimension` values, unit length when `normalize`.
    public func project(_ x: [Float], normalize: Bool = true) -> [Float] {
        let d = inputDimension
        var out = [Float](repeating: 0, count: outputDimension)
        for r in 0..<outputDimension {
            var s: Float = 0
            for j in 0..<d { s += projection[r * d + j] * (x[j] - mean[j]) }
            out[r] = s
        }
        guard normalize else { return out }
        let norm = out.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? out.map { $0 / norm } : out
    }

    /// Fits the projection on labelled vectors.
    /// - Parameters:
    ///   - dimensions: output dimension, at most (classes − 1) and the input dimension.
    ///   - shrinkage: added to the within-class scatter as this fraction of its mean diagonal (regularisation).
    /// - Throws: `LearningError.badTrainingData` with fewer than two classes, ragged vectors or too few examples.
    public static func fit(features: [[Float]], labels: [String], dimensions: Int,
                           shrinkage: Double = 1e-3) throws(LearningError) -> LinearDiscriminant {
        guard let d = features.first?.count, d > 0, features.count == labels.count,
              features.allSatisfy({ $0.count == d }) else {
            throw .badTrainingData(detail: "\(features.count) vectors for \(labels.count) labels, or vectors of different lengths")
        }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else { throw .badTrainingData(detail: "\(classes.count) class; LDA needs at least 2") }
        let k = min(dimensions, classes.count - 1, d)
        guard k >= 1 else { throw .badTrainingData(detail: "output dimension \(dimensions); expected ≥ 1") }
        let n = features.count
        var mean = [Double](repeating: 0, count: d)
        for x in features { for j in 0..<d { mean[j] += Double(x[j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var classMean = [String: [Double]](), classCount = [String: Int]()
        for (x, c) in zip(features, labels) {
            var m = classMean[c] ?? [Double](repeating: 0, count: d)
            for j in 0..<d { m[j] += Double(x[j]) }
            classMean[c] = m
            classCount[c, default: 0] += 1
        }
        for c in classes { classMean[c] = classMean[c]!.map { $0 / Double(classCount[c]!) } }
        var within = [Double](repeating: 0, count: d * d), between = [Double](repeating: 0, count: d * d)
        for (x, c) in zip(features, labels) {
            let m = classMean[c]!
            let v = (0..<d).map { Double(x[$0]) - m[$0] }
            for i in 0..<d where v[i] != 0 { for j in i..<d { within[i * d + j] += v[i] * v[j] } }
        }
        for c in classes {
            let v = (0..<d).map { classMean[c]![$0] - mean[$0] }
            let w = Double(classCount[c]!)
            for i in 0..<d { for j in i..<d { between[i * d + j] += w * v[i] * v[j] } }
        }
        for i in 0..<d { for j in 0..<i { within[i * d + j] = within[j * d + i]; between[i * d + j] = between[j * d + i] } }
        let ridge = shrinkage * (0..<d).reduce(0.0) { $0 + within[$1 * d + $1] } / Double(d) + 1e-12
        for i in 0..<d { within[i * d + i] += ridge }
        // S_w = L Lᵀ; M = L⁻¹ S_b L⁻ᵀ (symmetric); M = V Λ Vᵀ; W = L⁻ᵀ V.
        guard let l = cholesky(within, d) else { throw .badTrainingData(detail: "within-class scatter is not positive definite") }
        let a = solveLower(l, between, d)                 // L⁻¹ S_b
        let m = transpose(solveLower(l, transpose(a, d), d), d)  // (L⁻¹ (L⁻¹ S_b)ᵀ)ᵀ = L⁻¹ S_b L⁻ᵀ
        let (values, vectors) = symmetricEigen(m, d)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(k)
        var projection = [Float](repeating: 0, count: k * d)
        for (r, index) in order.enumerated() {
            // w = L⁻ᵀ v: solve Lᵀ w = v.
            var w = [Double](repeating: 0, count: d)
            for i in stride(from: d - 1, through: 0, by: -1) {
                var s = vectors[i * d + index]
                for j in (i + 1)..<d { s -= l[j * d + i] * w[j] }
                w[i] = s / l[i * d + i]
            }
            for j in 0..<d { projection[r * d + j] = Float(w[j]) }
        }
        return LinearDiscriminant(mean: mean.map { Float($0) }, projection: projection, outputDimension: k)
    }

    /// Lower-triangular L with L Lᵀ = A for symmetric positive-definite A (n × n, row-major); nil otherwise.
    static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        return l
    }

    /// L⁻¹ B for lower-triangular L (n × n) and B (n × n), by forward substitution per column.
    static func solveLower(_ l: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var x = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            for i in 0..<n {
                var s = b[i * n + c]
                for k in 0..<i { s -= l[i * n + k] * x[k * n + c] }
                x[i * n + c] = s / l[i * n + i]
            }
        }
        return x
    }

    static func transpose(_ a: [Double], _ n: Int) -> [Double] {
        var t = a
        for i in 0..<n { for j in 0..<n { t[j * n + i] = a[i * n + j] } }
        return t
    }

    /// Eigenvalues and eigenvectors (columns of the row-major result) of a symmetric matrix by cyclic Jacobi rotations.
    static func symmetricEigen(_ input: [Double], _ n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<n where abs(a[p * n + q]) > 1e-300 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
