public import Foundation

/// `summary.json`: everything an audit found, with what produced it (versioned schema).
public struct AuditSummary: Sendable, Codable, Hashable {
    /// A failed item.
    public struct Failure: Sendable, Codable, Hashable {
        /// Item id.
        public var id: String
        /// What went wrong.
        public var error: String
    }

    /// The manifest audited.
    public struct ManifestInfo: Sendable, Codable, Hashable {
        /// Path as given.
        public var path: String
        /// SHA-256 of the file's bytes.
        public var sha256: String
        /// Rows in it.
        public var rows: Int
    }

    /// Schema name.
    public var schema = "voiceguard-audit-summary"
    /// Schema version (incremented on incompatible changes).
    public var schemaVersion = 1
    /// The program and version.
    public var tool: String
    /// Check name.
    public var check: String
    /// Versions of what the check ran (model hashes, …).
    public var versions: [String: String]
    /// The manifest.
    public var manifest: ManifestInfo
    /// Check settings (e.g. the operating threshold) by name.
    public var checkSettings: [String: String]
    /// Analysis settings.
    public var settings: AnalysisSettings
    /// The metrics, their meaning and polarity.
    public var metrics: [MetricInfo]
    /// Items in the results (all shards).
    public var nItems: Int
    /// Items that failed.
    public var nFailed: Int
    /// Every failure, by id.
    public var failures: [Failure]
    /// Metrics over every successful item.
    public var overall: GroupReport
    /// Metrics per group (every combination of the group-by attributes), sorted.
    public var groups: [GroupReport]

    enum CodingKeys: String, CodingKey {
        case schema, tool, check, versions, manifest, settings, metrics, failures, overall, groups
        case schemaVersion = "schema_version", checkSettings = "check_settings", nItems = "n_items", nFailed = "n_failed"
    }

    /// Pretty, key-sorted JSON (byte-identical for identical content).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// `groups.csv`: one row per group and metric.
    public func groupsCSV() -> String {
        var out = "group,attributes,values,n,speakers,insufficient,metric,value,ci_low,ci_high,diff_overall,diff_overall_ci_low,diff_overall_ci_high,ratio_overall,ratio_overall_ci_low,ratio_overall_ci_high,diff_best,ratio_best,parity,controlled\n"
        for g in [overall] + groups {
            for info in metrics {
                let e = g.metrics[info.name] ?? MetricEstimate()
                let fields: [String] = [g.key, g.attributes.joined(separator: "+"), g.values.joined(separator: "+"), "\(g.n)",
                                        g.speakers.map { "\($0)" } ?? "", g.insufficient ? "true" : "false", info.name,
                                        Self.number(e.value), Self.number(e.ciLow), Self.number(e.ciHigh),
                                        Self.number(e.differenceToOverall), Self.number(e.differenceToOverallCI?.first),
                                        Self.number(e.differenceToOverallCI?.last), Self.number(e.ratioToOverall),
                                        Self.number(e.ratioToOverallCI?.first), Self.number(e.ratioToOverallCI?.last),
                                        Self.number(e.differenceToBest), Self.number(e.ratioToBest), e.parity ?? "", Self.number(e.controlled)]
                out += fields.map(Self.csvField).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// `failures.csv`: id and error of every failed item.
    public func failuresCSV() -> String {
        "id,error\n" + failures.map { Self.csvField($0.id) + "," + Self.csvField($0.error) + "\n" }.joined()
    }

    static func number(_ v: Double?) -> String { v.map { String(format: "%.10g", $0) } ?? "" }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
