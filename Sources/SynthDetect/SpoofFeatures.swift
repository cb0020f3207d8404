public import AudioCore
import DSP
import Foundation

/// The front end of the synthetic-speech detector: one fixed-length vector per utterance (or
/// segment) of statistics over its speech frames, computed at 8 kHz so that telephone-band and
/// wideband audio are treated alike and bandwidth is not a cue.
///
/// The vector is the concatenation of the configuration's `SpoofFeatureBlock`s (LFCC dynamics,
/// modulation, micro-prosody, voice quality, CQCC, modified group delay, sub-band cepstra, long-term
/// spectrum). Every block is level-invariant and computed on speech frames only, so leading/trailing
/// silence and loudness carry no information. The shipped set (`Configuration.standard`) is LFCC
/// dynamics + modulation + micro-prosody, chosen by the feature study in docs/synthdetect-notes.md:
/// static cepstral means and the long-term spectrum describe the speaker and channel more than the
/// synthesizer and cost EER points on unseen speakers and engines.
public struct SpoofFeatureExtractor: Sendable {
    /// What the features are; stored in models so a model is only used with the features it was trained on.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Feature-set name and version: the block names joined by "+", then "/2".
        public var name: String
        /// Analysis rate, hertz.
        public var sampleRate: Double
        /// Frames quieter than this many dB below the 95th-percentile frame energy are not speech.
        public var speechRangeDB: Double
        /// Frames quieter than this (dBFS) are never speech.
        public var speechFloorDBFS: Double
        /// Vector length.
        public var dimension: Int

        /// Feature-set version appended to the name.
        public static let version = "/2"

        /// A configuration of `blocks` (in that order) at 8 kHz.
        public init(blocks: [SpoofFeatureBlock]) {
            name = blocks.map(\.rawValue).joined(separator: "+") + Self.version
            sampleRate = 8_000
            speechRangeDB = 35
            speechFloorDBFS = -100
            dimension = blocks.reduce(0) { $0 + $1.dimension }
        }

        /// The blocks named by `name`, or nil when the name is not one this build computes.
        public var blocks: [SpoofFeatureBlock]? {
            guard name.hasSuffix(Self.version) else { return nil }
            let list = name.dropLast(Self.version.count).split(separator: "+").map { SpoofFeatureBlock(rawValue: String($0)) }
            guard !list.isEmpty, !list.contains(nil) else { return nil }
            return list.compactMap { $0 }
        }

        /// Whether this build computes exactly this configuration (a model's features are checked with it).
        public var isSupported: Bool {
            guard let blocks else { return false }
            return Configuration(blocks: blocks) == self
        }

