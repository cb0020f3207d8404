import Foundation
import AudioCore

/// A read-only safetensors file (8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw data). Only `F32` tensors are read; every read checks the declared shape
/// against the expected one and the byte range against the file, so a malformed file is an error, not a crash.
public struct SafeTensors: Sendable {
    /// Where the file was read from (for messages).
    public let path: String
    private let data: Data
    private let dataStart: Int
    private let entries: [String: Entry]

    private struct Entry: Sendable {
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads and parses `path`.
    /// - Parameter sha256: the pinned lowercase hex digest; the file is refused when its digest differs.
    /// - Throws: `PerceptionError.checksumMismatch` or `.malformedWeights` (file unreadable, header not JSON,
    ///   ranges outside the file).
    public init(path: String, sha256: String?) throws(PerceptionError) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .malformedWeights(path: path, detail: "cannot read the file")
        }
        if let sha256 {
            let found = AudioCore.SHA256.hexDigest([UInt8](data))
            guard found == sha256 else { throw .checksumMismatch(path: path, expected: sha256, found: found) }
        }
        guard data.count >= 8 else { throw .malformedWeights(path: path, detail: "\(data.count) bytes; expected at least an 8-byte header length") }
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(data[data.startIndex + i]) << (8 * i) }
        guard headerLength > 1, headerLength <= data.count - 8 else {
            throw .malformedWeights(path: path, detail: "header length \(headerLength) does not fit a file of \(data.count) bytes")
        }
        let header = data[(data.startIndex + 8)..<(data.startIndex + 8 + headerLength)]
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw .malformedWeights(path: path, detail: "byte 8: header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        let payload = data.count - 8 - headerLength
        for (name, value) in json where name != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= payload else {
                throw .malformedWeights(path: path, detail: "tensor \(name): bad header entry (dtype, shape, data_offsets within \(payload) bytes)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        self.data = data
        self.dataStart = 8 + headerLength
        self.entries = entries
    }

    /// Names of the tensors in the file.
    public var names: [String] { entries.keys.sorted() }

    /// The values of tensor `name` (row-major), checked to be F32 with exactly `shape`.
    /// - Throws: `PerceptionError.malformedWeights` naming the tensor and what differs.
    public func floats(_ name: String, shape: [Int]) throws(PerceptionError) -> [Float] {
        guard let entry = entries[name] else { throw .malformedWeights(path: path, detail: "no tensor \(name)") }
        guard entry.dtype == "F32" else { throw .malformedWeights(path: path, detail: "tensor \(name) is \(entry.dtype); expected F32") }
        guard entry.shape == shape else {
            throw .malformedWeights(path: path, detail: "tensor \(name) has shape \(entry.shape); expected \(shape)")
        }
        let count = shape.reduce(1, *)
        guard entry.end - entry.begin == 4 * count else {
            throw .malformedWeights(path: path, detail: "tensor \(name) holds \(entry.end - entry.begin) bytes; expected \(4 * count)")
        }
        var values = [Float](repeating: 0, count: count)
        let start = data.startIndex + dataStart + entry.begin
        values.withUnsafeMutableBytes { destination in
            data.copyBytes(to: destination.bindMemory(to: UInt8.self), from: start..<(start + 4 * count))
        }
        // safetensors is little-endian; so is every platform this builds for (checked, not assumed).
        if UInt32(littleEndian: 1) != 1 { for i in values.indices { values[i] = Float(bitPattern: values[i].bitPattern.byteSwapped) } }
        guard values.allSatisfy(\.isFinite) else { throw .malformedWeights(path: path, detail: "tensor \(name) holds non-finite values") }
        return values
    }
}
