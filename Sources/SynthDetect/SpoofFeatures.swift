public import AudioCore
import DSP
import Foundation

/// The front end of the synthetic-speech detector: one fixed-length vector per utterance (or
/// segment) of statistics over its speech frames, computed at 8 kHz so that telephone-band and
/// wideband audio are treated alike and bandwidth is not a cue.
///
/// Blocks (all level-invariant, and computed on speech frames only, so leading/trailing silence
/// and loudness carry no information):
/// - **LFCC statistics** (79): the ASVspoof 2019 LFCC front end at 8 kHz (20 linear filters
///   0–4 kHz, c0…c19 + Δ + ΔΔ); the standard deviation of each of the 60 dimensions and the mean of
///   c1…c19 (not c0, the level; Δ means are near-zero noise).
/// - **Long-term spectral shape** (24): mean log power in 24 linear bands 100–3700 Hz minus its
///   average over the bands.
/// - **Modulation** (8): per 4 sub-bands, the standard deviation of the frame-to-frame change of
///   the band's log energy and the lag-1 autocorrelation of its log-energy trajectory.
/// - **Spectral flatness** (2): mean and standard deviation of per-frame flatness (dB) in 100–3700 Hz.
public struct SpoofFeatureExtractor: Sendable {
    /// What the features are; stored in models so a model is only used with the features it was trained on.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Feature-set name and version.
        public var name: String
        /// Analysis rate, hertz.
        public var sampleRate: Double
        /// Frames quieter than this many dB below the 95th-percentile frame energy are not speech.
        public var speechRangeDB: Double
        /// Frames quieter than this (dBFS) are never speech.
        public var speechFloorDBFS: Double
        /// Vector length.
        public var dimension: Int

