import AudioCore
import Foundation
import Testing
@testable import DSP

func tone(_ hz: Double, rate: Double, seconds: Double, amplitude: Float = 0.5) -> [Float] {
    (0..<Int(rate * seconds)).map { amplitude * Float(sin(2 * .pi * hz * Double($0) / rate)) }
}

func rms(_ x: ArraySlice<Float>) -> Double {
    (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))).squareRoot()
}

@Suite("Resampling and channel mixing")
struct ResamplerTests {
    @Test("48k → 16k: a 7 kHz tone keeps its level within 0.1 dB")
    func passbandLevel() throws {
        let input = AudioBuffer(mono: tone(7_000, rate: 48_000, seconds: 1), sampleRate: 48_000)
        let output = try Resampler.resample(input, to: 16_000)
        let steady = output.samples[2_000..<14_000]
        let gainDB = 20 * log10(rms(steady) / rms(input.samples[6_000..<42_000]))
        #expect(abs(gainDB) < 0.1, "gain \(gainDB) dB")
    }

    @Test("48k → 16k: an 11 kHz tone is rejected by at least 100 dB")
    func stopbandRejection() throws {
        let input = AudioBuffer(mono: tone(11_000, rate: 48_000, seconds: 1), sampleRate: 48_000)
        let output = try Resampler.resample(input, to: 16_000)
        let rejectionDB = 20 * log10(rms(output.samples[2_000..<14_000]) / rms(input.samples[6_000..<42_000]))
        #expect(rejectionDB <= -100, "rejection \(rejectionDB) dB")
    }

    @Test("very-high quality also meets both figures")
    func veryHighQuality() throws {
        let pass = try Resampler.resample(AudioBuffer(mono: tone(7_000, rate: 48_000, seconds: 1), sampleRate: 48_000),
                                          to: 16_000, quality: .veryHigh)
        let stop = try Resampler.resample(AudioBuffer(mono: tone(11_000, rate: 48_000, seconds: 1), sampleRate: 48_000),
                                          to: 16_000, quality: .veryHigh)
        #expect(abs(20 * log10(rms(pass.samples[2_000..<14_000]) / (0.5 / 2.0.squareRoot()))) < 0.1)
        #expect(20 * log10(rms(stop.samples[2_000..<14_000]) / (0.5 / 2.0.squareRoot())) <= -100)
    }

    @Test("streaming in uneven blocks equals whole-buffer resampling; length follows the ratio")
    func streamingMatchesWhole() throws {
        let x = testSignal(44_100, seed: 5).map { $0 * 0.5 }
        let stereo = AudioBuffer(sampleRate: 44_100, channels: [x, x.reversed()])
        let whole = try Resampler.resample(stereo, to: 16_000)
        let r = try Resampler(inputRate: 44_100, outputRate: 16_000, channelCount: 2)
        var streamed: [Float] = []
        var offset = 0
        var step = 1
        while offset < stereo.frameCount {
            let end = min(stereo.frameCount, offset + step)
            try stereo.samples[(offset * 2)..<(end * 2)].withUnsafeBufferPointer { try r.process($0, appendingTo: &streamed) }
            offset = end
            step = step * 3 % 4_099 + 1
        }
        try r.flush(appendingTo: &streamed)
        #expect(whole.frameCount == 16_000)
        #expect(streamed.count == whole.samples.count)
        let maxError = zip(streamed, whole.samples).map { abs($0 - $1) }.max() ?? 1
        #expect(maxError < 1e-6)
    }

    @Test("down-mix averages, up-mix copies")
    func channelMixing() {
        let stereo = AudioBuffer(sampleRate: 8_000, channels: [[1, 0.5, -1], [0, 0.5, 1]])
        #expect(ChannelMixer.mono(stereo) == [0.5, 0.5, 0])
        let mono = AudioBuffer(mono: [0.25, -0.5], sampleRate: 8_000)
        #expect(ChannelMixer.remix(mono, to: 3).samples == [0.25, 0.25, 0.25, -0.5, -0.5, -0.5])
        let quad = ChannelMixer.remix(stereo, to: 4)
        #expect(quad.channel(2) == stereo.channel(0) && quad.channel(3) == stereo.channel(1))
    }
}
