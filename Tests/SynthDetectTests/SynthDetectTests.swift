import AudioCore
import AudioIO
import Evaluation
import Foundation
import Testing
import VoiceGuardTestSupport
@testable import SynthDetect
import Learning
import DSP

func fixture(_ name: String) throws -> AudioBuffer {
    try AudioFileReader.read(path: repositoryRoot + "/Corpora/fixtures/speech/wide/" + name)
}

func fixtureNames(_ label: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Corpora/fixtures/speech/wide/" + label)
        .sorted().map { label + "/" + $0 }
}

@Suite("Synthetic-speech detection: metrics, features, classifier, calibration, models")
struct SynthDetectTests {
    @Test("Cllr, minDCF, actDCF and the DET curve on hand-computed cases")
    func metrics() throws {
        // Perfectly separated, confident LLRs: Cllr small, costs 0.
        let perfect = [ScoredTrial(score: 5, isTarget: true), ScoredTrial(score: -5, isTarget: false)]
        #expect(try #require(CostMetrics.cllr(perfect)) < 0.01)
        #expect(CostMetrics.minimumDCF(perfect) == 0)
        #expect(CostMetrics.actualDCF(perfect) == 0)
        // Uninformative LLRs of 0: Cllr exactly 1 bit; accepting everything costs Cfa·P/Cdefault = 0.5/0.5.
        let flat = [ScoredTrial(score: 0, isTarget: true), ScoredTrial(score: 0, isTarget: false)]
        #expect(abs(try #require(CostMetrics.cllr(flat)) - 1) < 1e-12)
        #expect(abs(try #require(CostMetrics.actualDCF(flat)) - 1) < 1e-12)
        #expect(abs(try #require(CostMetrics.minimumDCF(flat)) - 1) < 1e-12)
        // Bayes threshold of ASVspoof 5 costs: log(10 · 0.05 / 0.95).
        #expect(abs(CostMetrics.CostModel.asvspoof5.bayesThreshold - log(0.5 / 0.95)) < 1e-12)
        // One target below one non-target among four: the DET curve has 5 points, monotone.
        let trials = [ScoredTrial(score: 1, isTarget: true), ScoredTrial(score: 3, isTarget: true),
                      ScoredTrial(score: 2, isTarget: false), ScoredTrial(score: 0, isTarget: false)]
        let det = CostMetrics.detCurve(trials)
        #expect(det.count == 5)
        #expect(zip(det, det.dropFirst()).allSatisfy { $0.missRate <= $1.missRate && $0.falseAlarmRate >= $1.falseAlarmRate })
        let point = CostMetrics.operatingPoint(trials, threshold: 1.5)
        #expect(point.missRate == 0.5 && point.falseAlarmRate == 0.5)
    }

