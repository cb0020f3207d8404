/// A `--fail-on` condition: `NAME OP NUMBER` with OP one of `>`, `>=`, `<`, `<=`, e.g. `eer>0.1`, `disparity>1.25`.
///
/// NAME is a metric of the overall row (`eer`, `fpr`, `leakage`, …), `max_METRIC` / `min_METRIC` over the sufficient
/// groups, or `disparity`: the largest ratio to overall of any rate metric in any sufficient group, counting a ratio
/// r below 1 as 1/r (so `disparity>1.25` fails when any group is outside the 0.8–1.25 parity band).
public struct FailCondition: Sendable, Hashable, CustomStringConvertible {
    /// What is compared.
    public var name: String
    /// Comparison.
    public var op: String
    /// Threshold.
    public var threshold: Double

    /// Parses a condition.
    /// - Throws: `AuditError.invalidSetting` naming what was expected.
    public init(parsing text: String) throws(AuditError) {
        let compact = text.filter { !$0.isWhitespace }
        for op in [">=", "<=", ">", "<"] {
            if let range = compact.range(of: op) {
                let name = String(compact[..<range.lowerBound]), value = String(compact[range.upperBound...])
                guard !name.isEmpty, let threshold = Double(value) else { break }
                self.name = name.lowercased()
                self.op = op
                self.threshold = threshold
                return
            }
        }
        throw .invalidSetting(detail: "--fail-on '\(text)': expected NAME OP NUMBER, e.g. 'eer>0.1' or 'disparity>1.25' (OP: > >= < <=)")
    }

    /// `name op threshold`.
    public var description: String { "\(name)\(op)\(threshold)" }

    /// The value the condition reads from a summary (nil when undefined there).
    /// - Throws: `AuditError.invalidSetting` for a name the check does not produce.
    public func value(in summary: AuditSummary) throws(AuditError) -> Double? {
        let known = summary.metrics.map(\.name)
        if name == "disparity" {
            let rates = Set(summary.metrics.filter(\.isRate).map(\.name))
            var worst: Double?
            for g in summary.groups where !g.insufficient {
                for (metric, e) in g.metrics where rates.contains(metric) {
                    guard let r = e.ratioToOverall, r > 0 else { continue }
                    let d = max(r, 1 / r)
                    worst = max(worst ?? d, d)
                }
            }
            return worst
        }
        for (prefix, pick) in [("max_", { (a: Double, b: Double) in max(a, b) }), ("min_", { (a: Double, b: Double) in min(a, b) })] where name.hasPrefix(prefix) {
            let metric = String(name.dropFirst(prefix.count))
            guard known.contains(metric) else { break }
            return summary.groups.filter { !$0.insufficient }.compactMap { $0.metrics[metric]?.value }.reduce(nil) { acc, v in acc.map { pick($0, v) } ?? v }
        }
        guard known.contains(name) else {
            throw .invalidSetting(detail: "--fail-on \(name): not a metric of the \(summary.check) check; expected one of \((known + ["disparity"] + known.map { "max_\($0)" }).joined(separator: ", "))")
        }
        return summary.overall.metrics[name]?.value
    }

    /// Whether the summary violates the condition (an undefined value does not).
    public func isViolated(by summary: AuditSummary) throws(AuditError) -> (violated: Bool, value: Double?) {
        guard let v = try value(in: summary) else { return (false, nil) }
        let violated = switch op {
        case ">": v > threshold
        case ">=": v >= threshold
        case "<": v < threshold
        default: v <= threshold
        }
        return (violated, v)
    }
}
