import Evaluation
import Foundation

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts or external assets) with the overall
/// metrics, per-group bars with confidence whiskers, DET curves per group (scored checks) and the disparity table.
public enum HTMLReport {
    /// Metrics drawn as bars, by check.
    static func plotted(_ summary: AuditSummary) -> [String] {
        let preferred = ["eer", "fpr", "fnr", "detection_rate", "payload_accuracy", "false_positive_rate", "leakage", "retention"]
        return preferred.filter { name in summary.metrics.contains { $0.name == name } }
    }

    /// The page for a summary and the results it came from (the results give the DET curves).
    public static func render(_ summary: AuditSummary, results: [AuditItemResult], suite: any MetricSuite) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>VoiceGuard audit: \(escape(summary.check))</title>
        <style>
        body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
        h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #dde2ea;padding-bottom:.3rem}
        h3{font-size:1rem;margin:1.4rem 0 .4rem}.meta{color:#5b6577;font-size:.9rem}
        table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #eceff4;text-align:right}
        th{background:#f5f7fa}td:first-child,th:first-child{text-align:left}
        .flag{background:#fde2e1;color:#9b1c1c;font-weight:600}.ok{color:#1e6b3a}.small{color:#8a93a3}
        .cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #dde2ea;border-radius:8px;padding:.6rem .9rem;min-width:9rem}
        .card b{display:block;font-size:1.3rem}.plots{display:flex;flex-wrap:wrap;gap:1rem}svg{background:#fff}
        </style></head><body>
        <h1>VoiceGuard audit — \(escape(summary.check))</h1>
        <p class="meta">\(escape(summary.tool)) · manifest \(escape(summary.manifest.path)) (\(summary.manifest.rows) rows, sha256 \(summary.manifest.sha256.prefix(12))…) ·
        \(summary.nItems) items, \(summary.nFailed) failed · bootstrap \(summary.settings.bootstrap) resamples (\(summary.settings.speakerColumn.map { "by \(escape($0))" } ?? "by item"), seed \(summary.settings.seed)) ·
        minimum cell \(summary.settings.minimumCell) · parity band \(summary.settings.parityBand.map { format($0) }.joined(separator: "–"))</p>

        """
        html += "<h2>Overall</h2><div class=\"cards\">"
        for info in summary.metrics {
            let e = summary.overall.metrics[info.name]
            html += "<div class=\"card\"><span class=\"small\">\(escape(info.name))</span><b>\(format(e?.value))</b>"
            if let lo = e?.ciLow, let hi = e?.ciHigh { html += "<span class=\"small\">95 % CI \(format(lo))–\(format(hi))</span>" }
            html += "</div>"
        }
        html += "</div>\n<table><tr><th>metric</th><th>meaning</th><th>better</th></tr>"
        for info in summary.metrics { html += "<tr><td>\(escape(info.name))</td><td style=\"text-align:left\">\(escape(info.meaning))</td><td>\(info.lowerIsBetter ? "lower" : "higher")</td></tr>" }
        html += "</table>\n"

        let combinations = uniqueCombinations(summary.groups)
        for attributes in combinations {
            let groups = summary.groups.filter { $0.attributes == attributes }
            html += "<h2>By \(escape(attributes.joined(separator: " × ")))</h2>\n<div class=\"plots\">"
            for name in plotted(summary) { html += bars(groups, metric: name, overall: summary.overall.metrics[name]?.value) }
            if summary.metrics.contains(where: { $0.name == "eer" }) && attributes.count == 1 {
                html += det(groups, results: results, suite: suite)
            }
            html += "</div>\n" + disparityTable(groups, summary: summary)
        }
        if !summary.failures.isEmpty {
            html += "<h2>Failures (\(summary.nFailed))</h2><table><tr><th>id</th><th>error</th></tr>"
            for f in summary.failures.prefix(200) { html += "<tr><td>\(escape(f.id))</td><td style=\"text-align:left\">\(escape(f.error))</td></tr>" }
            html += "</table>" + (summary.failures.count > 200 ? "<p class=\"small\">… \(summary.failures.count - 200) more in summary.json</p>" : "")
        }
        html += "<p class=\"small\">Groups with fewer than \(summary.settings.minimumCell) items are marked insufficient and not compared. Parity flags compare a group's rate with the overall rate (ratio outside \(summary.settings.parityBand.map { format($0) }.joined(separator: "–"))). Values in brackets are bootstrap percentile intervals; ×r is the ratio to overall with its interval from the same (joint) resamples.</p></body></html>\n"
        return html
    }

    static func uniqueCombinations(_ groups: [GroupReport]) -> [[String]] {
        var seen = Set<[String]>(), out: [[String]] = []
        for g in groups where seen.insert(g.attributes).inserted { out.append(g.attributes) }
        return out
    }

    /// Horizontal bars with whiskers for one metric across groups.
    static func bars(_ groups: [GroupReport], metric: String, overall: Double?) -> String {
        let rows = groups.filter { $0.metrics[metric]?.value != nil }
        guard !rows.isEmpty else { return "" }
        let width = 340.0, label = 130.0, rowHeight = 20.0, top = 24.0
        let height = top + Double(rows.count) * rowHeight + 24
        let maxValue = max(1e-9, rows.compactMap { $0.metrics[metric]?.ciHigh ?? $0.metrics[metric]?.value }.max() ?? 1, overall ?? 0) * 1.1
        func x(_ v: Double) -> Double { label + (width - label - 10) * v / maxValue }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(metric)) by group\">"
        svg += "<text x=\"4\" y=\"15\" font-size=\"12\" font-weight=\"600\">\(escape(metric))</text>"
        for (i, g) in rows.enumerated() {
            let e = g.metrics[metric]!, y = top + Double(i) * rowHeight
            let colour = g.insufficient ? "#c5cad3" : (e.parity == "flag" ? "#d9534f" : "#4a78c2")
            svg += "<text x=\"\(Int(label - 6))\" y=\"\(format(y + 13))\" font-size=\"11\" text-anchor=\"end\">\(escape(shortLabel(g)))</text>"
            svg += "<rect x=\"\(format(label))\" y=\"\(format(y + 3))\" width=\"\(format(max(0.5, x(e.value!) - label)))\" height=\"13\" fill=\"\(colour)\"><title>\(escape(g.key)): \(format(e.value)) (n \(g.n))</title></rect>"
            if let lo = e.ciLow, let hi = e.ciHigh {
                svg += "<line x1=\"\(format(x(lo)))\" x2=\"\(format(x(hi)))\" y1=\"\(format(y + 9.5))\" y2=\"\(format(y + 9.5))\" stroke=\"#1d2330\" stroke-width=\"1.2\"/>"
                for v in [lo, hi] { svg += "<line x1=\"\(format(x(v)))\" x2=\"\(format(x(v)))\" y1=\"\(format(y + 5))\" y2=\"\(format(y + 14))\" stroke=\"#1d2330\"/>" }
            }
        }
        if let overall {
            svg += "<line x1=\"\(format(x(overall)))\" x2=\"\(format(x(overall)))\" y1=\"\(format(top - 2))\" y2=\"\(format(height - 20))\" stroke=\"#f0a202\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"\(format(x(overall)))\" y=\"\(format(height - 6))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#8a5a00\">overall \(format(overall))</text>"
        }
        return svg + "</svg>"
    }

    /// DET curves (probit axes, 0.1 %–60 %) of each sufficient group.
    static func det(_ groups: [GroupReport], results: [AuditItemResult], suite: any MetricSuite) -> String {
        let size = 300.0, margin = 40.0
        let lo = probit(0.001), hi = probit(0.6)
        func axis(_ p: Double) -> Double { (probit(min(0.6, max(0.001, p))) - lo) / (hi - lo) * (size - 2 * margin) }
        let palette = ["#4a78c2", "#d9534f", "#2e9c5a", "#f0a202", "#7a4fb5", "#1aa3a3", "#b5547a", "#6b6b6b"]
        var svg = "<svg width=\"\(Int(size + 110))\" height=\"\(Int(size))\" role=\"img\" aria-label=\"DET curves\">"
        svg += "<text x=\"4\" y=\"14\" font-size=\"12\" font-weight=\"600\">DET curves</text>"
        svg += "<text x=\"\(format(size / 2))\" y=\"\(format(size - 4))\" font-size=\"10\" text-anchor=\"middle\">bona fide flagged (FPR)</text>"
        svg += "<text x=\"10\" y=\"\(format(size / 2))\" font-size=\"10\" text-anchor=\"middle\" transform=\"rotate(-90 10 \(format(size / 2)))\">spoof passed (FNR)</text>"
        for tick in [0.001, 0.01, 0.05, 0.2, 0.5] {
            let t = margin + axis(tick), label = tick < 0.01 ? "0.1%" : "\(Int(tick * 100))%"
            svg += "<line x1=\"\(format(t))\" x2=\"\(format(t))\" y1=\"\(format(margin))\" y2=\"\(format(size - margin))\" stroke=\"#eceff4\"/>"
            svg += "<line x1=\"\(format(margin))\" x2=\"\(format(size - margin))\" y1=\"\(format(size - t))\" y2=\"\(format(size - t))\" stroke=\"#eceff4\"/>"
            svg += "<text x=\"\(format(t))\" y=\"\(format(size - margin + 12))\" font-size=\"9\" text-anchor=\"middle\">\(label)</text>"
            svg += "<text x=\"\(format(margin - 3))\" y=\"\(format(size - t + 3))\" font-size=\"9\" text-anchor=\"end\">\(label)</text>"
        }
        var legend = 0
        for g in groups where !g.insufficient {
            let members = results.filter { r in zip(g.attributes, g.values).allSatisfy { r.attributes[$0] == $1 } }
            let trials = members.compactMap { suite.measure($0) }.filter { $0.label >= 0 }.map { ScoredTrial(score: $0.score, isTarget: $0.label == 1) }
            let curve = CostMetrics.detCurve(trials)
            guard curve.count > 1 else { continue }
            let stride = max(1, curve.count / 150)
            let points = curve.enumerated().filter { $0.offset % stride == 0 || $0.offset == curve.count - 1 }.map { p in
                "\(format(margin + axis(p.element.missRate))),\(format(size - margin - axis(p.element.falseAlarmRate)))"
            }
            let colour = palette[legend % palette.count]
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.6\" points=\"\(points.joined(separator: " "))\"><title>\(escape(g.key))</title></polyline>"
            svg += "<rect x=\"\(format(size + 2))\" y=\"\(format(margin + Double(legend) * 15))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(format(size + 16))\" y=\"\(format(margin + Double(legend) * 15 + 9))\" font-size=\"10\">\(escape(shortLabel(g)))</text>"
            legend += 1
        }
        return svg + "</svg>"
    }

    /// The disparity table: value, interval, ratios and parity of every metric per group.
    static func disparityTable(_ groups: [GroupReport], summary: AuditSummary) -> String {
        var html = "<table><tr><th>group</th><th>n</th>"
        for info in summary.metrics where info.isRate || info.name == "cllr" || info.name == "act_dcf" { html += "<th>\(escape(info.name))</th>" }
        html += "</tr>"
        for g in groups {
            html += "<tr><td>\(escape(g.key))\(g.insufficient ? " <span class=\"small\">(insufficient)</span>" : "")</td><td>\(g.n)</td>"
            for info in summary.metrics where info.isRate || info.name == "cllr" || info.name == "act_dcf" {
                let e = g.metrics[info.name]
                let cls = e?.parity == "flag" ? " class=\"flag\"" : ""
                var cell = format(e?.value)
                if let lo = e?.ciLow, let hi = e?.ciHigh { cell += " <span class=\"small\">[\(format(lo))–\(format(hi))]</span>" }
                if let r = e?.ratioToOverall {
                    let ci = e?.ratioToOverallCI.map { " (\(format($0.first))–\(format($0.last)))" } ?? ""
                    cell += " <span class=\"small\">×\(format(r))\(ci)</span>"
                }
                html += "<td\(cls)>\(cell)</td>"
            }
            html += "</tr>"
        }
        return html + "</table>"
    }

    static func shortLabel(_ g: GroupReport) -> String {
        let s = g.values.map { $0.isEmpty ? "(none)" : $0 }.joined(separator: " · ")
        return s.count > 22 ? String(s.prefix(21)) + "…" : s
    }

    static func format(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        return String(format: abs(v) >= 100 ? "%.0f" : (abs(v) >= 10 ? "%.1f" : "%.3f"), v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
    static func probit(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let pl = 0.02425
        if p < pl {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - pl {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