    @Test("logistic regression separates shifted Gaussians; calibration is monotone and gives LLRs")
    func classifierAndCalibration() throws {
        var rng = SplitMix64(seed: 7)
        var x: [[Float]] = [], y: [Bool] = []
        for i in 0..<400 {
            let target = i % 2 == 0
            x.append((0..<5).map { d in Float(rng.gaussian()) + (target && d < 2 ? 1.5 : 0) })
            y.append(target)
        }
        let model = try LogisticRegression.train(features: x, labels: y)
        let scores = x.map { model.score($0) }
        let eer = try #require(DetectionMetrics.equalErrorRate(zip(scores, y).map { ScoredTrial(score: $0, isTarget: $1) }))
        #expect(eer < 0.2, "EER \(eer)")
        #expect(abs(model.weights[0]) > 3 * abs(model.weights[4]), "informative dimensions dominate: \(model.weights)")
        // Calibration of deliberately mis-scaled scores recovers a positive slope and lowers Cllr.
        let skewed = scores.map { 3 * $0 + 2 }
        let calibration = try AffineCalibration.fit(scores: skewed, labels: y)
        #expect(calibration.slope > 0)
        let before = try #require(CostMetrics.cllr(zip(skewed, y).map { ScoredTrial(score: $0, isTarget: $1) }))
        let after = try #require(CostMetrics.cllr(zip(skewed, y).map { ScoredTrial(score: calibration($0), isTarget: $1) }))
        #expect(after < before)
        for (a, b) in zip(skewed.sorted(), skewed.sorted().dropFirst()) { #expect(calibration(a) <= calibration(b)) }
        #expect(throws: LearningError.self) { try LogisticRegression.train(features: x, labels: x.map { _ in true }) }
    }

    @Test("group-balanced training: a small spoof family weighs as much as a large one and moves the boundary")
    func groupBalancedTraining() throws {
        var rng = SplitMix64(seed: 11)
        var x: [[Float]] = [], y: [Bool] = [], groups: [String] = []
        // Bona fide around +1; a large spoof family around −1 (300) and a small one near the bona fide side (+0.3, 12).
        for _ in 0..<300 { x.append([Float(rng.gaussian()) * 0.4 + 1]); y.append(true); groups.append("human") }
        for _ in 0..<300 { x.append([Float(rng.gaussian()) * 0.4 - 1]); y.append(false); groups.append("formant") }
        for _ in 0..<12 { x.append([Float(rng.gaussian()) * 0.1 + 0.3]); y.append(false); groups.append("neural") }
        let plain = try LogisticRegression.train(features: x, labels: y)
        let balanced = try LogisticRegression.train(features: x, labels: y, groups: groups)
        // The small family sits on the bona fide side of the plain boundary; balancing pulls the boundary past it.
        #expect(plain.score([0.3]) > balanced.score([0.3]))
        #expect(balanced.score([0.3]) < 0, "balanced score of the small family \(balanced.score([0.3]))")
        let w = LogisticRegression.groupBalancedWeights(labels: y, groups: groups)
        #expect(abs(w[0..<300].reduce(0, +) - 0.5) < 1e-9)
        #expect(abs(w[300..<600].reduce(0, +) - 0.25) < 1e-9 && abs(w[600...].reduce(0, +) - 0.25) < 1e-9)
        #expect(throws: LearningError.self) { try LogisticRegression.train(features: x, labels: y, groups: ["a"]) }
    }

    @Test("features: fixed length, finite, level-invariant and blind to added silence")
    func features() throws {
        let extractor = SpoofFeatureExtractor()
        let audio = try fixture(try fixtureNames("bonafide")[0])
        let v = try extractor.features(of: audio)
        #expect(v.count == SpoofFeatureExtractor.Configuration.standard.dimension)
        #expect(v.allSatisfy { $0.isFinite })
        let quieter = AudioBuffer(mono: audio.samples.map { $0 * 0.1 }, sampleRate: audio.sampleRate)
        let padded = AudioBuffer(mono: [Float](repeating: 0, count: 16_000) + audio.samples + [Float](repeating: 0, count: 8_000),
                                 sampleRate: audio.sampleRate)
        for other in [try extractor.features(of: quieter), try extractor.features(of: padded)] {
            let changes = zip(v, other).map { abs($0 - $1) / (abs($0) + 1) }
            let change = changes.max() ?? 0
            let worst = changes.firstIndex(of: change) ?? 0
            #expect(change < 0.05, "largest relative change \(change) at dimension \(worst): \(v[worst]) → \(other[worst])")
        }
        #expect(throws: SynthDetectError.self) {
            try extractor.features(of: AudioBuffer(mono: [Float](repeating: 0, count: 16_000), sampleRate: 16_000))
        }
    }

    @Test("model files round-trip; bad, foreign and mismatched models give clear errors")
    func modelFiles() throws {
        let d = SpoofFeatureExtractor.Configuration.standard.dimension
        let classifier = LogisticRegression(mean: [Float](repeating: 0, count: d), scale: [Float](repeating: 1, count: d),
                                            weights: (0..<d).map { Double($0) / 100 }, bias: 0.5)
        let info = SynthDetectModel.TrainingInfo(manifestSHA256: String(repeating: "0", count: 64), manifest: "m.csv",
                                                 trainSplit: "train", trainBonafide: 1, trainSpoof: 1,
                                                 calibrationSplit: "dev", calibrationBonafide: 1, calibrationSpoof: 1, tool: "test")
        let model = SynthDetectModel(features: .standard, classifier: classifier,
                                     calibration: AffineCalibration(slope: 2, offset: -1), training: info)
        let decoded = try SynthDetectModel.decode(try model.encoded(), path: "m.json")
        let x = (0..<d).map { Float($0) / 10 }
        #expect(decoded.llr(x) == model.llr(x))
        func error(_ json: String) -> SynthDetectError? {
            do { _ = try SynthDetectModel.decode(Data(json.utf8), path: "bad.json"); return nil } catch { return error }
        }
        #expect(error("not json")?.code == "synthdetect.bad-model")
        var text = String(decoding: try model.encoded(), as: UTF8.self)
        #expect(error(text.replacingOccurrences(of: "\"voiceguard-synthdetect\"", with: "\"other\""))?.description.contains("format") == true)
        #expect(error(text.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 7"))?.description.contains("version 7") == true)
        text = text.replacingOccurrences(of: "\"dimension\" : \(d)", with: "\"dimension\" : 12")
        #expect(error(text) != nil)
        var other = model
        other.features.name = "something-else/9"
        #expect(error(String(decoding: try other.encoded(), as: UTF8.self))?.code == "synthdetect.model-mismatch")
        // Finite but huge coefficients would overflow every LLR to ±inf / NaN: refused.
        for damage in [{ (m: inout SynthDetectModel) in m.classifier?.weights[0] = 1e300 }, { m in m.calibration.slope = 1e20 },
                       { m in m.classifier?.scale[1] = 1e-30 }] {
            var huge = model
            damage(&huge)
            #expect(error(String(decoding: try huge.encoded(), as: UTF8.self))?.description.contains("out of range") == true)
        }
        // Decisions: abstain inside the band, otherwise by the threshold.
        let detector = SynthDetector(model: model)
        #expect(detector.decision(3) == .bonafide && detector.decision(-3) == .synthetic && detector.decision(0.5) == .abstain)
    }
}

