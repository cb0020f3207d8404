import AudioCore
public import DSP
import Foundation

/// Frame features of the voice activity detector, on the 16 kHz analysis signal, one row per 10 ms
/// frame (frame f = samples f·160 ..< (f+1)·160; its 25 ms Hann window is centred on that interval).
///
/// Per frame (27 values, all relative to a causally tracked noise floor, so level does not matter):
/// - 24 mel bands (64–7600 Hz): log energy above the band's floor (the floor follows the minimum,
///   rising at most 0.02 nat per frame, i.e. about 8.7 dB/s);
/// - total log energy above its floor;
/// - voicing strength (peak normalised autocorrelation, `PitchTracker`, 0…1);
/// - log spectral flatness over 300–4000 Hz (≤ 0; noise near 0, harmonic sounds far below).
///
/// Then the means of those 27 over ±5 frames and over ±25 frames (the detector looks ahead 250 ms):
/// 81 values per frame.
public struct VoiceActivityFeatures: Sendable {
    /// Values per frame.
    public static let dimension = 81
    /// Frames the context reaches into the future.
    public static let lookaheadFrames = 25
    static let baseDimension = 27
    static let bands = 24
    static let floorRise: Float = 0.02

    private let stft: STFT
    private let filterbank: TriangularFilterbank
    private let pitch: PitchTracker
    private let flatnessBins: Range<Int>

    /// Prepares the analysis.
    public init() {
        stft = try! STFT(STFTConfiguration(frameLength: AnalysisSignal.frameLength, hop: AnalysisSignal.hop, fftSize: 512,
                                           window: .hann, symmetricWindow: false, layout: .startAligned))
        filterbank = try! TriangularFilterbank(scale: .mel, filterCount: Self.bands, fftSize: 512,
                                               sampleRate: AnalysisSignal.sampleRate, lowHz: 64, highHz: 7_600)
        pitch = PitchTracker(sampleRate: AnalysisSignal.sampleRate, hop: AnalysisSignal.hop)
        flatnessBins = Int(300.0 / 31.25)..<Int(4_000.0 / 31.25)
    }

    /// The causally tracked noise floors of the base values (state carried from frame to frame).
    struct NoiseFloors {
        var bands = [Float](repeating: 0, count: VoiceActivityFeatures.bands)
        var energy: Float = 0
        var started = false
    }

    /// The base values of one frame from its power spectrum (257 bins of the 512-point FFT of the periodic-Hann
    /// windowed 25 ms frame): band and total log energies above their floors (updating them) and the spectral flatness.
    /// The voicing value (index `bands + 1`) is left to the caller. `scratch` holds `bands` floats.
    func baseValues(power: UnsafeBufferPointer<Float>, scratch mel: UnsafeMutableBufferPointer<Float>, floors: inout NoiseFloors,
                    into row: UnsafeMutableBufferPointer<Float>) {
        filterbank.apply(power, into: mel)
        var total: Float = 0
        for k in 0..<257 { total += power[k] }
        let isFirst = !floors.started
        floors.started = true
        for i in 0..<Self.bands {
            let e = Foundation.log(mel[i] + 1e-10)
            floors.bands[i] = isFirst ? e : min(e, floors.bands[i] + Self.floorRise)
            row[i] = e - floors.bands[i]
        }
        let energy = Foundation.log(total + 1e-10)
        floors.energy = isFirst ? energy : min(energy, floors.energy + Self.floorRise)
        row[Self.bands] = energy - floors.energy
        var logSum: Float = 0, sum: Float = 0
        for k in flatnessBins { logSum += Foundation.log(power[k] + 1e-12); sum += power[k] + 1e-12 }
        let n = Float(flatnessBins.count)
        row[Self.bands + 2] = logSum / n - Foundation.log(sum / n)
    }

    /// The 81 features of every frame of a 16 kHz mono signal (`AnalysisSignal.frameCount` rows).
    public func compute(_ signal: [Float]) -> FeatureMatrix {
        let frames = AnalysisSignal.frameCount(samples: signal.count)
        guard frames > 0 else { return FeatureMatrix(frameCount: 0, dimension: Self.dimension, values: []) }
        let lead = AnalysisSignal.frameLength / 2 - AnalysisSignal.hop / 2
        var padded = [Float](repeating: 0, count: lead)
        padded.reserveCapacity(lead + signal.count + AnalysisSignal.frameLength)
        padded += signal
        padded += [Float](repeating: 0, count: AnalysisSignal.frameLength)
        let b = Self.baseDimension
        var base = [Float](repeating: 0, count: frames * b)
        var floors = NoiseFloors()
        let power = UnsafeMutableBufferPointer<Float>.allocate(capacity: 257)
        let mel = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.bands)
        defer { power.deallocate(); mel.deallocate() }
        base.withUnsafeMutableBufferPointer { rows in
            padded.withUnsafeBufferPointer { x in
                stft.forEachFrame(of: x) { f, spectrum in
                    guard f < frames else { return }
                    Kernels.squaredMagnitudes(interleaved: spectrum, into: power)
                    baseValues(power: UnsafeBufferPointer(power), scratch: mel, floors: &floors,
                               into: UnsafeMutableBufferPointer(rebasing: rows[(f * b)..<((f + 1) * b)]))
                }
            }
        }
        // Voicing: the tracker's frame f is centred on f·hop + hop; ours on f·hop + hop/2 — half a hop apart.
        let voicing = pitch.track(signal, frames: Array(0..<frames))
        for f in 0..<frames { base[f * b + Self.bands + 1] = voicing[f].strength }
        // Context means by prefix sums.
        var prefix = [Double](repeating: 0, count: (frames + 1) * b)
        for f in 0..<frames { for j in 0..<b { prefix[(f + 1) * b + j] = prefix[f * b + j] + Double(base[f * b + j]) } }
        var out = [Float](repeating: 0, count: frames * Self.dimension)
        for f in 0..<frames {
            let row = f * Self.dimension
            for j in 0..<b { out[row + j] = base[f * b + j] }
            for (block, reach) in [(1, 5), (2, Self.lookaheadFrames)] {
                let lo = max(0, f - reach), hi = min(frames, f + reach + 1)
                let n = Double(hi - lo)
                for j in 0..<b { out[row + block * b + j] = Float((prefix[hi * b + j] - prefix[lo * b + j]) / n) }
            }
        }
        return FeatureMatrix(frameCount: frames, dimension: Self.dimension, values: out)
    }
}
