import Perception

/// How a speaker embedding is scored against the primary talker: symmetric score normalisation (S-norm) against a
/// cohort of other talkers' embeddings. The raw GE2E cosine depends on the channel and the voice: on telephone-band
/// speech every talker scores high against every other. Each side's cosine with the cohort gives a mean and a spread,
/// and the score is the average of the cosine standardised by either side:
/// ½·((c − μ_ref)/σ_ref + (c − μ_seg)/σ_seg). With an empty cohort the score is the raw cosine.
struct SpeakerScoring: Sendable {
    /// Unit-length cohort embeddings (one per training talker).
    let cohort: [[Float]]

    /// The cohort statistics of an embedding: mean and spread (≥ 0.02) of its cosines with the cohort.
    func statistics(_ embedding: [Float]) -> (mean: Float, spread: Float) {
        guard !cohort.isEmpty else { return (0, 1) }
        var sum: Float = 0, squares: Float = 0
        for c in cohort {
            let s = Self.cosine(c, embedding)
            sum += s
            squares += s * s
        }
        let n = Float(cohort.count), mean = sum / n
        return (mean, max(0.02, (max(0, squares / n - mean * mean)).squareRoot()))
    }

    /// The normalised score of `embedding` against a reference with precomputed `referenceStatistics`.
    func score(_ embedding: [Float], reference: [Float], referenceStatistics: (mean: Float, spread: Float)) -> Float {
        let c = Self.cosine(embedding, reference)
        guard !cohort.isEmpty else { return c }
        let own = statistics(embedding)
        return 0.5 * ((c - referenceStatistics.mean) / referenceStatistics.spread + (c - own.mean) / own.spread)
    }

    /// The cosine similarity of two unit-length embeddings (their dot product), −1 … 1. The one cosine of the module.
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for i in 0..<min(a.count, b.count) { s += a[i] * b[i] }
        return s
    }
}
