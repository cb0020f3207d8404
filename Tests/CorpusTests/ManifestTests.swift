import Foundation
import Testing
import VoiceGuardTestSupport
@testable import Manifests

/// The repository root, found from this file's path.
let fixtures = repositoryRoot + "/Corpora/fixtures"

func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let dir = NSTemporaryDirectory() + "vg-manifest-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Manifest reader")
struct ManifestTests {
    @Test("reads the committed speech fixture manifest (CSV and JSONL agree)")
    func fixtureManifests() throws {
        let csv = try Manifest.read(path: fixtures + "/speech/manifest.csv", requiring: ["label", "split"])
        let jsonl = try Manifest.read(path: fixtures + "/speech/manifest.jsonl")
        #expect(csv.records.count == 24)
        #expect(csv.records.filter { $0["label"] == "bonafide" }.count == 12)
        #expect(csv.records.filter { $0["label"] == "spoof" }.count == 12)
        #expect(csv.records.map(\.id) == jsonl.records.map(\.id))
        #expect(csv.records.map(\.attributes) == jsonl.records.map(\.attributes))
        for column in ["id", "path", "label", "source", "engine", "voice", "language", "speaker", "gender", "channel",
                       "sample_rate_orig", "duration", "text", "split", "licence"] {
            #expect(csv.columns.contains(column), "missing column \(column)")
        }
        let first = try #require(csv.records.first)
        #expect(first.resolvedPath == fixtures + "/speech/" + first.path)
        #expect(FileManager.default.fileExists(atPath: first.resolvedPath))
        #expect(first.line == 2)
    }

    @Test("quoted fields with commas, quotes and newlines survive")
    func quoting() throws {
        let path = try temporaryFile("m.csv", "id,path,text\na,x.wav,\"Hello, \"\"world\"\"\nsecond line\"\nb,/abs/y.wav,plain\n")
        let m = try Manifest.read(path: path)
        #expect(m.records.count == 2)
        #expect(m.records[0]["text"] == "Hello, \"world\"\nsecond line")
        #expect(m.records[1].resolvedPath == "/abs/y.wav")
    }

    @Test("errors name the file and line", arguments: [
        ("dup.csv", "id,path\na,x.wav\na,y.wav\n", "line 3: id 'a' already used on line 2"),
        ("nopath.csv", "id,file\na,x.wav\n", "column 'path' is missing"),
        ("short.csv", "id,path,label\na,x.wav\n", "line 2: 2 fields; expected 3"),
        ("bad.jsonl", "{\"id\": \"a\", \"path\": \"x.wav\"}\nnot json\n", "line 2: not a JSON object"),
        ("empty.csv", "id,path\n", "manifest is empty"),
        ("quote.csv", "id,path,text\na,x.wav,\"unterminated\nb,y.wav,fine\nc,z.wav,fine\n", "line 2: column text runs over several lines"),
        ("m.txt", "id,path\n", "unknown manifest format"),
    ])
    func errors(name: String, contents: String, message: String) throws {
        let path = try temporaryFile(name, contents)
        let error = #expect(throws: ManifestError.self) { try Manifest.read(path: path) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix(path) == true)
    }
}
