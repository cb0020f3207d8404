import Foundation
import Testing
@testable import Corpus
@testable import Evaluation
@testable import Manifests

@Suite("Corpus validation and shortcut cues")
struct CorpusTests {
    @Test("the committed fixtures validate", arguments: ["speech/manifest.csv", "mixtures/manifest.csv", "music/manifest.csv"])
    func fixturesValidate(manifest: String) async throws {
        let m = try Manifest.read(path: fixtures + "/" + manifest)
        let report = await CorpusValidator.validate(m, jobs: 2)
        #expect(report.passed, "\(report.itemProblems) \(report.splitProblems)")
        #expect(report.verified == m.records.count)
        #expect(report.totalSeconds > 1)
    }

    @Test("the validator finds a missing file, a wrong duration, a missing transcript and a bad label")
    func itemProblems() async throws {
        let source = try Manifest.read(path: fixtures + "/speech/manifest.csv")
        var records = Array(source.records.prefix(4))
        records[0].resolvedPath += ".missing"
        records[1].attributes["duration"] = "99.000"
        records[2].attributes["text"] = ""
        records[3].attributes["label"] = "maybe"
        let report = await CorpusValidator.validate(Manifest(path: "test", columns: source.columns, records: records))
        #expect(!report.passed)
        let problems = report.itemProblems.map(\.problem)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems[0].contains("no such file"))
        #expect(problems[1].contains("manifest says 99.0 s"))
        #expect(problems[2].contains("transcript"))
        #expect(problems[3].contains("label 'maybe'"))
        #expect(report.itemProblems.map(\.line) == records.map(\.line))
    }

    @Test("the validator finds speakers shared across splits and test engines used in training")
    func splitProblems() throws {
        func record(_ id: String, _ label: String, _ speaker: String, _ engine: String, _ split: String) -> ManifestRecord {
            ManifestRecord(id: id, path: "x", resolvedPath: "x",
                           attributes: ["label": label, "speaker": speaker, "engine": engine, "split": split], line: 2)
        }
        let m = Manifest(path: "t", columns: ["id", "path", "label", "speaker", "engine", "split"], records: [
            record("1", "bonafide", "ann", "human", "train"), record("2", "bonafide", "ann", "human", "test"),
            record("3", "spoof", "e/v", "piper", "test"), record("4", "spoof", "e/v", "piper", "dev"),
            record("5", "spoof", "e/v", "espeak-ng", "train"), record("6", "spoof", "e/v", "espeak-ng", "dev"),
        ])
        let problems = CorpusValidator.splitProblems(m)
        #expect(problems == ["speaker 'ann' appears in splits test, train", "test engine 'piper' also appears in dev"])
    }

    @Test("trivial cues: a silent lead, band energy and duration are measured")
    func cueMeasurement() throws {
        let rate = 16_000.0
        var x = [Float](repeating: 0, count: 8_000)  // 0.5 s silence
        x += (0..<16_000).map { Float(0.3 * sin(2 * Double.pi * 5_000 * Double($0) / rate)) }
        let cues = try TrivialCues.measure(x, rate: rate)
        #expect(abs(cues.leadingSilence - 0.5) < 0.011)
        #expect(cues.trailingSilence < 0.011)
        #expect(abs(cues.duration - 1.5) < 1e-9)
        #expect(cues.energyAbove4kHz > -40)
        let low = try TrivialCues.measure(x.indices.map { Float(0.3 * sin(2 * Double.pi * 500 * Double($0) / rate)) }, rate: rate)
        #expect(low.energyAbove4kHz < cues.energyAbove4kHz - 30)
    }

    @Test("the cue report runs on the speech fixtures and gives EERs in 0…50 %")
    func cueReport() async throws {
        let report = await TrivialCueReport.compute(try Manifest.read(path: fixtures + "/speech/manifest.csv"))
        #expect(report.bonafide == 12 && report.spoof == 12 && report.failed == 0)
        #expect(report.equalErrorRates.count == report.cueNames.count)
        #expect(report.equalErrorRates.values.allSatisfy { (0...0.5).contains($0) })
        #expect(report.equalErrorRates["sample_rate"] == 0.5)
        #expect(report.cueNames == TrivialCues.names + ["language"])
        #expect(report.equalErrorRates["language"].map { (0...0.5).contains($0) } == true)
    }

    @Test("the language cue: a language only one label has separates; languages shared in proportion do not")
    func languageCue() {
        let languages = ["en", "en", "fr", "fr", "ru", "ru"]
        // Perfectly confounded: every bona fide item French or Russian, every spoof English.
        let confounded = TrivialCueReport.categoricalEqualErrorRate(values: ["en", "en", "fr", "fr", "ru", "ru"],
                                                                     isBonafide: [false, false, true, true, true, true])
        #expect(confounded == 0)
        // Every language with both labels, one each: the cue says nothing.
        let balanced = TrivialCueReport.categoricalEqualErrorRate(values: languages,
                                                                  isBonafide: [true, false, true, false, true, false])
        #expect(balanced == 0.5)
        // Half confounded: English only spoofed, French and Russian balanced.
        let partial = TrivialCueReport.categoricalEqualErrorRate(values: languages + ["en", "en"],
                                                                 isBonafide: [false, false, true, false, true, false, false, false])
        #expect(partial.map { $0 > 0 && $0 < 0.5 } == true)
        #expect(TrivialCueReport.categoricalEqualErrorRate(values: ["en"], isBonafide: [true]) == nil)
    }
}

@Suite("Equal error rate")
struct EERTests {
    @Test("perfect separation is 0, identical scores are 0.5, reversed cues are caught")
    func extremes() {
        let separated = (0..<10).map { ScoredTrial(score: Double($0), isTarget: $0 >= 5) }
        #expect(DetectionMetrics.equalErrorRate(separated) == 0)
        let tied = (0..<10).map { ScoredTrial(score: 1, isTarget: $0 % 2 == 0) }
        #expect(DetectionMetrics.equalErrorRate(tied) == 0.5)
        let reversed = separated.map { ScoredTrial(score: -$0.score, isTarget: $0.isTarget) }
        #expect(DetectionMetrics.equalErrorRate(reversed) == 1)
        #expect(DetectionMetrics.bestDirectionEqualErrorRate(reversed) == 0)
        #expect(DetectionMetrics.equalErrorRate([ScoredTrial(score: 1, isTarget: true)]) == nil)
    }

    @Test("one overlapping pair out of five each gives 20 %")
    func overlap() throws {
        // Targets 3…7, non-targets 0…3.5 with one non-target (5.5) above a target (5).
        let targets = [3.0, 5, 6, 7, 8].map { ScoredTrial(score: $0, isTarget: true) }
        let nonTargets = [0.0, 1, 2, 2.5, 5.5].map { ScoredTrial(score: $0, isTarget: false) }
        let eer = try #require(DetectionMetrics.equalErrorRate(targets + nonTargets))
        #expect(abs(eer - 0.2) < 1e-9, "\(eer)")
    }
}
