/// Every parameter of a filterbank-cepstrum front end (LFCC, MFCC and variants).
///
/// Pipeline per frame: pre-emphasis y[n] = x[n] − α·x[n−1] (on the whole signal) → frame and
/// window → zero-pad to `fftSize` → |FFT|² (or |FFT|) → triangular filterbank → log(· + floor) →
/// orthonormal DCT-II → keep `coefficientCount` (from c0, or from c1 when `includeC0` is false)
/// → optional Δ and ΔΔ appended.
public struct CepstralConfiguration: Sendable, Hashable, Codable {
    /// Spectrum fed to the filterbank.
    public enum SpectrumKind: String, Sendable, Hashable, Codable {
        /// |X|².
        case power
        /// |X|.
        case magnitude
    }

    /// Logarithm applied to filter outputs.
    public enum LogBase: String, Sendable, Hashable, Codable {
        /// Natural log.
        case natural
        /// Base-10 log.
        case base10
    }

    /// Sampling rate the configuration is for, hertz.
    public var sampleRate: Double
    /// Pre-emphasis coefficient α in [0, 1); `nil` or 0 disables it.
    public var preEmphasis: Float?
    /// Frame length, hop, FFT size, window and frame placement (in samples).
    public var framing: STFTConfiguration
    /// Filter spacing.
    public var scale: FrequencyScale
    /// Number of triangular filters.
    public var filterCount: Int
    /// Band of the filterbank, hertz; `highHz` `nil` means Nyquist.
    public var lowHz: Double
    /// Upper band edge, hertz (`nil` = sampleRate / 2).
    public var highHz: Double?
    /// Power or magnitude spectrum.
    public var spectrum: SpectrumKind
    /// Log base.
    public var logBase: LogBase
    /// Added to filter outputs before the log (MATLAB `eps` = 2.220446049250313e-16 in the baseline).
    public var logFloor: Float
    /// Cepstral coefficients kept per frame (≤ filterCount, or ≤ filterCount − 1 without c0).
    public var coefficientCount: Int
    /// Keep c0 (the log-energy-like term) as the first coefficient.
    public var includeC0: Bool
    /// Derivative orders appended: 0 = static only, 1 = + Δ, 2 = + Δ + ΔΔ.
    public var deltaOrder: Int
    /// How Δ is computed (ΔΔ is Δ of Δ).
    public var delta: DeltaConfiguration

    /// Output values per frame: `coefficientCount × (deltaOrder + 1)`.
    public var dimension: Int { coefficientCount * (deltaOrder + 1) }

    /// Creates a configuration (see each property for units and ranges).
    public init(sampleRate: Double, preEmphasis: Float?, framing: STFTConfiguration, scale: FrequencyScale,
                filterCount: Int, lowHz: Double = 0, highHz: Double? = nil, spectrum: SpectrumKind,
                logBase: LogBase, logFloor: Float, coefficientCount: Int, includeC0: Bool,
                deltaOrder: Int, delta: DeltaConfiguration) {
        self.sampleRate = sampleRate
        self.preEmphasis = preEmphasis
        self.framing = framing
        self.scale = scale
        self.filterCount = filterCount
        self.lowHz = lowHz
        self.highHz = highHz
        self.spectrum = spectrum
        self.logBase = logBase
        self.logFloor = logFloor
        self.coefficientCount = coefficientCount
        self.includeC0 = includeC0
        self.deltaOrder = deltaOrder
        self.delta = delta
    }

    /// The ASVspoof 2019 LA LFCC baseline front end: pre-emphasis 0.97; 20 ms symmetric Hamming
    /// frames, 10 ms hop, start-aligned (`buffer … 'nodelay'`); 512-point FFT power spectrum;
    /// 20 linear triangular filters over 0…fs/2; log10(· + eps); orthonormal DCT keeping c0…c19;
    /// Δ and ΔΔ by unnormalised ±1-frame regression: 60 values per frame.
    /// - Parameter sampleRate: hertz; the baseline is defined at 16 kHz (frame = 320 samples).
    public static func asvspoof2019LFCC(sampleRate: Double = 16_000) -> CepstralConfiguration {
        let frame = Int((sampleRate * 0.020).rounded())
        return CepstralConfiguration(
            sampleRate: sampleRate, preEmphasis: 0.97,
            framing: STFTConfiguration(frameLength: frame, hop: frame / 2,
                                       fftSize: max(512, STFTConfiguration.nextPowerOfTwo(frame)),
                                       window: .hamming, symmetricWindow: true, layout: .startAligned),
            scale: .linear,
            filterCount: 20, spectrum: .power, logBase: .base10, logFloor: 2.220446049250313e-16,
            coefficientCount: 20, includeC0: true, deltaOrder: 2,
            delta: DeltaConfiguration(halfWidth: 1, normalized: false))
    }

    /// A conventional MFCC front end: pre-emphasis 0.97; 25 ms symmetric Hamming frames, 10 ms hop;
    /// power spectrum; 40 HTK-mel filters over 20 Hz…fs/2; natural log; orthonormal DCT keeping
    /// c0…c12; Δ and ΔΔ by normalised ±2-frame regression: 39 values per frame.
    public static func mfcc(sampleRate: Double = 16_000) -> CepstralConfiguration {
        let frame = Int((sampleRate * 0.025).rounded())
        return CepstralConfiguration(
            sampleRate: sampleRate, preEmphasis: 0.97,
            framing: STFTConfiguration(frameLength: frame, hop: Int((sampleRate * 0.010).rounded()),
                                       window: .hamming, symmetricWindow: true, layout: .startAligned),
            scale: .mel,
            filterCount: 40, lowHz: 20, spectrum: .power, logBase: .natural, logFloor: 1e-10,
            coefficientCount: 13, includeC0: true, deltaOrder: 2,
            delta: DeltaConfiguration(halfWidth: 2, normalized: true))
    }
}
