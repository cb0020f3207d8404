import AudioCore
import DSP
import Foundation
import Testing
@testable import Watermark

@Suite("Watermark streaming embedder and time-scale search", .serialized)
struct StreamingEmbedTests {
    static let key = try! WatermarkKey(bytes: Array(100..<132))
    static let payload = try! Payload(hex: "0123456789abcdef0123456789abcdef")

    @Test("any block sizes give the whole-file output bit for bit, with a fixed latency ≤ 100 ms")
    func unevenBlocksEqualWholeFile() throws {
        let speech = try fixtureSpeech()
        // Stereo (channels differ) to cover the mono-mix analysis.
        let stereo = AudioBuffer(sampleRate: 16_000, channels: [speech.samples, speech.samples.map { $0 * 0.5 }.reversed()])
        let embedder = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload)
        let whole = try embedder.embed(stereo)
        let stream = try embedder.makeStream(sampleRate: 16_000, channelCount: 2)
        #expect(stream.latencySeconds <= 0.1)
        var out: [Float] = []
        var fed = 0
        let sizes = [1, 17, 1_000, 4_096, 333, 65_536]
        var i = 0
        while fed < stereo.frameCount {
            let n = min(sizes[i % sizes.count], stereo.frameCount - fed)
            stereo.samples[(fed * 2)..<((fed + n) * 2)].withUnsafeBufferPointer { stream.process($0, appendingTo: &out) }
            fed += n
            i += 1
            #expect(out.count == 2 * max(0, fed - stream.latencyFrames))
            #expect(stream.bufferedFrames <= 16_384 + stream.latencyFrames + n + 4_096, "memory stays bounded")
        }
        stream.finish(appendingTo: &out)
        #expect(out == whole.samples)
        #expect(out != stereo.samples)
        let found = try WatermarkDetector(key: Self.key).detect(AudioBuffer(sampleRate: 16_000, channelCount: 2, samples: out))
        #expect(found.map(\.payload) == [Self.payload.hex])
    }

    @Test("a tempo change of +0.6 % is found by the time-scale search, which reports the scale")
    func timeScaleSearch() throws {
        let speech = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(speech)
        // Resampling 16 kHz → 16.096 kHz and calling it 16 kHz plays 0.6 % slower (and 0.6 % lower).
        let slower = try Resampler.resample(marked, to: 16_096)
        let played = AudioBuffer(sampleRate: 16_000, channelCount: 1, samples: slower.samples)
        let found = try WatermarkDetector(key: Self.key).detect(played)
        #expect(found.map(\.payload) == [Self.payload.hex])
        if let d = found.first { #expect(abs(d.timeScale - 1.006) <= 0.003, "time scale \(d.timeScale)") }
    }

    @Test("a speed change of +4 % (resampling) is undone by a detection pass and reported")
    func speedChange() throws {
        let speech = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(speech)
        // 16 kHz → 15.385 kHz, played at 16 kHz: 4 % faster and 4 % higher.
        let faster = try Resampler.resample(marked, to: 16_000 / 1.04)
        let played = AudioBuffer(sampleRate: 16_000, channelCount: 1, samples: faster.samples)
        let found = try WatermarkDetector(key: Self.key).detect(played)
        #expect(found.map(\.payload) == [Self.payload.hex])
        if let d = found.first {
            #expect(abs(d.frequencyScale - 1.04) <= 0.006, "frequency scale \(d.frequencyScale)")
            #expect(abs(d.timeScale - 1 / 1.04) <= 0.004, "time scale \(d.timeScale)")
        }
        // Without the scale search the same audio yields nothing (and never a wrong payload).
        var plain = WatermarkDetector(key: Self.key)
        plain.passes = DetectionPass.unscaled
        #expect(try plain.detect(played).allSatisfy { $0.payload == Self.payload.hex })
    }

    @Test("the stream reports marks that fell on silence")
    func silenceIsReported() throws {
        let embedder = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload)
        let stream = try embedder.makeStream(sampleRate: 8_000, channelCount: 1)
        let silence = [Float](repeating: 0, count: 8_000 * 6)
        let out = stream.process(silence) + stream.finish()
        #expect(out == silence, "silence stays silent")
        #expect(stream.bitsEmbedded > 0 && stream.silentBits == stream.bitsEmbedded)
    }
}
