import Foundation
import Testing
import VoiceGuardTestSupport
@testable import DSP

/// Naive O(n²) DFT in double precision, the independent reference for the FFT.
func naiveDFT(_ x: [Float]) -> [Double] {
    let n = x.count
    var out = [Double](repeating: 0, count: n + 2)
    for k in 0...(n / 2) {
        var re = 0.0, im = 0.0
        for t in 0..<n {
            let angle = -2 * Double.pi * Double(k * t % n) / Double(n)
            re += Double(x[t]) * cos(angle)
            im += Double(x[t]) * sin(angle)
        }
        out[2 * k] = re
        out[2 * k + 1] = im
    }
    return out
}

func testSignal(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
}

@Suite("Real FFT")
struct FFTTests {
    @Test("forward transform equals a naive DFT", arguments: [2, 8, 6, 10, 64, 480, 512, 1024])
    func matchesNaiveDFT(size: Int) {
        let x = testSignal(size, seed: UInt64(size))
        let fast = RealFFT(size: size).forward(x)
        let slow = naiveDFT(x)
        let scale = Double(size).squareRoot()
        let maxError = zip(fast, slow).map { abs(Double($0) - $1) }.max()!
        #expect(maxError / scale < 1e-5, "max error \(maxError) for size \(size)")
    }

    @Test("inverse(forward(x)) reproduces x", arguments: [16, 512, 4096])
    func roundTrip(size: Int) {
        let fft = RealFFT(size: size)
        let x = testSignal(size, seed: 7)
        let y = fft.inverse(fft.forward(x))
        let maxError = zip(x, y).map { abs($0 - $1) }.max()!
        #expect(maxError < 1e-5)
    }

    @Test("unaligned buffers give the same spectrum as aligned ones")
    func unalignedBuffers() {
        let size = 1024
        let fft = RealFFT(size: size)
        let x = testSignal(size, seed: 3)
        let aligned = fft.forward(x)
        // Shift input and output by one float so FFTW's SIMD alignment no longer holds.
        var input = [Float](repeating: 0, count: size + 1)
        var output = [Float](repeating: 0, count: size + 3)
        for i in 0..<size { input[i + 1] = x[i] }
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in fft.forward(i.baseAddress! + 1, o.baseAddress! + 1) }
        }
        // Aligned (SIMD) and unaligned plans may round differently; they must agree to float precision.
        let maxError = zip(output[1...(size + 2)], aligned).map { abs($0 - $1) }.max()!
        #expect(maxError < 1e-4, "max difference \(maxError)")
        #expect(output[0] == 0 && output[size + 2] == 0, "wrote outside the given buffer")
    }

    @Test("64 concurrent tasks plan and run FFTs safely")
    func concurrentPlanningAndExecution() async {
        let sizes = [64, 96, 128, 250, 256, 512, 768, 1000, 1024, 2048, 4096, 6000]
        let expected: [Int: [Float]] = Dictionary(uniqueKeysWithValues: sizes.map { n in
            (n, naiveDFT(testSignal(n, seed: 99)).map(Float.init).prefix(8).map { $0 })
        })
        let results = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for task in 0..<64 {
                group.addTask {
                    var ok = true
                    for round in 0..<8 {
                        let n = sizes[(task + round) % sizes.count]
                        let spectrum = RealFFT(size: n).forward(testSignal(n, seed: 99))
                        let want = expected[n]!
                        for i in 0..<want.count where abs(spectrum[i] - want[i]) > 1e-2 * max(1, abs(want[i])) {
                            ok = false
                        }
                    }
                    return ok
                }
            }
            var all: [Bool] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 })
    }
}
