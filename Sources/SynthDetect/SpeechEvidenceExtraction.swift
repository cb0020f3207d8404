public import AudioCore
import Foundation

/// What the detector scores for one recording or segment: its feature vector (nil when it holds too little speech
/// to score) and the speech gate's evidence (nil when no frame is above the floor: silence).
public struct DetectorInput: Sendable {
    /// Start and end of the analysed span, seconds.
    public var start: Double
    public var end: Double
    /// The model's input (utterance vector or flat speech-frame LFCCs), nil with under `minimumSpeechSeconds` of speech.
    public var features: [Float]?
    /// `SpeechEvidence.names` statistics, nil when nothing is above the silence floor.
    public var evidence: [Float]?
}

extension SpoofFeatureExtractor {
    /// Features and speech evidence of a whole recording (one analysis, one pitch track).
    /// - Parameter frameLevel: features as speech-frame LFCCs (the lfcc-gmm back end) instead of an utterance vector.
    /// - Throws: `SynthDetectError.tooShort` when the recording itself is shorter than `minimumSpeechSeconds`;
    ///   `unsupportedAudio` as `analysisSignal`.
    public func detectorInput(of audio: AudioBuffer, frameLevel: Bool = false) throws(SynthDetectError) -> DetectorInput {
        guard audio.duration >= Self.minimumSpeechSeconds else {
            throw .tooShort(seconds: audio.duration, minimumSeconds: Self.minimumSpeechSeconds)
        }
        let analysis = analyse(try analysisSignal(audio))
        return input(analysis, frames: 0..<analysis.frameCount, frameLevel: frameLevel)
    }

    /// Features and speech evidence of consecutive segments of `seconds` (hop `seconds / 2`); segments with nothing
    /// above the silence floor are left out.
    public func segmentInputs(of audio: AudioBuffer, seconds: Double, frameLevel: Bool = false) throws(SynthDetectError) -> [DetectorInput] {
        let analysis = analyse(try analysisSignal(audio))
        let hopSeconds = Double(stft.configuration.hop) / configuration.sampleRate
        let length = max(1, Int((seconds / hopSeconds).rounded()))
        let step = max(1, length / 2)
        var out: [DetectorInput] = []
        var start = 0
        while start < analysis.frameCount {
            let end = min(analysis.frameCount, start + length)
            let segment = input(analysis, frames: start..<end, frameLevel: frameLevel)
            if segment.evidence != nil || segment.features != nil { out.append(segment) }
            if end == analysis.frameCount { break }
            start += step
        }
        return out
    }

    func input(_ a: FrameAnalysis, frames: Range<Int>, frameLevel: Bool) -> DetectorInput {
        let hopSeconds = Double(stft.configuration.hop) / configuration.sampleRate
        let speech = speechFrames(a, frames: frames)
        let tracked = speech.isEmpty ? [] : pitch.track(a.signal, frames: speech)
        let features = frameLevel ? try? self.frames(a, frames: frames)
            : try? vector(a, speech: speech, tracked: tracked)
        return DetectorInput(start: Double(frames.lowerBound) * hopSeconds, end: Double(frames.upperBound) * hopSeconds,
                             features: features, evidence: speechEvidence(a, frames: frames, speech: speech, tracked: tracked))
    }

    /// The speech gate's evidence (`SpeechEvidence.names`) of a whole recording; nil for silence.
    public func speechEvidence(of audio: AudioBuffer) throws(SynthDetectError) -> [Float]? {
        try detectorInput(of: audio).evidence
    }

