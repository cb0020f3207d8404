import Foundation

/// The append-only per-item log of an audit run (`results.jsonl`: one JSON object per line, keys sorted).
///
/// Each result is appended with a single `write` to a file opened with `O_APPEND`, so a crash or `kill -9` leaves at
/// most one incomplete last line; `open(resuming:)` cuts such a line off before appending, and reading keeps the first
/// complete line of each id, so no item is lost or counted twice.
public final class ResultsLog {
    /// File path.
    public let path: String
    private let descriptor: Int32
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (creating) the log for appending. Without `resuming`, an existing non-empty log is an error (the
    /// caller decides: `--resume` or a fresh folder).
    /// - Throws: `AuditError.outputExists` or `.cannotWrite`.
    public init(path: String, resuming: Bool) throws(AuditError) {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if size > 0 && !resuming { throw .outputExists(path: path, hint: "pass --resume to continue that run, or choose another --out") }
            if size > 0 { try Self.cutIncompleteLastLine(path) }
        }
        descriptor = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw .cannotWrite(path: path, detail: String(cString: strerror(errno))) }
    }

    deinit { close(descriptor) }

    /// Appends one result as one line.
    /// - Throws: `AuditError.cannotWrite` (e.g. disk full).
    public func append(_ result: AuditItemResult) throws(AuditError) {
        var data: Data
        do { data = try encoder.encode(result) } catch { throw .cannotWrite(path: path, detail: "\(error)") }
        data.append(0x0A)
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count else { throw .cannotWrite(path: path, detail: written < 0 ? String(cString: strerror(errno)) : "short write") }
    }

    /// Flushes appended lines to the disk.
    public func synchronize() { fsync(descriptor) }

    /// The results in a log: the first complete line of each id, in file order; an incomplete last line is ignored.
    /// With `keeping`, only those attributes are kept (the analysis needs few; this bounds its memory).
    /// - Throws: `AuditError.badResults` naming the line when a complete line is not a result.
    public static func read(path: String, keeping: Set<String>? = nil) throws(AuditError) -> [AuditItemResult] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var results: [AuditItemResult] = [], seen = Set<String>()
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            guard let newline = data[start...].firstIndex(of: 0x0A) else { break }  // incomplete last line
            lineNumber += 1
            let line = data[start..<newline]
            start = data.index(after: newline)
            if line.isEmpty { continue }
            var result: AuditItemResult
            do { result = try decoder.decode(AuditItemResult.self, from: line) } catch {
                throw .badResults(path: path, line: lineNumber, detail: "not a result: \(error)")
            }
            if let keeping { result.attributes = result.attributes.filter { keeping.contains($0.key) } }
            if seen.insert(result.id).inserted { results.append(result) }
        }
        return results
    }

    /// The attribute names of the first result in a log (empty when there is none).
    public static func attributeNames(path: String) -> Set<String> {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        var buffer = Data()
        while !buffer.contains(0x0A), let chunk = try? handle.read(upToCount: 65_536), !chunk.isEmpty { buffer.append(chunk) }
        guard let newline = buffer.firstIndex(of: 0x0A),
              let first = try? JSONDecoder().decode(AuditItemResult.self, from: buffer[..<newline]) else { return [] }
        return Set(first.attributes.keys)
    }

    private static func cutIncompleteLastLine(_ path: String) throws(AuditError) {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != 0x0A else { return }
        let keep = (data.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        guard truncate(path, off_t(keep)) == 0 else { throw .cannotWrite(path: path, detail: String(cString: strerror(errno))) }
    }
}
