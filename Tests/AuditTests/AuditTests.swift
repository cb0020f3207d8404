import Foundation
import Manifests
import Testing
import VoiceGuardTestSupport
@testable import Audit

/// A suite with one metric, the mean of `a` (a rate): cheap enough to bootstrap thousands of times in tests.
struct MeanSuite: MetricSuite {
    var metrics: [MetricInfo] { [MetricInfo(name: "mean", meaning: "mean of a", lowerIsBetter: true, isRate: true)] }
    func measure(_ result: AuditItemResult) -> MeasuredItem? { result.values["a"].map { MeasuredItem(score: 0, label: -1, a: $0) } }
    func evaluate(_ sample: [MeasuredItem]) -> [Double?] { sample.isEmpty ? [nil] : [sample.reduce(0) { $0 + $1.a } / Double(sample.count)] }
}

@Suite("Audit: results log, shards, bias analysis, bootstrap, fail-on")
struct AuditTests {
    @Test("results log: an incomplete last line (a crash mid-write) is ignored and cut on resume; an id counts once")
    func resultsLog() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vg-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/results.jsonl"
        let log = try ResultsLog(path: path, resuming: false)
        try log.append(AuditItemResult(id: "a", check: "t", score: 1))
        try log.append(AuditItemResult(id: "b", check: "t", score: 2))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"id\":\"c\",\"che".utf8))  // killed mid-line
        try handle.close()
        #expect(try ResultsLog.read(path: path).map(\.id) == ["a", "b"])
        #expect(throws: AuditError.self) { _ = try ResultsLog(path: path, resuming: false) }
        let resumed = try ResultsLog(path: path, resuming: true)
        try resumed.append(AuditItemResult(id: "c", check: "t", score: 3))
        try resumed.append(AuditItemResult(id: "a", check: "t", score: 9))  // a duplicate never counts twice
        let read = try ResultsLog.read(path: path)
        #expect(read.map(\.id) == ["a", "b", "c"] && read[0].score == 1)
        try Data("not json\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.jsonl"))
        #expect(throws: AuditError.badResults(path: dir + "/bad.jsonl", line: 1, detail: "")) {
            do { _ = try ResultsLog.read(path: dir + "/bad.jsonl") } catch let AuditError.badResults(p, l, _) { throw AuditError.badResults(path: p, line: l, detail: "") }
        }
    }

    @Test("shards: deterministic, disjoint, complete, speaker-preserving; Slurm and Kubernetes environments")
    func shards() throws {
        let keys = (0..<500).map { "speaker-\($0 % 37)/item-\($0)" }
        let shards = try (0..<4).map { try Shard(count: 4, index: $0) }
        for key in keys { #expect(shards.filter { $0.contains(key: key) }.count == 1) }
        #expect(Shard.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)  // FNV-1a reference value
        let slurm = try Shard.resolve(count: nil, index: nil, environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"])
        #expect(slurm == (try Shard(count: 4, index: 2)))
        let k8s = try Shard.resolve(count: 8, index: nil, environment: ["JOB_COMPLETION_INDEX": "5"])
        #expect(k8s == (try Shard(count: 8, index: 5)))
        #expect(try Shard.resolve(count: nil, index: nil, environment: [:]) == Shard.all)
        #expect(throws: AuditError.self) { _ = try Shard.resolve(count: 2, index: 2, environment: [:]) }
        // A garbled scheduler variable is an error naming it, not shard 0.
        let garbled = #expect(throws: AuditError.self) {
            _ = try Shard.resolve(count: nil, index: nil, environment: ["SLURM_ARRAY_TASK_ID": "3x", "SLURM_ARRAY_TASK_COUNT": "4"])
        }
        #expect(garbled?.description.contains("SLURM_ARRAY_TASK_ID") == true)
    }

    @Test("groups: intersections, minimum cell, disparities to overall and best, parity flags; deterministic for a seed")
    func groups() async throws {
        var results: [AuditItemResult] = []
        // language en: mean 0.1 (40 items), fr: 0.3 (40 items), xx: 5 items (insufficient).
        for i in 0..<85 {
            let language = i < 40 ? "en" : (i < 80 ? "fr" : "xx")
            let a = language == "en" ? (i % 10 == 0 ? 1.0 : 0) : (language == "fr" ? (i % 10 < 3 ? 1.0 : 0) : 1)
            results.append(AuditItemResult(id: "i\(i)", check: "t", values: ["a": a],
                                           attributes: ["language": language, "gender": i % 2 == 0 ? "F" : "M", "speaker": "s\(i % 17)"]))
        }
        let settings = AnalysisSettings(groupBy: ["language", "gender"], bootstrap: 200, seed: 7, minimumCell: 10, speakerColumn: "speaker")
        let (overall, groups) = await BiasAnalysis.analyse(results, suite: MeanSuite(), settings: settings, jobs: 2)
        let overallMean = try #require(overall.metrics["mean"]?.value)
        #expect(abs(overallMean - 21.0 / 85) < 1e-12)
        #expect(groups.map(\.key).prefix(3) == ["language=en", "language=fr", "language=xx"])
        #expect(groups.contains { $0.key == "language=en, gender=F" })
        let en = try #require(groups.first { $0.key == "language=en" }), fr = try #require(groups.first { $0.key == "language=fr" })
        let xx = try #require(groups.first { $0.key == "language=xx" })
        #expect(abs(en.metrics["mean"]!.value! - 0.1) < 1e-12 && abs(fr.metrics["mean"]!.value! - 0.3) < 1e-12)
        #expect(abs(fr.metrics["mean"]!.ratioToOverall! - 0.3 / overallMean) < 1e-12)
        #expect(abs(fr.metrics["mean"]!.differenceToBest! - 0.2) < 1e-12 && abs(fr.metrics["mean"]!.ratioToBest! - 3) < 1e-12)
        // en 0.1 / 0.247 = 0.40: outside the band; fr 0.3 / 0.247 = 1.21: inside.
        #expect(en.metrics["mean"]!.parity == "flag" && fr.metrics["mean"]!.parity == "ok")
        #expect(xx.insufficient && xx.metrics["mean"]!.parity == nil && xx.metrics["mean"]!.ratioToOverall == nil)
        let ci = (en.metrics["mean"]!.ciLow!, en.metrics["mean"]!.ciHigh!)
        #expect(ci.0 <= 0.1 && ci.1 >= 0.1 && ci.0 < ci.1)
        // Same seed, other worker count: identical.
        let again = await BiasAnalysis.analyse(results.reversed(), suite: MeanSuite(), settings: settings, jobs: 1)
        #expect(again.groups.map(\.key) == groups.map(\.key))
    }

    @Test("fail-on: parsing, metric values, max over groups, disparity; unknown names are refused")
    func failOn() async throws {
        #expect(throws: AuditError.self) { _ = try FailCondition(parsing: "eer") }
        #expect(throws: AuditError.self) { _ = try FailCondition(parsing: "eer>x") }
        let c = try FailCondition(parsing: " disparity > 1.25 ")
        #expect(c.name == "disparity" && c.op == ">" && c.threshold == 1.25)
        var results: [AuditItemResult] = []
        for i in 0..<60 { results.append(AuditItemResult(id: "\(i)", check: "t", values: ["a": i < 30 ? (i % 5 == 0 ? 1 : 0) : (i % 5 < 2 ? 1 : 0)], attributes: ["g": i < 30 ? "a" : "b"])) }
        let (overall, groups) = await BiasAnalysis.analyse(results, suite: MeanSuite(), settings: AnalysisSettings(groupBy: ["g"], bootstrap: 0, minimumCell: 5))
        let manifest = AuditSummary.ManifestInfo(path: "m", sha256: "0", rows: 60)
        let summary = AuditSummary(tool: "t", check: "t", versions: [:], manifest: manifest, checkSettings: [:],
                                   settings: AnalysisSettings(groupBy: ["g"]), metrics: MeanSuite().metrics, nItems: 60, nFailed: 0,
                                   failures: [], overall: overall, groups: groups)
        // a: 0.2, b: 0.4, overall 0.3 → disparity max(0.4/0.3, 0.3/0.2) = 1.5.
        #expect(abs(try FailCondition(parsing: "disparity>1.25").value(in: summary)! - 1.5) < 1e-12)
        #expect(try FailCondition(parsing: "disparity>1.25").isViolated(by: summary).violated)
        #expect(try !FailCondition(parsing: "mean>0.35").isViolated(by: summary).violated)
        #expect(try FailCondition(parsing: "max_mean>=0.4").isViolated(by: summary).violated)
        #expect(throws: AuditError.self) { _ = try FailCondition(parsing: "eer>0.1").value(in: summary) }
    }

    @Test("bootstrap coverage: speaker-resampled 95 % intervals cover the true rate ≥ 93 % of the time (clustered data)")
    func bootstrapCoverage() async throws {
        var rng = SplitMix64(seed: 2026)
        let truth = 0.2, replications = 200
        var covered = 0, itemLevelCovered = 0
        for r in 0..<replications {
            var results: [AuditItemResult] = []
            for s in 0..<60 {
                let p = 0.05 + 0.3 * Double(rng.next() >> 11) / Double(1 << 53)  // speaker rate ~ U(0.05, 0.35): mean 0.2
                for k in 0..<5 {
                    let flagged = Double(rng.next() >> 11) / Double(1 << 53) < p ? 1.0 : 0
                    results.append(AuditItemResult(id: "\(s)-\(k)", check: "t", values: ["a": flagged], attributes: ["speaker": "s\(s)"]))
                }
            }
            for (speakerColumn, counter) in [("speaker", 0)] + (r < 50 ? [("none", 1)] : []) {
                let settings = AnalysisSettings(groupBy: [], bootstrap: 1000, seed: UInt64(r), minimumCell: 1, speakerColumn: speakerColumn == "none" ? nil : speakerColumn)
                let (overall, _) = await BiasAnalysis.analyse(results, suite: MeanSuite(), settings: settings)
                let e = try #require(overall.metrics["mean"])
                if e.ciLow! <= truth && truth <= e.ciHigh! { if counter == 0 { covered += 1 } else { itemLevelCovered += 1 } }
            }
        }
        let coverage = Double(covered) / Double(replications)
        #expect(coverage >= 0.93, "speaker-level coverage \(coverage), item-level (first 50) \(Double(itemLevelCovered) / 50)")
        print("bootstrap coverage: speaker-level \(coverage) over \(replications); item-level \(Double(itemLevelCovered) / 50) over 50")
    }
}
