import Testing
@testable import DSP

@Suite("STFT and windows")
struct STFTTests {
    @Test("ISTFT(STFT(x)) reconstructs x with error below 1e-5",
          arguments: [(WindowKind.hann, 512, 256), (.hann, 512, 128), (.sqrtHann, 1024, 512),
                      (.hamming, 400, 200), (.blackman, 512, 128), (.rectangular, 256, 256)])
    func perfectReconstruction(window: WindowKind, frame: Int, hop: Int) throws {
        let stft = try STFT(STFTConfiguration(frameLength: frame, hop: hop, window: window))
        let x = testSignal(8_000 + 37, seed: 11).map { $0 * 0.9 }
        let y = stft.inverse(stft.forward(x), length: x.count)
        let maxError = zip(x, y).map { abs($0 - $1) }.max()!
        #expect(maxError < 1e-5, "\(window) \(frame)/\(hop): max error \(maxError)")
    }

    @Test("frame counts follow each layout")
    func frameCounts() {
        // MATLAB buffer(x, 320, 160, 'nodelay'): ceil((N − 160) / 160) frames, at least 1.
        #expect(FrameLayout.startAligned.frameCount(length: 16_000, frameLength: 320, hop: 160) == 99)
        #expect(FrameLayout.startAligned.frameCount(length: 321, frameLength: 320, hop: 160) == 2)
        #expect(FrameLayout.startAligned.frameCount(length: 100, frameLength: 320, hop: 160) == 1)
        #expect(FrameLayout.startAligned.frameCount(length: 0, frameLength: 320, hop: 160) == 0)
        #expect(FrameLayout.padded.frameCount(length: 1000, frameLength: 400, hop: 100) == 13)
    }

    @Test("window shapes")
    func windows() {
        let hamming = WindowKind.hamming.values(length: 5, symmetric: true)
        #expect(abs(hamming[0] - 0.08) < 1e-6 && abs(hamming[2] - 1) < 1e-6 && abs(hamming[4] - 0.08) < 1e-6)
        // Periodic Hann at 50 % overlap sums to a constant (COLA).
        let hann = WindowKind.hann.values(length: 8)
        for n in 0..<4 { #expect(abs(hann[n] + hann[n + 4] - 1) < 1e-6) }
        // sqrt-Hann squared is Hann.
        let root = WindowKind.sqrtHann.values(length: 16)
        let plain = WindowKind.hann.values(length: 16)
        for n in 0..<16 { #expect(abs(root[n] * root[n] - plain[n]) < 1e-6) }
    }

    @Test("invalid configurations are rejected with the parameter named")
    func invalidConfiguration() {
        #expect(throws: DSPError.self) { try STFT(STFTConfiguration(frameLength: 256, hop: 300)) }
        #expect(throws: DSPError.self) { try STFT(STFTConfiguration(frameLength: 256, hop: 64, fftSize: 128)) }
    }
}
