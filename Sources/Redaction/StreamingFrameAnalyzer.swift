import AudioCore
import DSP
import Foundation

/// The per-frame front end of the streaming privacy filter: for each 10 ms frame of the 16 kHz analysis signal,
/// the 27 base voice-activity values (`VoiceActivityFeatures`), the frame level and the energies above and below
/// 2.5 kHz (`PrivacyFilter.frameLevels`), and the 20 speaker cepstra (`SpeakerFeatures`, before Δ) — the same
/// definitions as the whole-file analysis, computed one frame at a time as the samples arrive.
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
    private let hann = WindowKind.hann.values(length: AnalysisSignal.frameLength)
    private let hamming = WindowKind.hamming.values(length: AnalysisSignal.frameLength, symmetric: true)
    private let activityBands: TriangularFilterbank
    private let speakerBands: TriangularFilterbank
    private let dct: [Float]  // 20 × 30, orthonormal DCT-II rows c1…c20
    private let pitch = PitchTracker(sampleRate: AnalysisSignal.sampleRate, hop: AnalysisSignal.hop)
    private let flatnessBins = Int(300.0 / 31.25)..<Int(4_000.0 / 31.25)
    private var bandFloor = [Float](repeating: 0, count: VoiceActivityFeatures.bands)
    private var energyFloor: Float = 0
    // Scratch, reused for every frame.
    private let frame = RealFFT.allocate(512), spectrum = RealFFT.allocate(514)
    private let power = UnsafeMutableBufferPointer<Float>.allocate(capacity: 257)
    private let mel = UnsafeMutableBufferPointer<Float>.allocate(capacity: 30)
    private var pitchInput: [Float] = []

    init() {
        activityBands = try! TriangularFilterbank(scale: .mel, filterCount: VoiceActivityFeatures.bands, fftSize: 512,
                                                  sampleRate: AnalysisSignal.sampleRate, lowHz: 64, highHz: 7_600)
        speakerBands = try! TriangularFilterbank(scale: .mel, filterCount: 30, fftSize: 512,
                                                 sampleRate: AnalysisSignal.sampleRate, lowHz: 100, highHz: 3_800)
        var matrix = [Float](repeating: 0, count: 20 * 30)
        for row in 0..<20 {
            for n in 0..<30 {
                matrix[row * 30 + n] = Float((2.0 / 30).squareRoot() * Foundation.cos(Double.pi * Double(2 * n + 1) * Double(row + 1) / 60))
            }
        }
        dct = matrix
    }

    /// Frees the scratch buffers (the analyzer is owned by one filter; call once).
    func deallocate() {
        RealFFT.deallocate(frame); RealFFT.deallocate(spectrum); power.deallocate(); mel.deallocate()
    }

    /// Analyses frames `frames` (consecutive, in order) of `x`, appending one row per frame to `base` and to `cepstra`.
    mutating func analyse(_ frames: Range<Int>, of x: SampleHistory, base: inout FrameTable, cepstra: inout FrameTable) {
        guard !frames.isEmpty else { return }
        let hop = AnalysisSignal.hop, length = AnalysisSignal.frameLength, lead = length / 2 - hop / 2
        let bands = VoiceActivityFeatures.bands
        // Voicing for the whole batch at once: the tracker's frame k of `pitchInput` is frame frames.lowerBound + k.
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
            activityBands.apply(UnsafeBufferPointer(power), into: UnsafeMutableBufferPointer(rebasing: mel[0..<bands]))
            var total: Float = 0
            for k in 0..<257 { total += power[k] }
            let isFirst = g == 0
            base.append { row in
                for i in 0..<bands {
                    let e = Foundation.log(mel[i] + 1e-10)
                    bandFloor[i] = isFirst ? e : min(e, bandFloor[i] + VoiceActivityFeatures.floorRise)
                    row[i] = e - bandFloor[i]
                }
                let e = Foundation.log(total + 1e-10)
                energyFloor = isFirst ? e : min(e, energyFloor + VoiceActivityFeatures.floorRise)
                row[bands] = e - energyFloor
                row[bands + 1] = voicing[k].strength
                var logSum: Float = 0, sum: Float = 0
                for b in flatnessBins { logSum += Foundation.log(power[b] + 1e-12); sum += power[b] + 1e-12 }
                let n = Float(flatnessBins.count)
                row[bands + 2] = logSum / n - Foundation.log(sum / n)
                row[bands + 3] = 10 * Foundation.log10(energy / Float(length) + 1e-12)
                var high: Float = 0, low: Float = 0
                for b in 10..<224 { if b < 80 { low += power[b] } else { high += power[b] } }
                row[bands + 4] = high
                row[bands + 5] = low
            }
            // Speaker cepstra: pre-emphasis 0.97, symmetric Hamming, 30 mel bands 100–3800 Hz, c1…c20.
            for i in 0..<length { frame[i] = (x.value(start + i) - 0.97 * x.value(start + i - 1)) * hamming[i] }
            fft.forward(frame.baseAddress!, spectrum.baseAddress!)
            Kernels.squaredMagnitudes(interleaved: UnsafeBufferPointer(spectrum), into: power)
            speakerBands.apply(UnsafeBufferPointer(power), into: mel)
            for i in 0..<30 { mel[i] = Foundation.log(mel[i] + 1e-10) }
            cepstra.append { row in
                dct.withUnsafeBufferPointer { d in
                    for r in 0..<20 { row[r] = Kernels.dot(UnsafeBufferPointer(rebasing: d[(r * 30)..<((r + 1) * 30)]), UnsafeBufferPointer(mel)) }
                }
            }
        }
    }
}
