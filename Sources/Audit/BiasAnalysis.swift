import AudioCore
import Foundation

/// Settings of the bias analysis (recorded in the summary).
public struct AnalysisSettings: Sendable, Codable, Hashable {
    /// Attributes to break results down by; every non-empty combination of them is analysed too (intersections).
    public var groupBy: [String]
    /// Bootstrap resamples for confidence intervals (≥ 1000 recommended; 0 turns intervals off).
    public var bootstrap: Int
    /// Seed of the bootstrap (results are deterministic for a given seed).
    public var seed: UInt64
    /// Groups with fewer items are flagged `insufficient` and never compared (no disparity, no parity flag).
    public var minimumCell: Int
    /// Column that identifies speakers: the bootstrap resamples speakers, not items, when it is present.
    public var speakerColumn: String?
    /// Optional control attribute (e.g. `channel`): each group's metric is also reported standardised to the overall
    /// distribution of this attribute (the mean of its per-stratum values weighted by the strata's overall shares).
    public var control: String?
    /// Parity band of ratios (Aequitas' default 0.8–1.25).
    public var parityBand: [Double] = [0.8, 1.25]
    /// Confidence level of the intervals.
    public var confidence = 0.95

    /// Creates settings.
    public init(groupBy: [String], bootstrap: Int = 1000, seed: UInt64 = 1, minimumCell: Int = 30, speakerColumn: String? = nil,
                control: String? = nil) {
        self.groupBy = groupBy
        self.bootstrap = bootstrap
        self.seed = seed
        self.minimumCell = minimumCell
        self.speakerColumn = speakerColumn
        self.control = control
    }

    enum CodingKeys: String, CodingKey {
        case groupBy = "group_by", bootstrap, seed, minimumCell = "minimum_cell", speakerColumn = "speaker_column", control
        case parityBand = "parity_band", confidence
    }
}

/// One metric of one group with its uncertainty and how it compares.
public struct MetricEstimate: Sendable, Codable, Hashable {
    /// The value on the group's items (nil when undefined, e.g. a class is missing).
    public var value: Double?
    /// Bootstrap percentile interval (nil without bootstrap or when undefined).
    public var ciLow: Double?
    /// Upper end of the interval.
    public var ciHigh: Double?
    /// Value minus the overall value.
    public var differenceToOverall: Double?
    /// Value divided by the overall value.
    public var ratioToOverall: Double?
    /// Bootstrap interval of the difference to overall (joint resamples of the group and the whole corpus).
    public var differenceToOverallCI: [Double]?
    /// Bootstrap interval of the ratio to overall.
    public var ratioToOverallCI: [Double]?
    /// Value minus the best sufficient group's value (same attributes).
    public var differenceToBest: Double?
    /// Value divided by the best sufficient group's value.
    public var ratioToBest: Double?
    /// Rates only: `ok` when the ratio to overall is inside the parity band, `flag` outside; nil when not compared.
    public var parity: String?
    /// With a control attribute: the value standardised to its overall distribution.
    public var controlled: Double?

    enum CodingKeys: String, CodingKey {
        case value, parity, controlled
        case ciLow = "ci_low", ciHigh = "ci_high"
        case differenceToOverall = "diff_overall", ratioToOverall = "ratio_overall"
        case differenceToOverallCI = "diff_overall_ci", ratioToOverallCI = "ratio_overall_ci"
        case differenceToBest = "diff_best", ratioToBest = "ratio_best"
    }
}

/// The metrics of one group (or of everything: attributes empty).
public struct GroupReport: Sendable, Codable, Hashable {
    /// Attributes that define the group (empty for the overall row).
    public var attributes: [String]
    /// Their values, in the same order.
    public var values: [String]
    /// Items.
    public var n: Int
    /// Distinct speakers (when a speaker column exists).
    public var speakers: Int?
    /// Items per class (synthetic: `bonafide`, `spoof`).
    public var classes: [String: Int]
    /// Fewer items than the minimum cell: reported, never compared.
    public var insufficient: Bool
    /// Metric name → estimate.
    public var metrics: [String: MetricEstimate]

    /// `attribute=value, …` (or `overall`).
    public var key: String {
        attributes.isEmpty ? "overall" : zip(attributes, values).map { "\($0)=\($1)" }.joined(separator: ", ")
    }
}

