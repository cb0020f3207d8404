import CSV
import Foundation

/// One item of a corpus manifest: an audio file plus its attributes (label, speaker, split, …).
public struct ManifestRecord: Sendable, Hashable {
    /// Unique identifier of the item.
    public var id: String
    /// The audio path as written in the manifest.
    public var path: String
    /// The audio path resolved against the manifest's folder (absolute paths are kept).
    public var resolvedPath: String
    /// Every column of the record, including `id` and `path`, as text.
    public var attributes: [String: String]
    /// 1-based line of the record in the manifest (the header is line 1 for CSV).
    public var line: Int

    /// The value of column `name`, or `nil` when absent or empty.
    public subscript(name: String) -> String? {
        guard let v = attributes[name], !v.isEmpty else { return nil }
        return v
    }
}

/// A parsed manifest: its columns and records in file order.
public struct Manifest: Sendable {
    /// The manifest file.
    public var path: String
    /// Column names in header order (CSV) or first-seen order (JSONL).
    public var columns: [String]
    /// Records in file order.
    public var records: [ManifestRecord]

    /// Columns every manifest must have.
    public static let requiredColumns = ["id", "path"]

    /// Reads a `.csv` (RFC 4180, header row) or `.jsonl` (one JSON object per line; NeMo's `audio_filepath` is
    /// accepted for `path`, and the path is the id when there is none) manifest.
    /// Relative audio paths are resolved against the manifest's folder.
    /// - Parameter required: columns that must be present besides `id` and `path`.
    /// - Throws: `ManifestError` naming the file and line.
    public static func read(path: String, requiring required: [String] = []) throws(ManifestError) -> Manifest {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
        var rows: [(line: Int, fields: [String: String])]
        var columns: [String]
        if path.hasSuffix(".csv") {
            (columns, rows) = try readCSV(path)
        } else if path.hasSuffix(".jsonl") {
            (columns, rows) = try readJSONL(path)
        } else {
            throw .unsupportedFormat(path: path)
        }
        guard !rows.isEmpty else { throw .empty(path: path) }
        // NeMo manifests: `audio_filepath` (and `offset`) instead of `path` and no id: the path (and offset) is the id.
        if !columns.contains("path") && columns.contains("audio_filepath") {
            for i in rows.indices {
                let audio = rows[i].fields["audio_filepath"] ?? ""
                rows[i].fields["path"] = audio
                if rows[i].fields["id"] == nil {
                    let offset = rows[i].fields["offset"].flatMap { Double($0) }.map { $0 > 0 ? "@\($0)" : "" } ?? ""
                    rows[i].fields["id"] = audio + offset
                }
            }
            columns += ["path"] + (columns.contains("id") ? [] : ["id"])
        }
        return try make(path: path, columns: columns, rows: rows, required: required)
    }

    /// Builds a manifest from parsed rows (a header's columns and each row's fields with its line number).
    /// - Throws: `ManifestError` for a missing column, an empty id or path, or a duplicate id.
    public static func make(path: String, columns: [String], rows: [(line: Int, fields: [String: String])],
                               required: [String] = []) throws(ManifestError) -> Manifest {
        var columns = columns
        let folder = (path as NSString).deletingLastPathComponent
        guard !rows.isEmpty else { throw .empty(path: path) }
        for column in requiredColumns + required where !columns.contains(column) {
            throw .missingColumn(path: path, line: rows[0].line, column: column)
        }
        var records: [ManifestRecord] = []
        records.reserveCapacity(rows.count)
        var firstLine: [String: Int] = [:]
        for row in rows {
            guard let id = row.fields["id"], !id.isEmpty else { throw .missingColumn(path: path, line: row.line, column: "id") }
            guard let audio = row.fields["path"], !audio.isEmpty else { throw .missingColumn(path: path, line: row.line, column: "path") }
            if let first = firstLine[id] { throw .duplicateID(path: path, line: row.line, id: id, firstLine: first) }
            firstLine[id] = row.line
            let resolved = audio.hasPrefix("/") ? audio : (folder.isEmpty ? audio : folder + "/" + audio)
            records.append(ManifestRecord(id: id, path: audio, resolvedPath: resolved, attributes: row.fields, line: row.line))
        }
        columns = columns.isEmpty ? Array(records[0].attributes.keys).sorted() : columns
        return Manifest(path: path, columns: columns, records: records)
    }

    private static func readCSV(_ path: String) throws(ManifestError) -> ([String], [(line: Int, fields: [String: String])]) {
        guard let stream = InputStream(fileAtPath: path) else { throw .notFound(path: path) }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true)
        } catch {
            throw .badRecord(path: path, line: 1, detail: "cannot read the CSV header: \(error)")
        }
        guard let header = reader.headerRow, !header.isEmpty else { throw .empty(path: path) }
        var rows: [(line: Int, fields: [String: String])] = []
        var line = 1
        while let row = reader.next() {
            line += 1
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == header.count else {
                throw .badRecord(path: path, line: line, detail: "\(row.count) fields; expected \(header.count) as in the header")
            }
            // A quoted field may hold line breaks (RFC 4180), but one whose later lines look like whole records (as many
            // commas as a record has) is an unterminated quote that swallowed the records after it: refused.
            if let column = zip(header, row).first(where: { Self.swallowsRecords($0.1, fields: header.count) })?.0 {
                throw .badRecord(path: path, line: line, detail: "column \(column) runs over several lines that look like records "
                                 + "(an unterminated \" quote?)")
            }
            rows.append((line, Dictionary(zip(header, row), uniquingKeysWith: { a, _ in a })))
        }
        // CSV.swift reports the end of the stream as `cannotReadFile`; anything else is a real error.
        if let error = reader.error, !(error is CSVError && "\(error)" == "cannotReadFile") {
            throw .badRecord(path: path, line: line + 1, detail: "CSV syntax: \(error)")
        }
        return (header, rows)
    }

    /// Whether a field's second or later line holds at least `fields − 1` commas (the shape of a record).
    static func swallowsRecords(_ value: String, fields: Int) -> Bool {
        guard fields > 1, value.contains(where: \.isNewline) else { return false }
        return value.split(whereSeparator: \.isNewline).dropFirst().contains { $0.filter { $0 == "," }.count >= fields - 1 }
    }

    private static func readJSONL(_ path: String) throws(ManifestError) -> ([String], [(line: Int, fields: [String: String])]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .notFound(path: path) }
        var columns: [String] = []
        var seen = Set<String>()
        var rows: [(line: Int, fields: [String: String])] = []
        var line = 0
        for text in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            line += 1
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
                throw .badRecord(path: path, line: line, detail: "not a JSON object")
            }
            var fields: [String: String] = [:]
            for (key, value) in object {
                if !seen.contains(key) { seen.insert(key); columns.append(key) }
                switch value {
                case let s as String: fields[key] = s
                case is NSNull: fields[key] = ""
                case let n as NSNumber: fields[key] = n.stringValue
                default:
                    if let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) {
                        fields[key] = String(decoding: d, as: UTF8.self)
                    }
                }
            }
            rows.append((line, fields))
        }
        return (columns, rows)
    }
}