    /// `SpeechEvidence.names` over `frames` whose speech frames are `speech` with pitch track `tracked`.
    func speechEvidence(_ a: FrameAnalysis, frames: Range<Int>, speech: [Int], tracked: [(f0: Float, strength: Float)]) -> [Float]? {
        guard let first = speech.first, let last = speech.last, let reference = referenceLevel(a.energyDB[frames]) else { return nil }
        let floor = Float(configuration.speechFloorDBFS)
        let aboveFloor = frames.filter { a.energyDB[$0] >= floor }.count
        let span = first...last
        let n = Float(span.count)
        let energy = span.map { max(a.energyDB[$0], reference - 40) }
        let dips20 = Float(energy.filter { $0 < reference - 20 }.count) / n
        let dips10 = Float(energy.filter { $0 < reference - 10 }.count) / n
        let energySpread = Self.standardDeviation(energy)
        let modulation = Self.syllabicModulationShare(energy, frameRate: configuration.sampleRate / Double(stft.configuration.hop))
        // Voicing and pitch over the speech frames.
        let voiced = tracked.filter { $0.f0 > 0 }
        let voicedShare = Float(voiced.count) / Float(speech.count)
        var steps: [Float] = [], runs: [Int] = [], run = 0
        for i in speech.indices {
            if tracked[i].f0 > 0 {
                run += 1
                if i > 0, speech[i] == speech[i - 1] + 1, tracked[i - 1].f0 > 0 {
                    steps.append(abs(12 * Foundation.log2(tracked[i].f0 / tracked[i - 1].f0)))
                }
            }
            if tracked[i].f0 <= 0 || i + 1 == speech.count || speech[i + 1] != speech[i] + 1 {
                if run > 0 { runs.append(run) }
                run = 0
            }
        }
        steps.sort()
        let pitchStep = steps.isEmpty ? 0 : steps[steps.count / 2]
        let pitchSpread = Self.standardDeviation(voiced.map { 12 * Foundation.log2($0.f0 / 100) })
        let voicedRun = Foundation.log(1 + (runs.isEmpty ? 0 : Float(runs.reduce(0, +)) / Float(runs.count)))
        // Spectral shape over the speech frames.
        let peaks = speech.map { a.peakToMeanDB[$0] }
        let peakMean = peaks.reduce(0, +) / Float(peaks.count)
        let peakSpread = Self.standardDeviation(peaks)
        var change: Float = 0
        for f in speech {
            var s: Float = 0
            for d in 21..<40 { s += a.lfcc[f, d] * a.lfcc[f, d] }
            change += s.squareRoot()
        }
        change /= Float(speech.count)
        let tilt = Self.standardDeviation(speech.map { a.modulationLog[$0 * 4] - a.modulationLog[$0 * 4 + 2] })
        let active = Float(speech.count) / Float(max(1, aboveFloor))
        // Voicing onsets (unvoiced or pause → voiced) per second of the span: syllables.
        var onsets = 0
        for i in speech.indices where tracked[i].f0 > 0 && (i == 0 || speech[i - 1] != speech[i] - 1 || tracked[i - 1].f0 <= 0) {
            onsets += 1
        }
        let onsetRate = Float(onsets) / (n * Float(stft.configuration.hop) / Float(configuration.sampleRate))
        // 100–600 Hz band log power (natural log) over the span, floored 40 dB (9.21 nepers) below its 95th percentile.
        let lowRaw = span.map { a.modulationLog[$0 * 4] }
        let lowReference = lowRaw.sorted()[min(lowRaw.count - 1, Int(Double(lowRaw.count) * 0.95))]
        let lowBand = lowRaw.map { max($0, lowReference - 9.21) }
        let lowModulation = Self.syllabicModulationShare(lowBand, frameRate: configuration.sampleRate / Double(stft.configuration.hop))
        // Spectral envelope shape and its variability: LFCC c1…c8 over the speech frames.
        var shape: [Float] = []
        for d in 1...8 {
            let column = speech.map { a.lfcc[$0, d] }
            shape.append(column.reduce(0, +) / Float(column.count))
            shape.append(Self.standardDeviation(column))
        }
        return ([dips20, dips10, energySpread, modulation, voicedShare, pitchStep, pitchSpread, voicedRun, peakMean,
                 peakSpread, change, tilt, active, onsetRate, lowModulation] + shape).map { $0.isFinite ? $0 : 0 }
    }

    /// Share of the modulation power of a frame-energy sequence (dB, at `frameRate` frames/s) between 0.5 and 25 Hz
    /// that lies in 2–8 Hz, from DFTs of 4 s windows (hop 2 s; shorter sequences: one window) at 0.25 Hz steps.
    static func syllabicModulationShare(_ energy: [Float], frameRate: Double) -> Float {
        let window = min(energy.count, Int(4 * frameRate))
        guard window >= 8 else { return 0 }
        let hop = max(1, window / 2)
        var inBand = 0.0, total = 0.0
        var start = 0
        var x = [Double](repeating: 0, count: window)
        while start + window <= energy.count {
            var mean = 0.0
            for i in 0..<window { mean += Double(energy[start + i]) }
            mean /= Double(window)
            for i in 0..<window { x[i] = Double(energy[start + i]) - mean }
            var hz = 0.5
            while hz <= 25 {
                let w = 2 * Double.pi * hz / frameRate
                var re = 0.0, im = 0.0
                // Rotating phasor: one complex multiply per sample.
                var c = 1.0, s = 0.0
                let cw = Foundation.cos(w), sw = Foundation.sin(w)
                for i in 0..<window {
                    re += x[i] * c
                    im -= x[i] * s
                    (c, s) = (c * cw - s * sw, s * cw + c * sw)
                }
                let power = re * re + im * im
                total += power
                if hz >= 2 && hz <= 8 { inBand += power }
                hz += 0.25
            }
            start += hop
        }
        return total > 0 ? Float(inBand / total) : 0
    }
}
