public import AudioCore
import AudioIO
public import Manifests

/// One recording to audit: a manifest record with the columns the audit reads.
public struct AuditItem: Sendable, Hashable {
    /// The manifest record (id, audio path resolved against the manifest's folder, every column as an attribute).
    public var record: ManifestRecord
    /// The manifest's folder (side files such as frame labels are resolved against it).
    public var manifestFolder: String

    /// Creates an item.
    public init(record: ManifestRecord, manifestFolder: String) {
        self.record = record
        self.manifestFolder = manifestFolder
    }

    /// A side file named by a column, resolved against the manifest's folder (nil when the column is empty).
    public func sidecar(_ column: String) -> String? {
        guard let value = record.attributes[column], !value.isEmpty else { return nil }
        return value.hasPrefix("/") || manifestFolder.isEmpty ? value : manifestFolder + "/" + value
    }
    /// The item's id.
    public var id: String { record.id }

    /// Decodes the item's audio; with `start` / `end` attributes (seconds; Kaldi `segments`), only that span.
    /// - Throws: `AudioFileError` from decoding, or when the span lies outside the recording.
    public func readAudio() throws -> AudioBuffer {
        let audio = try AudioFileReader.read(path: record.resolvedPath)
        guard let start = record.attributes["start"].flatMap(Double.init), let end = record.attributes["end"].flatMap(Double.init) else { return audio }
        let first = max(0, Int((start * audio.sampleRate).rounded())), last = end < 0 ? audio.frameCount : min(audio.frameCount, Int((end * audio.sampleRate).rounded()))
        guard first < last else {
            throw AudioFileError.decodeFailed(path: record.resolvedPath, frame: first, detail: "segment \(start)–\(end) s lies outside the recording (\(Double(audio.frameCount) / audio.sampleRate) s)")
        }
        let c = audio.channelCount
        return AudioBuffer(sampleRate: audio.sampleRate, channelCount: c, samples: Array(audio.samples[(first * c)..<(last * c)]))
    }
}

/// What a check found for one item: the numbers it measured, or why it failed.
public struct AuditItemResult: Sendable, Codable, Hashable {
    /// Item id (unique within the manifest).
    public var id: String
    /// Check name (`synthetic`, `watermark`, `redaction`, …).
    public var check: String
    /// Detector score when the check produces one (synthetic: calibrated LLR, natural log, higher = bona fide).
    public var score: Double?
    /// Ground-truth class when the manifest has it (synthetic: `bonafide` or `spoof`).
    public var label: String?
    /// Further measurements by name (e.g. `detected` 0/1, `payload_correct` 0/1, `leakage` 0…1), sorted by name in JSON.
    public var values: [String: Double]
    /// Every manifest column except the path (what results are grouped by).
    public var attributes: [String: String]
    /// Why the item could not be measured (nil on success).
    public var error: String?

    /// Creates a result.
    public init(id: String, check: String, score: Double? = nil, label: String? = nil, values: [String: Double] = [:],
                attributes: [String: String] = [:], error: String? = nil) {
        self.id = id
        self.check = check
        self.score = score
        self.label = label
        self.values = values
        self.attributes = attributes
        self.error = error
    }
}

/// A measurement the audit runs on every item: a small adapter around a detector, the watermark decoder or the
/// redactor. Implementations must be safe to call from several tasks at once (`run` is called concurrently).
public protocol AuditCheck: Sendable {
    /// Name used in results and on the command line.
    var name: String { get }
    /// Versions of what it runs (tool, model hash, …), recorded in the summary.
    var versions: [String: String] { get }
    /// Manifest columns it needs besides `id` and `path`.
    var requiredColumns: [String] { get }
    /// Measures one item. Throwing records the item as failed; the run goes on.
    func run(_ item: AuditItem) throws -> AuditItemResult
}
