import AudioCore
import Foundation
import Testing
@testable import AudioIO

@Suite("Audio file round trips")
struct RoundTripTests {
    static let losslessFormats: [(AudioFormat, Float)] = [
        (AudioFormat(container: .wav, encoding: .pcm16), 1.0 / 32_768),
        (AudioFormat(container: .wav, encoding: .pcm24), 1.0 / 8_388_608),
        (AudioFormat(container: .wav, encoding: .pcm32), 1e-7),
        (AudioFormat(container: .wav, encoding: .float32), 0),
        (AudioFormat(container: .rf64, encoding: .pcm24), 1.0 / 8_388_608),
        (AudioFormat(container: .flac, encoding: .pcm16), 1.0 / 32_768),
        (AudioFormat(container: .flac, encoding: .pcm24), 1.0 / 8_388_608),
        (AudioFormat(container: .aiff, encoding: .pcm16), 1.0 / 32_768),
        (AudioFormat(container: .au, encoding: .float32), 0),
    ]

    @Test("lossless formats reproduce samples within one quantisation step", arguments: losslessFormats)
    func lossless(format: AudioFormat, tolerance: Float) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("x.\(format.container.preferredExtension)")
        let audio = testAudio(rate: 44_100, channels: 2, seconds: 0.5)
        try AudioFileWriter.write(audio, to: path, format: format)
        let reader = try AudioFileReader(path: path)
        #expect(reader.info.format == format)
        #expect(reader.info.declaredFrameCount == audio.frameCount)
        let back = try reader.readAll()
        #expect(back.frameCount == audio.frameCount && back.channelCount == 2 && back.sampleRate == 44_100)
        let maxError = zip(audio.samples, back.samples).map { abs($0 - $1) }.max()!
        #expect(maxError <= tolerance * 1.0001, "\(format): max error \(maxError)")
    }

    /// Lossy codecs: the decoded signal must be the same sound — the best normalised
    /// cross-correlation with the original (allowing for encoder delay) ≥ 0.97, the level
    /// within 1 dB, the length within the codec's padding.
    @Test("lossy formats keep the signal (correlation ≥ 0.97, level within 1 dB)",
          arguments: [(AudioFormat(container: .ogg, encoding: .vorbis), 44_100),
                      (AudioFormat(container: .ogg, encoding: .opus), 48_000),
                      (AudioFormat(container: .mp3, encoding: .mp3), 44_100)])
    func lossy(format: AudioFormat, rate: Int) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("x.\(format.encoding == .opus ? "opus" : format.container.preferredExtension)")
        let audio = testAudio(rate: rate, channels: 2, seconds: 1.0)
        try AudioFileWriter.write(audio, to: path, format: format)
        let back = try AudioFileReader.read(path: path)
        #expect(back.channelCount == 2 && Int(back.sampleRate) == rate)
        #expect(abs(back.frameCount - audio.frameCount) <= 3_000, "frames \(back.frameCount) vs \(audio.frameCount)")
        for c in 0..<2 {
            let (lag, correlation) = bestCorrelation(audio.channel(c), back.channel(c), maxLag: 2_500)
            #expect(correlation >= 0.97, "\(format) channel \(c): correlation \(correlation) at lag \(lag)")
            var a = LevelMeter(), b = LevelMeter()
            a.add(audio.channel(c)); b.add(back.channel(c))
            #expect(abs(a.statistics.rmsDBFS - b.statistics.rmsDBFS) < 1.0)
        }
    }

    @Test("1–8 channels at 8–192 kHz survive WAV and FLAC",
          arguments: [1, 2, 3, 6, 8], [8_000, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000])
    func channelsAndRates(channels: Int, rate: Int) throws {
        let dir = TemporaryDirectory()
        let audio = testAudio(rate: rate, channels: channels, seconds: 0.05)
        for format in [AudioFormat(container: .wav, encoding: .pcm24), AudioFormat(container: .flac, encoding: .pcm24)] {
            let path = dir.file("c\(channels)-r\(rate).\(format.container.preferredExtension)")
            try AudioFileWriter.write(audio, to: path, format: format)
            let back = try AudioFileReader.read(path: path)
            #expect(back.channelCount == channels && Int(back.sampleRate) == rate && back.frameCount == audio.frameCount)
            #expect(zip(audio.samples, back.samples).allSatisfy { abs($0 - $1) <= 1.0 / 8_388_608 * 1.0001 })
        }
    }

    @Test("block reading delivers the same samples as a whole-file read, in blocks of the asked size")
    func blockReading() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("blocks.flac")
        let audio = testAudio(rate: 16_000, channels: 3, seconds: 1.3)
        try AudioFileWriter.write(audio, to: path, format: AudioFormat(container: .flac, encoding: .pcm16))
        let whole = try AudioFileReader.read(path: path)
        let reader = try AudioFileReader(path: path)
        var collected: [Float] = []
        var largest = 0
        let frames = try reader.forEachBlock(blockFrames: 1_000) { (block: UnsafeBufferPointer<Float>) in
            largest = max(largest, block.count / 3)
            collected.append(contentsOf: block)
        }
        #expect(frames == audio.frameCount && largest == 1_000)
        #expect(collected == whole.samples)
    }

    @Test("raw PCM: big-endian 16-bit written and read back with explicit parameters")
    func rawPCM() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("x.raw")
        let audio = testAudio(rate: 8_000, channels: 1, seconds: 0.25)
        let writer = try AudioFileWriter(path: path, format: AudioFormat(container: .raw, encoding: .pcm16),
                                         sampleRate: 8_000, channelCount: 1)
        try writer.write(audio)
        try writer.finish()
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == audio.frameCount * 2)
        let params = try RawAudioParameters(sampleRate: 8_000, channelCount: 1, encoding: .pcm16)
        let back = try AudioFileReader.read(path: path, raw: params)
        #expect(zip(audio.samples, back.samples).allSatisfy { abs($0 - $1) <= 1.0 / 32_768 })
    }
}
