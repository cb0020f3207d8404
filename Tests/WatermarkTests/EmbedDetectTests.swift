import AudioCore
import AudioIO
import DSP
import Foundation
import Testing
import VoiceGuardTestSupport
@testable import Watermark

/// Real speech: the 24 speech fixture clips (16 kHz) joined, about 45 s.
func fixtureSpeech() throws -> AudioBuffer {
    let folder = repositoryRoot + "/Corpora/fixtures/speech/wide"
    var samples: [Float] = []
    for label in ["bonafide", "spoof"] {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder + "/" + label).sorted() {
            samples += try AudioFileReader.read(path: folder + "/" + label + "/" + name).samples
        }
    }
    return AudioBuffer(mono: samples, sampleRate: 16_000)
}

func snr(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0, n = 0.0
    for (x, y) in zip(a, b) { s += Double(x * x); n += Double((x - y) * (x - y)) }
    return 10 * log10(s / n)
}

@Suite("Watermark embedding and detection", .serialized)
struct EmbedDetectTests {
    static let key = try! WatermarkKey(bytes: Array(0..<32))
    static let payload = try! Payload(hex: "c0ffee00112233445566778899aabbcc")

    @Test("a 32-bit mark in 3 s of 8 kHz speech is found; the short layout fits in 3 s")
    func shortPayload() throws {
        let audio = try AudioFileReader.read(path: repositoryRoot + "/Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav")
        let layout = try WatermarkLayout(sampleRate: 8_000, payloadSize: .short)
        #expect(layout.minimumDetectableSeconds <= 3)
        let short = try Payload(hex: "deadbeef", size: .short)
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: short).embed(audio)
        let found = try WatermarkDetector(key: Self.key, payloadSize: .short).detect(marked)
        #expect(found.map(\.payload) == ["deadbeef"])
        #expect(try WatermarkDetector(key: Self.key, payloadSize: .short).detect(audio).isEmpty)
    }

    @Test("128-bit round trip on real 16 kHz speech; same length; p-value below 1e-9")
    func roundTrip() throws {
        let audio = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        #expect(marked.frameCount == audio.frameCount)
        let found = try WatermarkDetector(key: Self.key).detect(marked)
        let hit = try #require(found.first)
        #expect(found.count == 1 && hit.payload == Self.payload.hex)
        #expect(hit.pValue <= 1e-9)
        #expect(hit.startSeconds < 1 && hit.endSeconds > audio.duration - 8)
    }

    @Test("streaming search over uneven blocks finds what the whole-buffer search finds")
    func streamingSearch() throws {
        let audio = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        let detector = WatermarkDetector(key: Self.key)
        let whole = try detector.search(marked)
        let streamed = try detector.search(sampleRate: 16_000, channelCount: 1) { feed in
            marked.samples.withUnsafeBufferPointer { p in
                var offset = 0, size = 1
                while offset < p.count {
                    let end = min(p.count, offset + size)
                    feed(UnsafeBufferPointer(rebasing: p[offset..<end]))
                    offset = end
                    size = size * 7 % 20_011 + 1
                }
            }
        }
        #expect(streamed.detections == whole.detections)
        #expect(streamed.alignmentsSearched == whole.alignmentsSearched)
        #expect(whole.detections.map(\.payload) == [Self.payload.hex])
    }

    @Test("wrong keys and unmarked audio never report a payload")
    func noFalsePositives() throws {
        let audio = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        for seed in 0..<3 {
            let other = try WatermarkKey(bytes: (0..<32).map { UInt8(($0 * 7 + seed * 13 + 1) & 0xFF) })
            #expect(try WatermarkDetector(key: other).detect(marked).isEmpty)
        }
        #expect(try WatermarkDetector(key: Self.key).detect(audio).isEmpty)
    }

    @Test("survives gain, noise at 30 dB SNR, cropping, splicing and resampling to 8 kHz")
    func inProcessAttacks() throws {
        let audio = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        let detector = WatermarkDetector(key: Self.key)
        var rng = SplitMix64(seed: 3)
        let level = (marked.samples.reduce(0.0) { $0 + Double($1 * $1) } / Double(marked.samples.count)).squareRoot()
        let noisy = marked.samples.map { $0 + Float(level * 0.0316) * Float.random(in: -1.732...1.732, using: &rng) }
        let cases: [(String, AudioBuffer)] = [
            ("gain −10 dB", AudioBuffer(mono: marked.samples.map { $0 * 0.316 }, sampleRate: 16_000)),
            ("noise 30 dB", AudioBuffer(mono: noisy, sampleRate: 16_000)),
            ("crop 1.37 s", marked.frames(21_920..<marked.frameCount)),
            ("splice", AudioBuffer(mono: audio.samples.prefix(40_000).map { $0 * 0.5 } + marked.samples.dropFirst(5_000),
                                   sampleRate: 16_000)),
            ("resample 8 kHz", try Resampler.resample(marked, to: 8_000)),
        ]
        for (name, attacked) in cases {
            let found = try detector.detect(attacked)
            #expect(found.map(\.payload) == [Self.payload.hex], "\(name): \(found)")
        }
    }

    /// The target for speech: SNR ≥ 33 dB at the default strength.
    @Test("quality at the default strength: SNR of the marked speech")
    func quality() throws {
        let audio = try fixtureSpeech()
        let marked = try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        let measured = snr(audio.samples, marked.samples)
        #expect(measured >= 33, "SNR \(measured) dB")
    }

    @Test("too-short audio says how much is needed")
    func tooShort() throws {
        let audio = AudioBuffer(mono: [Float](repeating: 0.1, count: 16_000), sampleRate: 16_000)
        let error = #expect(throws: WatermarkError.self) {
            try SpreadSpectrumEmbedder(key: Self.key, payload: Self.payload).embed(audio)
        }
        #expect(error?.description.contains("needs at least") == true)
    }
}