        /// The configuration VoiceGuard ships.
        public static let standard = Configuration(name: "lfcc-stats+ltas+mod+flatness/1", sampleRate: 8_000,
                                                   speechRangeDB: 35, speechFloorDBFS: -100, dimension: 113)
    }

    /// The configuration.
    public let configuration: Configuration
    /// Shortest speech (seconds of speech frames) a vector is computed from.
    public static let minimumSpeechSeconds = 0.3

    private let cepstra: CepstralExtractor
    private let stft: STFT
    private let ltasBands: [Range<Int>]
    private let modulationBands: [Range<Int>]
    private let flatnessBins: Range<Int>

    /// Creates the extractor.
    public init(_ configuration: Configuration = .standard) {
        self.configuration = configuration
        let rate = configuration.sampleRate
        cepstra = try! CepstralExtractor(.asvspoof2019LFCC(sampleRate: rate))
        let framing = CepstralConfiguration.asvspoof2019LFCC(sampleRate: rate).framing
        stft = try! STFT(STFTConfiguration(frameLength: framing.frameLength, hop: framing.hop, fftSize: 256,
                                           window: .hamming, symmetricWindow: true, layout: .startAligned))
        let binHz = rate / 256
        func bins(_ lo: Double, _ hi: Double) -> Range<Int> { Int((lo / binHz).rounded())..<max(Int((lo / binHz).rounded()) + 1, Int((hi / binHz).rounded())) }
        ltasBands = (0..<24).map { i in bins(100 + Double(i) * 150, 100 + Double(i + 1) * 150) }
        modulationBands = [bins(100, 600), bins(600, 1300), bins(1300, 2300), bins(2300, 3700)]
        flatnessBins = bins(100, 3700)
    }

    /// Mono samples of `audio` at the analysis rate (channels mixed, resampled with soxr when needed).
    public func analysisSignal(_ audio: AudioBuffer) throws(SynthDetectError) -> [Float] {
        guard audio.channelCount >= 1, audio.sampleRate >= 4_000 else {
            throw .unsupportedAudio(detail: "\(audio.channelCount) channels at \(audio.sampleRate) Hz")
        }
        let mono = audio.channelCount == 1 ? audio.samples : ChannelMixer.mono(audio)
        if audio.sampleRate == configuration.sampleRate { return mono }
        do {
            return try Resampler.resample(AudioBuffer(mono: mono, sampleRate: audio.sampleRate),
                                          to: configuration.sampleRate).samples
        } catch {
            throw .unsupportedAudio(detail: "resampling from \(audio.sampleRate) Hz failed: \(error)")
        }
    }

    /// The feature vector of a whole recording.
    /// - Throws: `SynthDetectError.tooShort` when it holds less than `minimumSpeechSeconds` of speech.
    public func features(of audio: AudioBuffer) throws(SynthDetectError) -> [Float] {
        try features(signal: analysisSignal(audio))
    }

    /// The feature vector of a mono signal at the analysis rate.
    public func features(signal: [Float]) throws(SynthDetectError) -> [Float] {
        let analysis = analyse(signal)
        return try vector(analysis, frames: 0..<analysis.frameCount)
    }

    /// Per-frame quantities, computed once and reused for a recording's segments.
    struct FrameAnalysis {
        var frameCount: Int
        var lfcc: FeatureMatrix
        var energyDB: [Float]
        var bandLog: [Float]        // frames × 24 (LTAS bands)
        var modulationLog: [Float]  // frames × 4
        var flatnessDB: [Float]
    }

    func analyse(_ signal: [Float]) -> FrameAnalysis {
        let lfcc = (try? cepstra.extract(signal)) ?? FeatureMatrix(frameCount: 0, dimension: 60, values: [])
        let frames = min(lfcc.frameCount, stft.frameCount(length: signal.count))
        var energy = [Float](repeating: -200, count: frames)
        var bandLog = [Float](repeating: 0, count: frames * 24)
        var modulation = [Float](repeating: 0, count: frames * 4)
        var flatness = [Float](repeating: 0, count: frames)
        let frameLength = stft.configuration.frameLength, hop = stft.configuration.hop
        signal.withUnsafeBufferPointer { x in
            for f in 0..<frames {
                var e: Float = 0
                let start = f * hop
                for k in start..<min(x.count, start + frameLength) { e += x[k] * x[k] }
                energy[f] = 10 * Foundation.log10(max(e / Float(frameLength), 1e-20))
            }
            stft.forEachFrame(of: x) { f, spectrum in
                guard f < frames else { return }
                func power(_ k: Int) -> Float { spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1] + 1e-12 }
                for (b, range) in ltasBands.enumerated() {
                    var s: Float = 0
                    for k in range { s += power(k) }
                    bandLog[f * 24 + b] = Foundation.log(s / Float(range.count))
                }
                for (b, range) in modulationBands.enumerated() {
                    var s: Float = 0
                    for k in range { s += power(k) }
                    modulation[f * 4 + b] = Foundation.log(s)
                }
                var logSum: Float = 0, sum: Float = 0
                for k in flatnessBins { let p = power(k); logSum += Foundation.log(p); sum += p }
                let n = Float(flatnessBins.count)
                flatness[f] = 10 / Foundation.log(10) * (logSum / n - Foundation.log(sum / n))
            }
        }
        return FrameAnalysis(frameCount: frames, lfcc: lfcc, energyDB: energy, bandLog: bandLog,
                             modulationLog: modulation, flatnessDB: flatness)
    }

    /// Speech frames of `frames`: above the floor and within `speechRangeDB` of the 95th-percentile
    /// energy of the frames above the floor.
    func speechFrames(_ a: FrameAnalysis, frames: Range<Int>) -> [Int] {
        let floor = Float(configuration.speechFloorDBFS)
        // The reference is taken over frames above the floor, so added silence does not move it.
        let sorted = a.energyDB[frames].filter { $0 >= floor }.sorted()
        guard !sorted.isEmpty else { return [] }
        let reference = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))]
        let threshold = max(floor, reference - Float(configuration.speechRangeDB))
        return frames.filter { a.energyDB[$0] >= threshold }
    }

    func vector(_ a: FrameAnalysis, frames: Range<Int>) throws(SynthDetectError) -> [Float] {
        let speech = speechFrames(a, frames: frames)
        let hopSeconds = Double(stft.configuration.hop) / configuration.sampleRate
        let seconds = Double(speech.count) * hopSeconds
        guard seconds >= Self.minimumSpeechSeconds, speech.count >= 4 else {
            throw .tooShort(seconds: seconds, minimumSeconds: Self.minimumSpeechSeconds)
        }
        var out: [Float] = []
        out.reserveCapacity(configuration.dimension)
        let n = Float(speech.count)
        // LFCC statistics.
        for d in 0..<a.lfcc.dimension {
            var mean: Float = 0
            for f in speech { mean += a.lfcc[f, d] }
            mean /= n
            var variance: Float = 0
            for f in speech { let v = a.lfcc[f, d] - mean; variance += v * v }
            if d != 0 && d < 20 { out.append(mean) }  // static c1…c19 (Δ means are ~0 noise; c0 is the level)
            out.append((variance / n).squareRoot())
        }
        // Long-term spectral shape.
        var ltas = [Float](repeating: 0, count: 24)
        for f in speech { for b in 0..<24 { ltas[b] += a.bandLog[f * 24 + b] } }
        let ltasMean = ltas.reduce(0, +) / 24
        for b in 0..<24 { out.append((ltas[b] - ltasMean) / n) }
        // Modulation: change and smoothness of each sub-band's log energy over consecutive speech frames.
        for b in 0..<4 {
            var diffs: [Float] = []
            var values: [Float] = []
            for (i, f) in speech.enumerated() {
                values.append(a.modulationLog[f * 4 + b])
                if i > 0, speech[i - 1] == f - 1 { diffs.append(a.modulationLog[f * 4 + b] - a.modulationLog[(f - 1) * 4 + b]) }
            }
            out.append(Self.standardDeviation(diffs))
            out.append(Self.lagOneCorrelation(values))
        }
        // Spectral flatness.
        let flat = speech.map { a.flatnessDB[$0] }
        out.append(flat.reduce(0, +) / n)
        out.append(Self.standardDeviation(flat))
        precondition(out.count == configuration.dimension, "feature dimension \(out.count)")
        return out.map { $0.isFinite ? $0 : 0 }
    }

    static func standardDeviation(_ x: [Float]) -> Float {
        guard x.count > 1 else { return 0 }
        let m = x.reduce(0, +) / Float(x.count)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(x.count)).squareRoot()
    }

    static func lagOneCorrelation(_ x: [Float]) -> Float {
        guard x.count > 2 else { return 0 }
        let m = x.reduce(0, +) / Float(x.count)
        var num: Float = 0, den: Float = 0
        for i in x.indices {
            den += (x[i] - m) * (x[i] - m)
            if i > 0 { num += (x[i] - m) * (x[i - 1] - m) }
        }
        return den > 0 ? num / den : 0
    }

    /// Feature vectors of consecutive segments of `seconds` (hop `seconds / 2`) of a recording,
    /// with their start and end times; segments with too little speech are skipped.
    public func segmentFeatures(of audio: AudioBuffer, seconds: Double) throws(SynthDetectError)
        -> [(start: Double, end: Double, features: [Float])] {
        let signal = try analysisSignal(audio)
        let analysis = analyse(signal)
        let hopSeconds = Double(stft.configuration.hop) / configuration.sampleRate
        let length = max(1, Int((seconds / hopSeconds).rounded()))
        let step = max(1, length / 2)
        var out: [(start: Double, end: Double, features: [Float])] = []
        var start = 0
        while start < analysis.frameCount {
            let end = min(analysis.frameCount, start + length)
            if let v = try? vector(analysis, frames: start..<end) {
                out.append((Double(start) * hopSeconds, Double(end) * hopSeconds, v))
            }
            if end == analysis.frameCount { break }
            start += step
        }
        return out
    }
}