@Suite("Pitch tracker and shipped model")
struct PitchAndModelTests {
    @Test("F0 of harmonic tones within 1 %, noise unvoiced")
    func pitch() {
        let tracker = PitchTracker(sampleRate: 8_000, hop: 80)
        for f0 in [95.0, 140.0, 220.0, 330.0] {
            let x = (0..<8_000).map { n in
                Float((1...5).reduce(0.0) { $0 + sin(2 * .pi * f0 * Double($1) * Double(n) / 8_000) / Double($1) })
            }
            let frames = Array(10..<90)
            let result = tracker.track(x, frames: frames)
            let voiced = result.filter { $0.f0 > 0 }
            #expect(voiced.count == frames.count)
            let worst = voiced.map { abs(Double($0.f0) - f0) / f0 }.max() ?? 1
            #expect(worst < 0.01, "F0 \(f0): worst relative error \(worst)")
        }
        var rng = SplitMix64(seed: 3)
        let noise = (0..<8_000).map { _ in Float(rng.gaussian()) }
        let voicedNoise = tracker.track(noise, frames: Array(10..<90)).filter { $0.f0 > 0 }.count
        #expect(voicedNoise < 8, "white noise voiced in \(voicedNoise) of 80 frames")
    }

    @Test("the shipped default model loads and scores the fixtures better than chance")
    func shippedModel() throws {
        let model = try #require(try SynthDetectModel.bundledDefault())
        #expect(model.features == .standard)
        let detector = SynthDetector(model: model)
        var trials: [ScoredTrial] = []
        for label in ["bonafide", "spoof"] {
            for name in try fixtureNames(label) {
                trials.append(ScoredTrial(score: try detector.llr(try fixture(name)), isTarget: label == "bonafide"))
            }
        }
        let eer = try #require(DetectionMetrics.equalErrorRate(trials))
        #expect(eer < 0.25, "fixture EER \(eer)")
    }
}

@Suite("LFCC-GMM baseline")
struct GMMTests {
    @Test("EM recovers two separated clusters; the pair scores the right class higher; models round-trip")
    func mixture() throws {
        var rng = SplitMix64(seed: 11)
        func frames(_ centre: Float, count: Int) -> [Float] {
            (0..<count).flatMap { i -> [Float] in
                let c: Float = i % 2 == 0 ? centre : -centre
                return (0..<60).map { _ in c + Float(rng.gaussian()) * 0.5 }
            }
        }
        let a = frames(2, count: 600), b = frames(0.3, count: 600)
        let gmmA = DiagonalGMM.train(frames: a, dimension: 60, components: 2, iterations: 15)
        let recovered = (0..<2).map { k in gmmA.means[(k * 60)..<((k + 1) * 60)].reduce(0, +) / 60 }.sorted()
        #expect(abs(recovered[0] + 2) < 0.2 && abs(recovered[1] - 2) < 0.2, "means \(recovered)")
        #expect(abs(gmmA.weights.reduce(0, +) - 1) < 1e-4)
        let pair = GMMPair(bonafide: gmmA, spoof: DiagonalGMM.train(frames: b, dimension: 60, components: 2, iterations: 15))
        #expect(pair.score(frames: frames(2, count: 20)) > 0)
        #expect(pair.score(frames: frames(0.3, count: 20)) < 0)
        let info = SynthDetectModel.TrainingInfo(manifestSHA256: "", manifest: "", trainSplit: "", trainBonafide: 1, trainSpoof: 1,
                                                 calibrationSplit: "", calibrationBonafide: 1, calibrationSpoof: 1, tool: "test")
        let model = SynthDetectModel(features: .standard, gmm: pair, calibration: .identity, training: info)
        let decoded = try SynthDetectModel.decode(try model.encoded(), path: "gmm.json")
        let probe = frames(2, count: 5)
        #expect(decoded.scoresFrames)
        #expect(decoded.llr(probe) == model.llr(probe))
        var broken = model
        broken.gmm?.spoof.variances[0] = -1
        #expect(throws: SynthDetectError.self) { try SynthDetectModel.decode(try broken.encoded(), path: "gmm.json") }
    }
}