/// Breaks audit results down by group with bootstrap intervals, disparities and parity flags.
public enum BiasAnalysis {
    /// Analyses `results` (successful ones) with `suite`: the overall row, then every group of every non-empty
    /// combination of `settings.groupBy`, sorted by attributes and values. Groups are analysed `jobs` at a time;
    /// the output does not depend on `jobs`.
    public static func analyse(_ results: [AuditItemResult], suite: any MetricSuite, settings: AnalysisSettings,
                               jobs: Int = 1) async -> (overall: GroupReport, groups: [GroupReport]) {
        let rows: [(result: AuditItemResult, item: MeasuredItem)] = results.compactMap { r in suite.measure(r).map { (r, $0) } }
        let combinations = subsets(settings.groupBy)
        var cells: [(attributes: [String], values: [String], members: [Int])] = [([], [], Array(rows.indices))]
        for attributes in combinations {
            var byValue: [[String]: [Int]] = [:]
            for (i, row) in rows.enumerated() {
                let values = attributes.map { row.result.attributes[$0] ?? "" }
                byValue[values, default: []].append(i)
            }
            for (values, members) in byValue.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                cells.append((attributes, values, members))
            }
        }
        let reports = await boundedConcurrentMap(cells, jobs: jobs) { cell in
            report(cell.attributes, cell.values, members: cell.members, rows: rows, suite: suite, settings: settings)
        }
        var all = reports
        if settings.bootstrap > 0 && !rows.isEmpty {
            await bootstrap(&all, cells: cells.map(\.members), rows: rows, suite: suite, settings: settings, jobs: jobs)
        }
        var overall = all[0]
        var groups = Array(all.dropFirst())
        compare(&groups, overall: &overall, suite: suite, settings: settings)
        return (overall, groups)
    }

    /// Percentile intervals of every cell's metrics and of their difference and ratio to the overall value, from one
    /// joint bootstrap: each resample draws clusters (speakers when known, else items) with replacement from the whole
    /// corpus, and every cell and the overall row are evaluated on that same resample, so a disparity's interval
    /// reflects that a group is part of the overall. Resample b uses its own generator (seed, b): the intervals do not
    /// depend on `jobs`.
    private static func bootstrap(_ reports: inout [GroupReport], cells: [[Int]], rows: [(result: AuditItemResult, item: MeasuredItem)],
                                  suite: any MetricSuite, settings: AnalysisSettings, jobs: Int) async {
        var clusterIndex = [Int](repeating: 0, count: rows.count), index: [String: Int] = [:]
        for (i, row) in rows.enumerated() {
            let speaker = settings.speakerColumn.flatMap { row.result.attributes[$0] } ?? ""
            let key = speaker.isEmpty ? "item:" + row.result.id : "speaker:" + speaker
            if let c = index[key] { clusterIndex[i] = c } else { clusterIndex[i] = index.count; index[key] = index.count }
        }
        let clusterOf = clusterIndex, items = rows.map(\.item)
        let clusterCount = index.count, metricCount = suite.metrics.count, resamples = settings.bootstrap
        let chunks = max(1, min(jobs, resamples))
        let ranges = (0..<chunks).map { c in (resamples * c / chunks)..<(resamples * (c + 1) / chunks) }
        // draws[cell][metric][b] (NaN = undefined in that resample).
        let parts = await boundedConcurrentMap(ranges, jobs: chunks) { range -> [[[Double]]] in
            var out = [[[Double]]](repeating: [[Double]](repeating: [], count: metricCount), count: cells.count)
            var counts = [Int](repeating: 0, count: clusterCount)
            var sample: [MeasuredItem] = []
            for b in range {
                var rng = SplitMix64(seed: settings.seed ^ Shard.fnv1a("bootstrap-\(b)"))
                for c in counts.indices { counts[c] = 0 }
                for _ in 0..<clusterCount { counts[Int(rng.next() % UInt64(clusterCount))] += 1 }
                for (k, members) in cells.enumerated() {
                    sample.removeAll(keepingCapacity: true)
                    for m in members { for _ in 0..<counts[clusterOf[m]] { sample.append(items[m]) } }
                    let values = sample.isEmpty ? [Double?](repeating: nil, count: metricCount) : suite.evaluate(sample)
                    for j in 0..<metricCount { out[k][j].append(values[j] ?? .nan) }
                }
            }
            return out
        }
        let alpha = (1 - settings.confidence) / 2
        func interval(_ draws: [Double]) -> (Double, Double)? {
            let valid = draws.filter { !$0.isNaN && $0.isFinite }.sorted()
            guard valid.count >= resamples / 2, let lo = quantile(valid, alpha), let hi = quantile(valid, 1 - alpha) else { return nil }
            return (lo, hi)
        }
        let names = suite.metrics.map(\.name)
        for k in cells.indices {
            for (j, name) in names.enumerated() {
                let draws = parts.flatMap { $0[k][j] }, overall = parts.flatMap { $0[0][j] }
                guard var e = reports[k].metrics[name] else { continue }
                if let (lo, hi) = interval(draws) { e.ciLow = lo; e.ciHigh = hi }
                if k > 0 {
                    if let (lo, hi) = interval(zip(draws, overall).map { $0 - $1 }) { e.differenceToOverallCI = [lo, hi] }
                    if let (lo, hi) = interval(zip(draws, overall).map { $1 != 0 ? $0 / $1 : .nan }) { e.ratioToOverallCI = [lo, hi] }
                }
                reports[k].metrics[name] = e
            }
        }
    }

    /// Every non-empty subset of `attributes`, shortest first, in the given order within a size.
    static func subsets(_ attributes: [String]) -> [[String]] {
        var out: [[String]] = []
        let n = attributes.count
        guard n > 0, n <= 12 else { return n > 0 ? attributes.map { [$0] } : [] }
        for size in 1...n {
            for mask in 1..<(1 << n) where mask.nonzeroBitCount == size {
                out.append((0..<n).filter { mask & (1 << $0) != 0 }.map { attributes[$0] })
            }
        }
        return out
    }

    private static func report(_ attributes: [String], _ values: [String], members: [Int], rows: [(result: AuditItemResult, item: MeasuredItem)],
                               suite: any MetricSuite, settings: AnalysisSettings) -> GroupReport {
        let point = suite.evaluate(members.map { rows[$0].item })
        var classes: [String: Int] = [:]
        for m in members { if let label = rows[m].result.label { classes[label, default: 0] += 1 } }
        let names = suite.metrics.map(\.name)
        var controlled = [Double?](repeating: nil, count: names.count)
        if let control = settings.control, !attributes.contains(control) {
            controlled = standardised(members: members, rows: rows, suite: suite, control: control)
        }
        var metrics: [String: MetricEstimate] = [:]
        for (j, name) in names.enumerated() {
            metrics[name] = MetricEstimate(value: point[j], controlled: controlled[j])
        }
        let speakers = settings.speakerColumn.map { column in Set(members.compactMap { rows[$0].result.attributes[column] }).count }
        return GroupReport(attributes: attributes, values: values, n: members.count, speakers: speakers, classes: classes,
                           insufficient: members.count < settings.minimumCell, metrics: metrics)
    }

    /// Per-stratum values of the control attribute, weighted by the strata's shares of the whole corpus.
    private static func standardised(members: [Int], rows: [(result: AuditItemResult, item: MeasuredItem)], suite: any MetricSuite,
                                     control: String) -> [Double?] {
        var overallShare: [String: Double] = [:]
        for row in rows { overallShare[row.result.attributes[control] ?? "", default: 0] += 1 / Double(rows.count) }
        var strata: [String: [MeasuredItem]] = [:]
        for m in members { strata[rows[m].result.attributes[control] ?? "", default: []].append(rows[m].item) }
        let count = suite.metrics.count
        var sums = [Double](repeating: 0, count: count), weights = [Double](repeating: 0, count: count)
        for (stratum, items) in strata.sorted(by: { $0.key < $1.key }) {
            let w = overallShare[stratum] ?? 0
            for (j, v) in suite.evaluate(items).enumerated() { if let v { sums[j] += w * v; weights[j] += w } }
        }
        return (0..<count).map { weights[$0] > 0 ? sums[$0] / weights[$0] : nil }
    }

    /// Disparities against the overall row and the best sufficient group of the same attributes; parity flags.
    private static func compare(_ groups: inout [GroupReport], overall: inout GroupReport, suite: any MetricSuite, settings: AnalysisSettings) {
        let band = settings.parityBand.count == 2 ? (settings.parityBand[0], settings.parityBand[1]) : (0.8, 1.25)
        for info in suite.metrics {
            let reference = overall.metrics[info.name]?.value
            var best: [[String]: Double] = [:]
            for g in groups where !g.insufficient {
                guard let v = g.metrics[info.name]?.value else { continue }
                if let b = best[g.attributes] { best[g.attributes] = info.lowerIsBetter ? min(b, v) : max(b, v) } else { best[g.attributes] = v }
            }
            for i in groups.indices where !groups[i].insufficient {
                guard var e = groups[i].metrics[info.name], let v = e.value else { continue }
                if let reference {
                    e.differenceToOverall = v - reference
                    e.ratioToOverall = reference != 0 ? v / reference : nil
                    if info.isRate, let r = e.ratioToOverall { e.parity = (r >= band.0 && r <= band.1) ? "ok" : "flag" }
                }
                if let b = best[groups[i].attributes] {
                    e.differenceToBest = v - b
                    e.ratioToBest = b != 0 ? v / b : nil
                }
                groups[i].metrics[info.name] = e
            }
        }
    }

    /// Type-7 quantile (linear interpolation, as numpy's default) of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
