import AudioCore
import DSP
import Foundation

/// The per-frame front end of the streaming privacy filter: for each 10 ms frame of the 16 kHz analysis signal,
/// the 27 base voice-activity values (`VoiceActivityFeatures.baseValues`, the same code as the whole-file detector),
/// the frame level and the energies above and below 2.5 kHz (as `PrivacyFilter.frameLevels`), and the 20 speaker
/// cepstra (`SpeakerFeatures`' extractor, `CepstralExtractor.cepstrum`, before Δ) — computed one frame at a time as
/// the samples arrive.
///
/// A frame's values depend only on the samples in its windows (and, for the noise floors, on the frames before it),
/// never on how the stream was cut into blocks. Frame g needs samples up to g·160 + 480 (the pitch tracker's 40 ms
/// window is centred on g·160 + 160).
struct StreamingFrameAnalyzer {
    /// Values per frame in `base`: 27 voice-activity values, then level (dB), high and low energy.
    static let baseWidth = VoiceActivityFeatures.baseDimension + 3
    /// Samples past a frame's start it needs.
    static let samplesAhead = 480

    private let fft = RealFFT(size: 512)
    private let activity = VoiceActivityFeatures()
    private let speaker = SpeakerFeatures()
    private let hann = WindowKind.hann.values(length: AnalysisSignal.frameLength)
    private let speakerWindow: [Float]
    private let preEmphasis: Float
    private let pitch = PitchTracker(sampleRate: AnalysisSignal.sampleRate, hop: AnalysisSignal.hop)
    private var floors = VoiceActivityFeatures.NoiseFloors()
    // Scratch, reused for every frame.
    private let frame = RealFFT.allocate(512), spectrum = RealFFT.allocate(514)
    private let power = UnsafeMutableBufferPointer<Float>.allocate(capacity: 257)
    private let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)
    private var pitchInput: [Float] = []

    init() {
        let c = speaker.extractor.configuration
        speakerWindow = c.framing.window.values(length: c.framing.frameLength, symmetric: c.framing.symmetricWindow)
        preEmphasis = c.preEmphasis ?? 0
    }

    /// Frees the scratch buffers (the analyzer is owned by one filter; call once).
    func deallocate() {
        RealFFT.deallocate(frame); RealFFT.deallocate(spectrum); power.deallocate(); scratch.deallocate()
    }

    /// Analyses frames `frames` (consecutive, in order) of `x`, appending one row per frame to `base` and to `cepstra`.
    mutating func analyse(_ frames: Range<Int>, of x: SampleHistory, base: inout FrameTable, cepstra: inout FrameTable) {
        guard !frames.isEmpty else { return }
        let hop = AnalysisSignal.hop, length = AnalysisSignal.frameLength, lead = length / 2 - hop / 2
        let bands = VoiceActivityFeatures.bands
        // Voicing for the whole batch at once: the tracker's frame k of `pitchInput` is frame frames.lowerBound + k − 1.
        let origin = (frames.lowerBound - 1) * hop
        let pitchLength = frames.count * hop + Self.samplesAhead
        if pitchInput.count != pitchLength { pitchInput = [Float](repeating: 0, count: pitchLength) }
        for i in 0..<pitchLength { pitchInput[i] = x.value(origin + i) }
        let voicing = pitch.track(pitchInput, frames: Array(1...frames.count))
        for (k, g) in frames.enumerated() {
            let start = g * hop - lead
            // Voice activity, level and tilt: periodic Hann, as the STFT of `VoiceActivityFeatures`.
            var energy: Float = 0
            for i in 0..<length {
                let v = x.value(start + i)
                frame[i] = v * hann[i]
                energy += v * v
            }
            for i in length..<512 { frame[i] = 0 }
            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
            Kernels.squaredMagnitudes(interleaved: UnsafeBufferPointer(spectrum), into: power)
            base.append { row in
                activity.baseValues(power: UnsafeBufferPointer(power), scratch: scratch, floors: &floors, into: row)
                row[bands + 1] = voicing[k].strength
                row[bands + 3] = PrivacyFilter.levelDB(energy: energy, samples: length)
                (row[bands + 4], row[bands + 5]) = PrivacyFilter.tiltEnergies { power[$0] }
            }
            // Speaker cepstra: the extractor's pre-emphasis and window, then its filterbank, log and DCT.
            for i in 0..<length { frame[i] = (x.value(start + i) - preEmphasis * x.value(start + i - 1)) * speakerWindow[i] }
            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
            Kernels.squaredMagnitudes(interleaved: UnsafeBufferPointer(spectrum), into: power)
            cepstra.append { row in speaker.extractor.cepstrum(UnsafeBufferPointer(power), scratch: scratch, into: row) }
        }
    }
}
