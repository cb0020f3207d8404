import AudioCore
import Foundation
import Testing
@testable import AudioIO

@Suite("Atomic, non-destructive output")
struct OutputSafetyTests {
    @Test("an unfinished writer leaves neither the output nor a temporary file")
    func abortedWriteLeavesNothing() throws {
        let dir = TemporaryDirectory()
        do {
            let writer = try AudioFileWriter(path: dir.file("out.wav"), format: AudioFormat(container: .wav, encoding: .pcm16),
                                             sampleRate: 16_000, channelCount: 1)
            try writer.write(testAudio(rate: 16_000, channels: 1, seconds: 0.1))
            // Released without finish(): an error path.
        }
        #expect(dir.contents.isEmpty, "left behind: \(dir.contents)")
    }

    @Test("the output appears only when finish() returns")
    func outputAppearsAtFinish() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("out.flac")
        let writer = try AudioFileWriter(path: path, format: AudioFormat(container: .flac, encoding: .pcm16),
                                         sampleRate: 16_000, channelCount: 1)
        try writer.write(testAudio(rate: 16_000, channels: 1, seconds: 0.1))
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.finish()
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(dir.contents == ["out.flac"])
    }

    @Test("an existing output is kept unless overwriting is asked for")
    func noClobber() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("out.wav")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let audio = testAudio(rate: 8_000, channels: 1, seconds: 0.1)
        let format = AudioFormat(container: .wav, encoding: .pcm16)
        #expect(throws: AudioFileError.outputExists(path: path)) { try AudioFileWriter.write(audio, to: path, format: format) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        try AudioFileWriter.write(audio, to: path, format: format, options: .init(overwrite: true))
        #expect(try AudioFileReader.read(path: path).frameCount == audio.frameCount)
    }

    @Test("an input is never overwritten, even through a link and with overwrite on")
    func inputProtected() throws {
        let dir = TemporaryDirectory()
        let input = dir.file("in.wav")
        let audio = testAudio(rate: 8_000, channels: 1, seconds: 0.1)
        try AudioFileWriter.write(audio, to: input, format: AudioFormat(container: .wav, encoding: .pcm16))
        try FileManager.default.createSymbolicLink(atPath: dir.file("alias.wav"), withDestinationPath: input)
        for target in [input, dir.file("alias.wav")] {
            #expect(throws: AudioFileError.wouldOverwriteInput(path: target)) {
                _ = try AudioFileWriter(path: target, format: AudioFormat(container: .wav, encoding: .pcm16), sampleRate: 8_000,
                                        channelCount: 1, options: .init(overwrite: true, protectedInputs: [input]))
            }
        }
    }

    @Test("unwritable combinations are refused before anything is created")
    func unsupportedOutputs() throws {
        let dir = TemporaryDirectory()
        #expect(throws: AudioFileError.self) {
            _ = try AudioFileWriter(path: dir.file("x.opus"), format: AudioFormat(container: .ogg, encoding: .opus),
                                    sampleRate: 44_100, channelCount: 2)
        }
        #expect(throws: AudioFileError.self) {
            _ = try AudioFileWriter(path: dir.file("x.flac"), format: AudioFormat(container: .flac, encoding: .float32),
                                    sampleRate: 44_100, channelCount: 2)
        }
        #expect(throws: AudioFileError.self) {
            _ = try AudioFileWriter(path: dir.file("x.mp3"), format: AudioFormat(container: .mp3, encoding: .mp3),
                                    sampleRate: 44_100, channelCount: 6)
        }
        #expect(throws: AudioFileError.cannotCreate(path: dir.file("missing/x.wav"), reason: "System error : No such file or directory.")) {
            _ = try AudioFileWriter(path: dir.file("missing/x.wav"), format: AudioFormat(container: .wav, encoding: .pcm16),
                                    sampleRate: 8_000, channelCount: 1)
        }
        #expect(dir.contents.isEmpty)
    }
}
