import AudioCore
import Foundation
@testable import AudioIO

/// A fresh temporary directory per test, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "voiceguard-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
}

/// A multi-tone test signal with a different tone per channel.
func testAudio(rate: Int, channels: Int, seconds: Double, amplitude: Float = 0.5) -> AudioBuffer {
    let frames = Int(Double(rate) * seconds)
    let chans = (0..<channels).map { c in
        (0..<frames).map { n in
            let t = Double(n) / Double(rate)
            let f = 220.0 * Double(c + 1)
            return amplitude * Float(0.6 * sin(2 * .pi * f * t) + 0.4 * sin(2 * .pi * 1_370 * t + Double(c)))
        }
    }
    return AudioBuffer(sampleRate: Double(rate), channels: chans)
}

/// Largest normalised cross-correlation of `b` against `a` over lags 0...maxLag (b delayed).
func bestCorrelation(_ a: [Float], _ b: [Float], maxLag: Int) -> (lag: Int, correlation: Double) {
    let n = min(a.count, b.count) - maxLag - 1
    guard n > 0 else { return (0, 0) }
    let segmentStart = maxLag / 2
    let ref = Array(a[segmentStart..<(segmentStart + n / 2)])
    let refEnergy = ref.reduce(0.0) { $0 + Double($1 * $1) }
    var best = (lag: 0, correlation: -1.0)
    for lag in -min(maxLag, segmentStart)...maxLag {
        let start = segmentStart + lag
        guard start >= 0, start + ref.count <= b.count else { continue }
        var dot = 0.0, energy = 0.0
        for i in 0..<ref.count {
            let v = Double(b[start + i])
            dot += Double(ref[i]) * v
            energy += v * v
        }
        let c = dot / max(1e-12, (refEnergy * energy).squareRoot())
        if c > best.correlation { best = (lag, c) }
    }
    return best
}
