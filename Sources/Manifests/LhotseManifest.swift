import Foundation

/// Lhotse manifests: a supervisions file (`…supervisions….jsonl` or `.jsonl.gz`) and the recordings file beside it
/// (the same name with `recordings` for `supervisions`). Each supervision is an item: its id, the recording's first
/// file source as `path`, `start` / `end` (seconds; the audio is cut on reading), `speaker`, `language`, `gender`,
/// `text`, the recording's `sampling_rate`, and every `custom` field as an attribute.
public enum LhotseManifest {
    /// Whether a path names a Lhotse supervisions file.
    public static func isSupervisions(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.contains("supervisions") && (name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz"))
    }

    /// Reads a supervisions file and its recordings.
    /// - Throws: `ManifestError` naming the file and line (missing recordings file or recording, non-file sources).
    public static func read(supervisions path: String) throws(ManifestError) -> Manifest {
        let name = (path as NSString).lastPathComponent
        let recordingsPath = ((path as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(name.replacingOccurrences(of: "supervisions", with: "recordings"))
        var recordings: [String: (path: String, rate: String)] = [:]
        for (line, object) in try lines(recordingsPath) {
            guard let id = object["id"] as? String, let sources = object["sources"] as? [[String: Any]], let first = sources.first else {
                throw .badRecord(path: recordingsPath, line: line, detail: "expected a Lhotse recording with id and sources")
            }
            guard (first["type"] as? String) == "file", let source = first["source"] as? String else {
                throw .badRecord(path: recordingsPath, line: line, detail: "source type '\(first["type"] ?? "?")'; only file sources are read — export the audio to files first")
            }
            recordings[id] = (source, (object["sampling_rate"] as? NSNumber)?.stringValue ?? "")
        }
        var rows: [(line: Int, fields: [String: String])] = []
        var columns = ["id", "path", "recording", "start", "end"]
        for (line, object) in try lines(path) {
            guard let id = object["id"] as? String, let recordingID = object["recording_id"] as? String,
                  let start = (object["start"] as? NSNumber)?.doubleValue, let duration = (object["duration"] as? NSNumber)?.doubleValue else {
                throw .badRecord(path: path, line: line, detail: "expected a Lhotse supervision with id, recording_id, start and duration")
            }
            guard let recording = recordings[recordingID] else {
                throw .badRecord(path: path, line: line, detail: "recording \(recordingID) is not in \(recordingsPath)")
            }
            var fields = ["id": id, "path": recording.path, "recording": recordingID, "start": String(start), "end": String(start + duration),
                          "sampling_rate": recording.rate]
            for key in ["speaker", "language", "gender", "text"] { if let v = object[key] as? String { fields[key] = v } }
            if let custom = object["custom"] as? [String: Any] {
                for (k, v) in custom { fields[k] = (v as? String) ?? (v as? NSNumber)?.stringValue ?? "\(v)" }
            }
            for k in fields.keys where !columns.contains(k) { columns.append(k) }
            rows.append((line, fields))
        }
        return try Manifest.make(path: path, columns: columns, rows: rows)
    }

    /// JSON objects of a `.jsonl` or `.jsonl.gz` file, with line numbers.
    static func lines(_ path: String) throws(ManifestError) -> [(Int, [String: Any])] {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
        let data: Data
        if path.hasSuffix(".gz") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-dc", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { throw .badRecord(path: path, line: 0, detail: "cannot run gzip: \(error)") }
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw .badRecord(path: path, line: 0, detail: "not a gzip file (gzip -d failed)") }
        } else {
            guard let d = FileManager.default.contents(atPath: path) else { throw .notFound(path: path) }
            data = d
        }
        var out: [(Int, [String: Any])] = []
        for (i, text) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
                throw .badRecord(path: path, line: i + 1, detail: "not a JSON object")
            }
            out.append((i + 1, object))
        }
        return out
    }
}
