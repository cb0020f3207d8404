import AudioCore
import Foundation
import Testing
import VoiceGuardTestSupport
@testable import SynthDetect
import Learning

@Suite("Speech gate: evidence, decision rule, model files")
struct SpeechGateTests {
    /// A gate whose log-odds is the first evidence value (`dips_20db`) minus 0.5, with thresholds to test the rule.
    func gate(threshold: Double, confirmAbove: Double) -> SpeechGateModel {
        let d = SpeechEvidence.names.count
        let classifier = LogisticRegression(mean: [Float](repeating: 0, count: d), scale: [Float](repeating: 1, count: d),
                                            weights: [1] + [Double](repeating: 0, count: d - 1), bias: -0.5)
        return SpeechGateModel(classifier: classifier, threshold: threshold, confirmAbove: confirmAbove, training: .init(
            manifests: "test", manifestSHA256: "", speech: 0, nonSpeech: 0, speechRejected: 0, nonSpeechAccepted: 0,
            speechToConfirm: 0, tool: "test"))
    }

    @Test("decision rule: silence, confident speech, Silero confirmation, no Silero")
    func verdicts() {
        let g = gate(threshold: -0.2, confirmAbove: 0.3)
        func evidence(_ first: Float) -> [Float] { [first] + [Float](repeating: 0, count: SpeechEvidence.names.count - 1) }
        #expect(g.verdict(nil, confirm: { _ in 1 }).isSpeech == false, "silence is never speech")
        var asked = false
        let confident = g.verdict(evidence(1.0), confirm: { _ in asked = true; return 0 })
        #expect(confident.isSpeech && !asked && confident.confirmedSeconds == nil, "above confirmAbove: no confirmation")
        let confirmed = g.verdict(evidence(0.5), confirm: { enough in enough })
        #expect(confirmed.isSpeech && confirmed.confirmedSeconds == g.confirmSeconds)
        #expect(!g.verdict(evidence(0.5), confirm: { _ in 0.05 }).isSpeech, "Silero found too little speech")
        #expect(g.verdict(evidence(0.4), confirm: nil).isSpeech, "without Silero the threshold decides (score −0.1 ≥ −0.2)")
        #expect(!g.verdict(evidence(0.1), confirm: nil).isSpeech, "score −0.4 < −0.2")
    }

    @Test("fit: threshold keeps 99.5 % of the speech and is at most 0; confirmation covers the asked share")
    func fit() throws {
        var rng = SplitMix64(seed: 3)
        let d = SpeechEvidence.names.count
        let speech = (0..<400).map { _ in (0..<d).map { i in Float(rng.gaussian()) + (i < 3 ? 1 : 0) } }
        let other = (0..<200).map { _ in (0..<d).map { _ in Float(rng.gaussian()) } }
        let g = try SpeechGateModel.fit(speech: speech, nonSpeech: other, confirmShare: 0.2, manifests: "m", manifestSHA256: "", tool: "t")
        #expect(g.threshold <= 0)
        #expect(g.training.speechRejected <= 0.01)
        #expect(abs(g.training.speechToConfirm - 0.2) < 0.01 && g.confirmAbove >= g.threshold)
        // Round trip through JSON; a file for other evidence is refused.
        let decoded = try SpeechGateModel.decode(try g.encoded(), path: "g.json")
        #expect(decoded == g)
        var other2 = g
        other2.evidence = Array(g.evidence.dropLast())
        #expect(throws: SynthDetectError.self) { try SpeechGateModel.decode(try other2.encoded(), path: "g.json") }
    }

    @Test("the shipped gate loads; tones, noise and silence are not speech; a speech fixture is")
    func shippedGate() throws {
        let gate = try #require(try SpeechGateModel.bundledDefault())
        let extractor = SpoofFeatureExtractor()
        let rate = 16_000.0, n = Int(3 * rate)
        var rng = SplitMix64(seed: 9)
        let tone = AudioBuffer(mono: (0..<n).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / rate)) }, sampleRate: rate)
        let noise = AudioBuffer(mono: (0..<n).map { _ in Float(0.05 * rng.gaussian()) }, sampleRate: rate)
        let silence = AudioBuffer(mono: [Float](repeating: 0, count: n), sampleRate: rate)
        for (name, audio) in [("tone", tone), ("noise", noise), ("silence", silence)] {
            // Without Silero (not needed here: these are far below the gate's threshold) the gate alone decides.
            let verdict = gate.verdict(try extractor.speechEvidence(of: audio), confirm: nil)
            #expect(!verdict.isSpeech, "\(name): \(verdict)")
        }
        for name in try fixtureNames("bonafide").prefix(4) + fixtureNames("spoof").prefix(4) {
            let verdict = gate.verdict(try extractor.speechEvidence(of: try fixture(name)), confirm: nil)
            #expect(verdict.isSpeech, "\(name): \(verdict)")
        }
    }
}
