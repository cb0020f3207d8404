import RealModule

/// Level figures of a signal: peak and RMS in dBFS and the number of clipped samples.
public struct LevelStatistics: Sendable, Equatable, Codable {
    /// Largest absolute sample value, linear (1.0 = full scale).
    public var peak: Float
    /// Root-mean-square over all samples of all channels, linear.
    public var rms: Double
    /// Samples at or above the clipping threshold in magnitude.
    public var clippedSamples: Int
    /// Samples measured (frames × channels).
    public var sampleCount: Int

    /// Peak level in dBFS (−∞ for digital silence is reported as `-Double.infinity`).
    public var peakDBFS: Double { Self.decibels(Double(peak)) }
    /// RMS level in dBFS, where a full-scale square wave reads 0 dBFS.
    public var rmsDBFS: Double { Self.decibels(rms) }

    /// 20·log10(amplitude), or −∞ for zero.
    public static func decibels(_ amplitude: Double) -> Double {
        amplitude > 0 ? 20 * Double.log10(amplitude) : -Double.infinity
    }
}

/// Accumulates level statistics over a stream of blocks with constant memory.
///
/// Feed interleaved blocks of any size with `add(_:)`; read `statistics` at any time.
/// Clipping counts samples whose magnitude is at or above `clipThreshold`
/// (default 32767/32768, the positive rail of 16-bit PCM).
public struct LevelMeter: Sendable {
    /// Magnitude at or above which a sample counts as clipped (linear, default ≈ −0.0003 dBFS).
    public let clipThreshold: Float
    private var peak: Float = 0
    private var sumSquares: Double = 0
    private var clipped = 0
    private var count = 0

    /// Creates a meter.
    /// - Parameter clipThreshold: linear magnitude counted as clipped, in (0, ∞).
    public init(clipThreshold: Float = 32767.0 / 32768.0) {
        self.clipThreshold = clipThreshold
    }

    /// Adds a block of samples (any channel layout: every sample counts equally).
    public mutating func add(_ block: UnsafeBufferPointer<Float>) {
        peak = max(peak, Kernels.peakMagnitude(block))
        sumSquares += Double(Kernels.sumOfSquares(block))
        clipped += Kernels.countAtOrAbove(block, threshold: clipThreshold)
        count += block.count
    }

    /// Adds a block of samples.
    public mutating func add(_ block: [Float]) {
        block.withUnsafeBufferPointer { add($0) }
    }

    /// The statistics of everything added so far.
    public var statistics: LevelStatistics {
        LevelStatistics(peak: peak, rms: count > 0 ? (sumSquares / Double(count)).squareRoot() : 0,
                        clippedSamples: clipped, sampleCount: count)
    }
}
