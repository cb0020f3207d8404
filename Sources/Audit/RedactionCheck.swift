import AudioCore
import AudioIO
import Foundation
public import Redaction

/// The `redaction` check: runs the privacy filter on each mixture and counts, against its 10 ms frame labels
/// (`frame_labels` column: a file of `P` primary, `B` background, `O` overlap, `N` none), the background frames left
/// and the primary frames kept. Enrolled mode reads the `enrollment` column; dominant mode needs none.
public struct RedactionCheck: AuditCheck {
    /// The filter.
    public let filter: PrivacyFilter
    /// Enrolled (`--keep`-like, from the enrollment column) or dominant mode.
    public let enrolled: Bool
    /// Use the streaming filter (bounded look-ahead) instead of whole-file analysis.
    public let streaming: Bool

    /// Creates the check.
    public init(filter: PrivacyFilter, enrolled: Bool, streaming: Bool = false) {
        self.filter = filter
        self.enrolled = enrolled
        self.streaming = streaming
    }

    /// `redaction`.
    public var name: String { "redaction" }
    /// Mode and analysis.
    public var versions: [String: String] {
        ["mode": enrolled ? "enrolled" : "dominant", "analysis": streaming ? "streaming" : "whole-file",
         "model_trained_on": filter.model.training["corpus"] ?? filter.model.training.keys.sorted().first ?? "?"]
    }
    /// Frame labels, and the enrollment clip in enrolled mode.
    public var requiredColumns: [String] { enrolled ? ["frame_labels", "enrollment"] : ["frame_labels"] }

    /// Redacts and counts frames.
    public func run(_ item: AuditItem) throws -> AuditItemResult {
        guard let labelsPath = item.sidecar("frame_labels") else { throw AuditError.invalidSetting(detail: "\(item.id): no frame_labels") }
        let labels = Array(try String(contentsOfFile: labelsPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        let audio = try item.readAudio()
        let mode: PrimaryTalkerMode
        if enrolled {
            guard let path = item.sidecar("enrollment") else { throw AuditError.invalidSetting(detail: "\(item.id): no enrollment clip") }
            mode = .enrolled(try filter.enroll([(path, try AudioFileReader.read(path: path))]))
        } else {
            mode = .dominant
        }
        let plan = streaming ? try StreamingPrivacyFilter.plan(audio, filter: filter, mode: mode).plan : try filter.plan(audio, mode: mode)
        var counts: [Character: (total: Double, kept: Double)] = [:]
        for f in 0..<min(labels.count, plan.redacted.count) {
            var c = counts[labels[f], default: (0, 0)]
            c.total += 1
            if !plan.redacted[f] { c.kept += 1 }
            counts[labels[f]] = c
        }
        return AuditItemResult(id: item.id, check: name, values: [
            "background_frames": counts["B"]?.total ?? 0, "background_left": counts["B"]?.kept ?? 0,
            "primary_frames": counts["P"]?.total ?? 0, "primary_kept": counts["P"]?.kept ?? 0,
            "overlap_frames": counts["O"]?.total ?? 0, "overlap_kept": counts["O"]?.kept ?? 0])
    }
}
