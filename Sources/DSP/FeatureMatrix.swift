/// A sequence of feature vectors: `frameCount` rows of `dimension` values, stored row-major.
public struct FeatureMatrix: Sendable, Equatable, Codable {
    /// Number of frames (rows).
    public let frameCount: Int
    /// Values per frame (columns).
    public let dimension: Int
    /// `frameCount × dimension` values; frame f, coefficient d is `values[f·dimension + d]`.
    public var values: [Float]

    /// Creates a matrix from row-major values.
    public init(frameCount: Int, dimension: Int, values: [Float]) {
        precondition(values.count == frameCount * dimension, "values must hold frameCount × dimension entries")
        self.frameCount = frameCount
        self.dimension = dimension
        self.values = values
    }

    /// One frame's vector.
    public subscript(frame: Int) -> ArraySlice<Float> {
        values[(frame * dimension)..<((frame + 1) * dimension)]
    }

    /// The value at (frame, coefficient).
    public subscript(frame: Int, coefficient: Int) -> Float {
        values[frame * dimension + coefficient]
    }

    /// Joins matrices with equal frame counts side by side (e.g. static ‖ Δ ‖ ΔΔ).
    public static func concatenating(_ parts: [FeatureMatrix]) -> FeatureMatrix {
        guard let first = parts.first else { return FeatureMatrix(frameCount: 0, dimension: 0, values: []) }
        precondition(parts.allSatisfy { $0.frameCount == first.frameCount }, "frame counts differ")
        let dim = parts.reduce(0) { $0 + $1.dimension }
        var out = [Float]()
        out.reserveCapacity(first.frameCount * dim)
        for f in 0..<first.frameCount {
            for p in parts { out.append(contentsOf: p[f]) }
        }
        return FeatureMatrix(frameCount: first.frameCount, dimension: dim, values: out)
    }
}

/// Time derivatives of feature trajectories by regression over ±`halfWidth` frames.
///
/// d[t] = Σₙ₌₁ᴺ n·(c[t+n] − c[t−n]), divided by 2·Σ n² when `normalized`; frames beyond
/// either end repeat the edge frame. N = 1 unnormalised is the ASVspoof 2019 baseline's
/// `deltas(x, 3)`; N = 2 normalised is HTK's.
public struct DeltaConfiguration: Sendable, Hashable, Codable {
    /// Regression half-width N in frames, ≥ 1.
    public var halfWidth: Int
    /// Divide by 2·Σ n².
    public var normalized: Bool

    /// Creates a delta configuration.
    public init(halfWidth: Int, normalized: Bool) {
        self.halfWidth = halfWidth
        self.normalized = normalized
    }

    /// Deltas of every column of `features`.
    public func apply(to features: FeatureMatrix) -> FeatureMatrix {
        let t = features.frameCount, d = features.dimension
        guard t > 0 else { return features }
        var out = [Float](repeating: 0, count: t * d)
        let norm: Float = normalized ? 1 / Float(2 * (1...halfWidth).reduce(0) { $0 + $1 * $1 }) : 1
        features.values.withUnsafeBufferPointer { x in
            for f in 0..<t {
                for n in 1...halfWidth {
                    let ahead = min(t - 1, f + n) * d, behind = max(0, f - n) * d
                    let w = Float(n)
                    for j in 0..<d { out[f * d + j] += w * (x[ahead + j] - x[behind + j]) }
                }
                if norm != 1 { for j in 0..<d { out[f * d + j] *= norm } }
            }
        }
        return FeatureMatrix(frameCount: t, dimension: d, values: out)
    }
}