        /// The configuration VoiceGuard ships.
        public static let standard = Configuration(blocks: [.lfccDynamics, .modulation, .prosody, .voiceQuality])
    }

    /// The configuration.
    public let configuration: Configuration
    /// Its blocks, in order.
    public let blocks: [SpoofFeatureBlock]
    /// Shortest speech (seconds of speech frames) a vector is computed from.
    public static let minimumSpeechSeconds = 0.3

    private let cepstra: CepstralExtractor
    let stft: STFT
    private let modulationBands: [Range<Int>]
    let pitch: PitchTracker
    private let constantQ: ConstantQCepstralExtractor?
    private let groupDelay: ModifiedGroupDelayExtractor?

    /// Creates the extractor.
    /// - Precondition: `configuration.isSupported` (models are validated on load).
    public init(_ configuration: Configuration = .standard) {
        precondition(configuration.isSupported, "unsupported feature configuration \(configuration.name)")
        self.configuration = configuration
        blocks = configuration.blocks ?? []
        let rate = configuration.sampleRate
        cepstra = try! CepstralExtractor(.asvspoof2019LFCC(sampleRate: rate))
        let framing = CepstralConfiguration.asvspoof2019LFCC(sampleRate: rate).framing
        stft = try! STFT(STFTConfiguration(frameLength: framing.frameLength, hop: framing.hop, fftSize: 256,
                                           window: .hamming, symmetricWindow: true, layout: .startAligned))
        let binHz = rate / 256
        func bins(_ lo: Double, _ hi: Double) -> Range<Int> { Int((lo / binHz).rounded())..<max(Int((lo / binHz).rounded()) + 1, Int((hi / binHz).rounded())) }
        modulationBands = [bins(100, 600), bins(600, 1300), bins(1300, 2300), bins(2300, 3700)]
        pitch = PitchTracker(sampleRate: rate, hop: framing.hop)
        // CQT frames are centred on the LFCC frames' centres so frame f means the same time in every block.
        constantQ = blocks.contains(where: { $0 == .cqccDynamics || $0 == .cqccStatics })
            ? try! ConstantQCepstralExtractor(.speech(sampleRate: rate, centreOffset: framing.frameLength / 2)) : nil
        groupDelay = blocks.contains(.groupDelay) ? try! ModifiedGroupDelayExtractor(.speech(sampleRate: rate)) : nil
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
        var bandLog: [Float]        // frames × 32 linear bands of 125 Hz
        var cqcc: FeatureMatrix?
        var groupDelay: FeatureMatrix?
        var peakToMeanDB: [Float]   // strongest 62.5–4000 Hz bin over the mean bin, per frame
        var signal: [Float]
    }

    /// Linear bands of the sub-band and long-term-spectrum blocks.
    static let linearBandCount = 32

    func analyse(_ signal: [Float]) -> FrameAnalysis {
        let lfcc = (try? cepstra.extract(signal)) ?? FeatureMatrix(frameCount: 0, dimension: 60, values: [])
        let gd = groupDelay.flatMap { try? $0.extract(signal) }
        let frameLength = stft.configuration.frameLength, hop = stft.configuration.hop
        var energy = [Float](repeating: -200, count: min(lfcc.frameCount, stft.frameCount(length: signal.count)))
        signal.withUnsafeBufferPointer { x in
            for f in energy.indices {
                var e: Float = 0
                let start = f * hop
                for k in start..<min(x.count, start + frameLength) { e += x[k] * x[k] }
                energy[f] = 10 * Foundation.log10(max(e / Float(frameLength), 1e-20))
            }
        }
        // CQCC keeps an absolute log floor, so its input is first brought to a fixed speech level
        // (95th-percentile frame at −20 dBFS): the block is then level-invariant like the others.
        let cqcc = constantQ.flatMap { extractor -> FeatureMatrix? in
            let gain = referenceLevel(energy[...]).map { Foundation.pow(10, (-20 - $0) / 20) } ?? 1
            return try? extractor.extract(gain == 1 ? signal : signal.map { $0 * gain })
        }
        var frames = energy.count
        if let cqcc { frames = min(frames, cqcc.frameCount) }
        if let gd { frames = min(frames, gd.frameCount) }
        energy.removeLast(energy.count - frames)
        var modulation = [Float](repeating: 0, count: frames * 4)
        let bandCount = Self.linearBandCount
        let needsBands = blocks.contains(.longTermSpectrum) || blocks.contains(.subbandCepstra)
        var bandLog = [Float](repeating: 0, count: needsBands ? frames * bandCount : 0)
        var peakToMean = [Float](repeating: 0, count: frames)
        let binsPerBand = (stft.configuration.fftSize / 2) / bandCount
        let peakBins = 2..<(stft.configuration.fftSize / 2)
        signal.withUnsafeBufferPointer { x in
            stft.forEachFrame(of: x) { f, spectrum in
                guard f < frames else { return }
                func power(_ k: Int) -> Float { spectrum[2 * k] * spectrum[2 * k] + spectrum[2 * k + 1] * spectrum[2 * k + 1] + 1e-12 }
                for (b, range) in modulationBands.enumerated() {
                    var s: Float = 0
                    for k in range { s += power(k) }
                    modulation[f * 4 + b] = Foundation.log(s)
                }
                var peak: Float = 0, total: Float = 0
                for k in peakBins {
                    let p = power(k)
                    total += p
                    peak = max(peak, p)
                }
                peakToMean[f] = 10 * Foundation.log10(peak * Float(peakBins.count) / total)
                for b in 0..<(needsBands ? bandCount : 0) {
                    var s: Float = 0
                    for k in (b * binsPerBand)..<((b + 1) * binsPerBand) { s += power(k) }
                    bandLog[f * bandCount + b] = Foundation.log(s)
                }
            }
        }
        return FrameAnalysis(frameCount: frames, lfcc: lfcc, energyDB: energy, modulationLog: modulation, bandLog: bandLog,
                             cqcc: cqcc, groupDelay: gd, peakToMeanDB: peakToMean, signal: signal)
    }

    /// Speech frames of `frames`: above the floor and within `speechRangeDB` of the 95th-percentile
    /// energy of the frames above the floor.
    func speechFrames(_ a: FrameAnalysis, frames: Range<Int>) -> [Int] {
        guard let reference = referenceLevel(a.energyDB[frames]) else { return [] }
        let threshold = max(Float(configuration.speechFloorDBFS), reference - Float(configuration.speechRangeDB))
        return frames.filter { a.energyDB[$0] >= threshold }
    }

    /// The 95th-percentile energy (dB) of the frames above the floor; taken over those frames only, so
    /// added silence does not move it. Nil when no frame is above the floor.
    func referenceLevel(_ energyDB: ArraySlice<Float>) -> Float? {
        let floor = Float(configuration.speechFloorDBFS)
        let sorted = energyDB.filter { $0 >= floor }.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))]
    }

    func vector(_ a: FrameAnalysis, frames: Range<Int>) throws(SynthDetectError) -> [Float] {
        try vector(a, speech: speechFrames(a, frames: frames), tracked: nil)
    }

    /// The feature vector of the speech frames `speech` (`tracked`: their pitch track when already computed).
    func vector(_ a: FrameAnalysis, speech: [Int], tracked known: [(f0: Float, strength: Float)]?) throws(SynthDetectError) -> [Float] {
        let hopSeconds = Double(stft.configuration.hop) / configuration.sampleRate
        let seconds = Double(speech.count) * hopSeconds
        guard seconds >= Self.minimumSpeechSeconds, speech.count >= 4 else {
            throw .tooShort(seconds: seconds, minimumSeconds: Self.minimumSpeechSeconds)
        }
        var out: [Float] = []
        out.reserveCapacity(configuration.dimension)
        var tracked: [(f0: Float, strength: Float)]? = known
        func pitchTrack() -> [(f0: Float, strength: Float)] {
            if let tracked { return tracked }
            let t = pitch.track(a.signal, frames: speech)
            tracked = t
            return t
        }
        for block in blocks {
            let before = out.count
            switch block {
            case .lfccDynamics: out += Self.spread(a.lfcc, columns: 20..<60, frames: speech)
            case .modulation: out += Self.modulationStatistics(a.modulationLog, frames: speech)
            case .prosody: out += Self.prosodyStatistics(pitchTrack(), frames: speech)
            case .voiceQuality:
                out += VoiceQuality.measure(a.signal, frames: speech, tracked: pitchTrack(), hop: stft.configuration.hop,
                                            sampleRate: configuration.sampleRate)
            case .cqccDynamics: out += Self.spread(a.cqcc!, columns: 19..<57, frames: speech)
            case .cqccStatics: out += Self.meanAndSpread(a.cqcc!, columns: 0..<19, frames: speech)
            case .groupDelay: out += Self.meanAndSpread(a.groupDelay!, columns: 0..<20, frames: speech)
            case .subbandCepstra: out += Self.subbandCepstra(a.bandLog, frames: speech)
            case .longTermSpectrum: out += Self.longTermSpectrum(a.bandLog, frames: speech)
            }
            precondition(out.count - before == block.dimension, "block \(block.rawValue) gave \(out.count - before) values")
        }
        return out.map { $0.isFinite ? $0 : 0 }
    }
}
