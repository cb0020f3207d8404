public import AudioCore
import DSP
import Foundation

/// The front end of the synthetic-speech detector: one fixed-length vector per utterance (or
/// segment) of statistics over its speech frames, computed at 8 kHz so that telephone-band and
/// wideband audio are treated alike and bandwidth is not a cue.
///
/// Blocks (all level-invariant, and computed on speech frames only, so leading/trailing silence
/// and loudness carry no information):
/// - **Cepstral dynamics** (40): standard deviation of the Δ and ΔΔ coefficients of the ASVspoof
///   2019 LFCC front end at 8 kHz (20 linear filters 0–4 kHz, c0…c19).
/// - **Modulation** (8): per 4 sub-bands (100–600, 600–1300, 1300–2300, 2300–3700 Hz), the
///   standard deviation of the frame-to-frame change of the band's log energy and the lag-1
///   autocorrelation of its log-energy trajectory.
/// - **Micro-prosody** (8): voiced fraction, mean and spread of the voicing strength (normalised
///   autocorrelation, a harmonics-to-noise measure), F0 spread in semitones, mean and spread of
///   frame-to-frame F0 steps, mean F0 curvature, and the share of F0 jumps over a semitone.
///
/// Static cepstral means, the long-term spectrum, spectral flatness and Δ kurtosis were measured
/// and left out: they describe the speaker and channel more than the synthesizer, and cost
/// 5–20 EER points on unseen speakers and engines (docs/synthdetect-notes.md).
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
        public static let standard = Configuration(name: "lfcc-dynamics+modulation+prosody/2", sampleRate: 8_000,
                                                   speechRangeDB: 35, speechFloorDBFS: -100, dimension: 56)
    }

    /// The configuration.
    public let configuration: Configuration
    /// Shortest speech (seconds of speech frames) a vector is computed from.
    public static let minimumSpeechSeconds = 0.3

    private let cepstra: CepstralExtractor
    private let stft: STFT
    private let modulationBands: [Range<Int>]
    private let pitch: PitchTracker

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
        modulationBands = [bins(100, 600), bins(600, 1300), bins(1300, 2300), bins(2300, 3700)]
        pitch = PitchTracker(sampleRate: rate, hop: framing.hop)
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

    /// The 60-dimensional LFCC (c0…c19, Δ, ΔΔ) of every speech frame, flat: what the LFCC-GMM
    /// baseline scores.
    public func frameFeatures(of audio: AudioBuffer) throws(SynthDetectError) -> [Float] {
        let analysis = analyse(try analysisSignal(audio))
        return try frames(analysis, frames: 0..<analysis.frameCount)
    }

    func frames(_ a: FrameAnalysis, frames: Range<Int>) throws(SynthDetectError) -> [Float] {
        let speech = speechFrames(a, frames: frames)
        let seconds = Double(speech.count) * Double(stft.configuration.hop) / configuration.sampleRate
        guard seconds >= Self.minimumSpeechSeconds, speech.count >= 4 else {
            throw .tooShort(seconds: seconds, minimumSeconds: Self.minimumSpeechSeconds)
        }
        var out: [Float] = []
        out.reserveCapacity(speech.count * a.lfcc.dimension)
        for f in speech { out += a.lfcc[f] }
        return out
    }

    /// Per-frame quantities, computed once and reused for a recording's segments.
    struct FrameAnalysis {
        var frameCount: Int
        var lfcc: FeatureMatrix
        var energyDB: [Float]
        var modulationLog: [Float]  // frames × 4
        var signal: [Float]
    }

    func analyse(_ signal: [Float]) -> FrameAnalysis {
        let lfcc = (try? cepstra.extract(signal)) ?? FeatureMatrix(frameCount: 0, dimension: 60, values: [])
        let frames = min(lfcc.frameCount, stft.frameCount(length: signal.count))
        var energy = [Float](repeating: -200, count: frames)
        var modulation = [Float](repeating: 0, count: frames * 4)
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
                for (b, range) in modulationBands.enumerated() {
                    var s: Float = 0
                    for k in range { s += power(k) }
                    modulation[f * 4 + b] = Foundation.log(s)
                }
            }
        }
        return FrameAnalysis(frameCount: frames, lfcc: lfcc, energyDB: energy, modulationLog: modulation, signal: signal)
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
        // Cepstral dynamics: spread of Δ and ΔΔ.
        for d in 20..<min(60, a.lfcc.dimension) {
            var mean: Float = 0
            for f in speech { mean += a.lfcc[f, d] }
            mean /= n
            var variance: Float = 0
            for f in speech { let v = a.lfcc[f, d] - mean; variance += v * v }
            out.append((variance / n).squareRoot())
        }
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
        // Micro-prosody: voicing and the F0 contour's smoothness over consecutive voiced frames.
        let tracked = pitch.track(a.signal, frames: speech)
        let voiced = tracked.filter { $0.f0 > 0 }
        out.append(Float(voiced.count) / n)
        let strengths = voiced.map(\.strength)
        out.append(strengths.isEmpty ? 0 : strengths.reduce(0, +) / Float(strengths.count))
        out.append(Self.standardDeviation(strengths))
        let semitones = voiced.map { 12 * Foundation.log2($0.f0 / 100) }
        out.append(Self.standardDeviation(semitones))
        var steps: [Float] = [], curvature: [Float] = [], jumps = 0
        for i in 1..<max(1, speech.count) where speech[i] == speech[i - 1] + 1 && tracked[i].f0 > 0 && tracked[i - 1].f0 > 0 {
            let step = 12 * Foundation.log2(tracked[i].f0 / tracked[i - 1].f0)
            if abs(step) > 1 { jumps += 1; continue }
            steps.append(step)
            if i >= 2, speech[i - 2] == speech[i] - 2, tracked[i - 2].f0 > 0 {
                let previous = 12 * Foundation.log2(tracked[i - 1].f0 / tracked[i - 2].f0)
                if abs(previous) <= 1 { curvature.append(abs(step - previous)) }
            }
        }
        out.append(steps.isEmpty ? 0 : steps.map(abs).reduce(0, +) / Float(steps.count))
        out.append(Self.standardDeviation(steps))
        out.append(curvature.isEmpty ? 0 : curvature.reduce(0, +) / Float(curvature.count))
        out.append(Float(jumps) / Float(max(1, steps.count + jumps)))
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
    public func segmentFeatures(of audio: AudioBuffer, seconds: Double, frameLevel: Bool = false) throws(SynthDetectError)
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
            if let v = try? (frameLevel ? frames(analysis, frames: start..<end) : vector(analysis, frames: start..<end)) {
                out.append((Double(start) * hopSeconds, Double(end) * hopSeconds, v))
            }
            if end == analysis.frameCount { break }
            start += step
        }
        return out
    }
}
