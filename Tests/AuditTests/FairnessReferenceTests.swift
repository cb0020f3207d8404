import Foundation
import Manifests
import Testing
@testable import Audit

/// The bias statistics against Fairlearn 0.15 `MetricFrame` and Aequitas 1.1 on a committed fixture
/// (`Fixtures/make_fairness_reference.py` generated both the items and the expected values).
@Suite("Audit: agreement with Fairlearn and Aequitas")
struct FairnessReferenceTests {
    static func load() async throws -> (overall: GroupReport, groups: [GroupReport], reference: [String: Any]) {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).path
        let manifest = try Manifest.read(path: folder + "/fairness.csv")
        let results = manifest.records.map { r in
            AuditItemResult(id: r.id, check: "synthetic", score: Double(r.attributes["score"]!)!, label: r.attributes["label"], attributes: r.attributes)
        }
        let settings = AnalysisSettings(groupBy: ["language", "gender"], bootstrap: 0, minimumCell: 1, speakerColumn: "speaker")
        let (overall, groups) = await BiasAnalysis.analyse(results, suite: SyntheticSpeechMetrics(threshold: 0), settings: settings)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/fairness_reference.json"))
        return (overall, groups, try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    @Test("Fairlearn MetricFrame: by group, overall, difference and ratio (between groups, to overall) within 1e-9")
    func fairlearn() async throws {
        let (overall, groups, reference) = try await Self.load()
        let fairlearn = try #require(reference["fairlearn"] as? [String: [String: Any]])
        var compared = 0
        for (key, expected) in fairlearn {
            let attributes = key.split(separator: "+").map(String.init)
            let cells = groups.filter { $0.attributes == attributes }
            let byGroup = try #require(expected["by_group"] as? [String: [String: Double]])
            #expect(cells.count == byGroup.count, "\(key): \(cells.count) groups, Fairlearn \(byGroup.count)")
            for metric in ["fpr", "fnr", "flag_rate"] {
                let overallExpected = try #require((expected["overall"] as? [String: Double])?[metric])
                #expect(abs(overall.metrics[metric]!.value! - overallExpected) < 1e-9)
                var values: [Double] = []
                for cell in cells {
                    let value = try #require(cell.metrics[metric]?.value)
                    let want = try #require(byGroup[cell.values.joined(separator: "|")]?[metric])
                    #expect(abs(value - want) < 1e-9, "\(cell.key) \(metric): \(value) vs Fairlearn \(want)")
                    values.append(value)
                    compared += 1
                }
                let toOverall = cells.map { abs($0.metrics[metric]!.differenceToOverall!) }.max()!
                let ratioToOverall = cells.map { r in let x = r.metrics[metric]!.ratioToOverall!; return min(x, 1 / x) }.min()!
                #expect(abs(toOverall - (expected["difference_to_overall"] as! [String: Double])[metric]!) < 1e-9)
                #expect(abs(ratioToOverall - (expected["ratio_to_overall"] as! [String: Double])[metric]!) < 1e-9)
                #expect(abs((values.max()! - values.min()!) - (expected["difference_between_groups"] as! [String: Double])[metric]!) < 1e-9)
                #expect(abs(values.min()! / values.max()! - (expected["ratio_between_groups"] as! [String: Double])[metric]!) < 1e-9)
                // Our "to best" for a lower-is-better rate is the group minus the smallest value.
                if metric != "flag_rate" {
                    #expect(abs(cells.map { $0.metrics[metric]!.differenceToBest! }.max()! - (values.max()! - values.min()!)) < 1e-9)
                }
            }
        }
        #expect(compared == 3 * (3 + 2 + 6))
    }

    @Test("Aequitas: group FPR, FNR, predicted prevalence and disparities against reference groups within 1e-9")
    func aequitas() async throws {
        let (_, groups, reference) = try await Self.load()
        let aequitas = try #require(reference["aequitas"] as? [String: [String: Double]])
        let referenceGroups = try #require(reference["aequitas_reference_groups"] as? [String: String])
        for (key, expected) in aequitas {
            let cell = try #require(groups.first { $0.key == key })
            let parts = key.split(separator: "=").map(String.init)
            let ref = try #require(groups.first { $0.key == "\(parts[0])=\(referenceGroups[parts[0]]!)" })
            for (ours, theirs) in [("fpr", "fpr"), ("fnr", "fnr"), ("flag_rate", "pprev")] {
                let v = cell.metrics[ours]!.value!, r = ref.metrics[ours]!.value!
                #expect(abs(v - expected[theirs]!) < 1e-9, "\(key) \(theirs)")
                #expect(abs(v / r - expected[theirs + "_disparity"]!) < 1e-9, "\(key) \(theirs) disparity")
            }
        }
    }
}
