import AudioCore
import Foundation
import Testing
@testable import AudioIO

@Suite("Bad inputs get specific errors")
struct BadInputTests {
    @Test("missing file")
    func missing() {
        #expect(throws: AudioFileError.notFound(path: "/nonexistent/x.wav")) { try AudioFileReader(path: "/nonexistent/x.wav") }
    }

    @Test("a directory")
    func directory() {
        let dir = TemporaryDirectory()
        #expect(throws: AudioFileError.isDirectory(path: dir.path)) { try AudioFileReader(path: dir.path) }
    }

    @Test("an empty file")
    func empty() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("empty.wav")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: AudioFileError.empty(path: path)) { try AudioFileReader(path: path) }
    }

    @Test("text renamed .wav names what it found")
    func textFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("notes.wav")
        try Data("hello, this is not audio\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: AudioFileError.self) { try AudioFileReader(path: path) }
        #expect(error == .notAudio(path: path, found: "text \"hello, this \""))
        #expect(error?.exitStatus == .dataError)
        #expect(error?.description.contains("byte 0") == true)
    }

    @Test("a truncated WAV says how much the header declares and how much is there")
    func truncated() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("cut.wav")
        try AudioFileWriter.write(testAudio(rate: 16_000, channels: 1, seconds: 1), to: path,
                                  format: AudioFormat(container: .wav, encoding: .pcm16))
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(44 + 2 * 6_000 + 1).write(to: URL(fileURLWithPath: path))
        #expect(throws: AudioFileError.truncated(path: path, byteOffset: 44 + 12_001, declaredFrames: 16_000, availableFrames: 6_000)) {
            try AudioFileReader(path: path)
        }
    }

    @Test("a wrong header: RIFF/WAVE with a broken fmt chunk")
    func wrongHeader() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("broken.wav")
        var bytes = Array("RIFF".utf8) + [36, 0, 0, 0] + Array("WAVE".utf8)
        bytes += Array("fmt ".utf8) + [4, 0, 0, 0] + [1, 0, 1, 0]
        bytes += Array("data".utf8) + [0, 0, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: AudioFileError.self) { try AudioFileReader(path: path) }
        guard case .malformedHeader(let p, let container, let offset, let detail)? = error else {
            Issue.record("expected malformedHeader, got \(String(describing: error))"); return
        }
        #expect(p == path && container == "WAV" && offset == 12 && detail.contains("expected at least 16"))
    }

    @Test("a header that lies about the data after a valid start")
    func garbageAfterMagic() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("fake.flac")
        try Data(Array("fLaC".utf8) + [UInt8](repeating: 0x41, count: 60)).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: AudioFileError.self) { try AudioFileReader(path: path) }
        guard case .malformedHeader(_, let container, _, _)? = error else {
            Issue.record("expected malformedHeader, got \(String(describing: error))"); return
        }
        #expect(container == "FLAC")
    }

    @Test("unsupported raw parameters are rejected with the accepted range",
          arguments: [(0, 1, SampleEncoding.pcm16), (16_000, 0, .pcm16), (16_000, 65, .pcm16),
                      (16_000, 1, .vorbis), (2_000_000, 1, .pcm16)])
    func rawParameters(rate: Int, channels: Int, encoding: SampleEncoding) {
        let error = #expect(throws: AudioFileError.self) {
            try RawAudioParameters(sampleRate: rate, channelCount: channels, encoding: encoding)
        }
        #expect(error?.exitStatus == .usage)
        #expect(error?.description.contains("expected") == true)
    }

    @Test("unknown raw encoding names list the accepted ones")
    func rawEncodingName() throws {
        let error = #expect(throws: AudioFileError.self) { try RawAudioParameters.encoding(named: "pcm12") }
        #expect(error?.description.contains("pcm16") == true)
        #expect(try RawAudioParameters.encoding(named: "s16le") == .pcm16)
    }
}
