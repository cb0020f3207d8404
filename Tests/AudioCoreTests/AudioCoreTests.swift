import Foundation
import Testing
@testable import AudioCore

@Suite("Audio buffers, kernels and levels")
struct AudioCoreTests {
    @Test("interleaving and de-interleaving are inverse")
    func interleave() {
        let left: [Float] = [1, 2, 3], right: [Float] = [-1, -2, -3]
        let buffer = AudioBuffer(sampleRate: 16_000, channels: [left, right])
        #expect(buffer.samples == [1, -1, 2, -2, 3, -3])
        #expect(buffer.channel(0) == left && buffer.channel(1) == right)
        #expect(buffer.frameCount == 3 && abs(buffer.duration - 3.0 / 16_000) < 1e-12)
        #expect(buffer.frames(1..<9).samples == [2, -2, 3, -3])
    }

    @Test("kernels equal naive loops for every length", arguments: [0, 1, 7, 8, 9, 63, 64, 1_000])
    func kernels(length: Int) {
        let a = (0..<length).map { Float(sin(Double($0) * 0.37)) }
        let b = (0..<length).map { Float(cos(Double($0) * 0.11)) }
        let dot = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in Kernels.dot(pa, pb) } }
        let naive = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(Double(dot) - naive) < 1e-4)
        let peak = a.withUnsafeBufferPointer { Kernels.peakMagnitude($0) }
        #expect(peak == (a.map(abs).max() ?? 0))
        let energy = a.withUnsafeBufferPointer { Kernels.sumOfSquares($0) }
        #expect(abs(Double(energy) - a.reduce(0.0) { $0 + Double($1 * $1) }) < 1e-3)
    }

    @Test("a full-scale sine reads −3.01 dBFS RMS and 0 dBFS peak")
    func sineLevels() {
        var meter = LevelMeter()
        let sine = (0..<48_000).map { Float(sin(2 * Double.pi * 1_000 * Double($0) / 48_000)) }
        meter.add(sine)
        let stats = meter.statistics
        #expect(abs(stats.rmsDBFS - (-3.0103)) < 0.01)
        #expect(abs(stats.peakDBFS) < 0.01)
        #expect(stats.sampleCount == 48_000)
    }

    @Test("silence is −∞ dBFS; samples at the rail count as clipped")
    func silenceAndClipping() {
        var meter = LevelMeter()
        meter.add([Float](repeating: 0, count: 100))
        #expect(meter.statistics.peakDBFS == -.infinity && meter.statistics.rmsDBFS == -.infinity)
        meter.add([1.0, -1.0, 0.5, 1.2, -0.99999])
        #expect(meter.statistics.clippedSamples == 4)
    }

    @Test("format names and extensions")
    func formats() {
        #expect(AudioFormat.inferred(fromPath: "a/b.opus") == AudioFormat(container: .ogg, encoding: .opus))
        #expect(AudioFormat.inferred(fromPath: "x.FLAC")?.container == .flac)
        #expect(AudioFormat.inferred(fromPath: "dir.v2/noext") == nil)
        #expect(AudioFormat.named("mp3") == AudioFormat(container: .mp3, encoding: .mp3))
        #expect(!AudioFormat(container: .flac, encoding: .float32).isSupported)
    }
}
