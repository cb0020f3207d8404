import AudioCore
public import DSP
import Foundation

/// Per-frame speaker features on the redaction frame grid (`AnalysisSignal`): MFCC c1…c20 from 30 mel
/// filters over 100–3800 Hz (so telephone-band voices are described like wideband ones; no c0, so
/// level is not a cue) and their Δ (±2 frames, normalised): 40 values per 10 ms frame. Segment
/// statistics (`SpeakerFeatures.statistics`) — mean and standard deviation of each over a set of
/// frames — are what the speaker embedding projects.
public struct SpeakerFeatures: Sendable {
    /// Values per frame.
    public static let frameDimension = 40
    /// Values of a segment's statistics.
    public static let statisticsDimension = 80

    let extractor: CepstralExtractor

    /// Prepares the front end.
    public init() {
        extractor = try! CepstralExtractor(CepstralConfiguration(
            sampleRate: AnalysisSignal.sampleRate, preEmphasis: 0.97,
            framing: STFTConfiguration(frameLength: AnalysisSignal.frameLength, hop: AnalysisSignal.hop, fftSize: 512,
                                       window: .hamming, symmetricWindow: true, layout: .startAligned),
            scale: .mel, filterCount: 30, lowHz: 100, highHz: 3_800, spectrum: .power, logBase: .natural,
            logFloor: 1e-10, coefficientCount: 20, includeC0: false, deltaOrder: 1,
            delta: DeltaConfiguration(halfWidth: 2, normalized: true)))
    }

    /// The 40 features of every frame of a 16 kHz mono signal (`AnalysisSignal.frameCount` rows).
    public func frames(_ signal: [Float]) -> FeatureMatrix {
        let frames = AnalysisSignal.frameCount(samples: signal.count)
        guard frames > 0 else { return FeatureMatrix(frameCount: 0, dimension: Self.frameDimension, values: []) }
        let lead = AnalysisSignal.frameLength / 2 - AnalysisSignal.hop / 2
        let padded = [Float](repeating: 0, count: lead) + signal + [Float](repeating: 0, count: AnalysisSignal.frameLength)
        guard let m = try? extractor.extract(padded) else {
            return FeatureMatrix(frameCount: frames, dimension: Self.frameDimension, values: [Float](repeating: 0, count: frames * Self.frameDimension))
        }
        return FeatureMatrix(frameCount: frames, dimension: Self.frameDimension,
                             values: Array(m.values.prefix(frames * Self.frameDimension)))
    }

    /// Mean and standard deviation of each feature over `frames` (80 values); nil when empty.
    public static func statistics(_ m: FeatureMatrix, frames: [Int]) -> [Float]? {
        guard !frames.isEmpty else { return nil }
        let d = frameDimension
        var sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        for f in frames {
            for j in 0..<d { let v = Double(m[f, j]); sum[j] += v; squares[j] += v * v }
        }
        let n = Double(frames.count)
        let means = sum.map { $0 / n }
        let spreads = (0..<d).map { (max(0, squares[$0] / n - means[$0] * means[$0])).squareRoot() }
        return (means + spreads).map { Float($0) }
    }
}
