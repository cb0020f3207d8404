import AudioCore
import Foundation
import Testing
@testable import DSP

/// The committed reference made by Fixtures/make_cepstra_reference.py (numpy/scipy, float64).
struct CepstraReference: Decodable {
    struct Block: Decodable {
        var frames: Int
        var dimension: Int
        var values: [Float]
    }
    var lfcc: Block
    var mfcc: Block

    static func load() throws -> CepstraReference {
        let url = try #require(Bundle.module.url(forResource: "cepstra_reference", withExtension: "json",
                                                 subdirectory: "Fixtures"))
        return try JSONDecoder().decode(CepstraReference.self, from: Data(contentsOf: url))
    }
}

/// The 1 s, 16 kHz PCM16 speech excerpt both implementations read.
func referenceSpeech() throws -> [Float] {
    let url = try #require(Bundle.module.url(forResource: "speech-16k", withExtension: "wav", subdirectory: "Fixtures"))
    let bytes = try [UInt8](Data(contentsOf: url))
    // Canonical 44-byte PCM16 header written by sox; samples are exact in float (int / 32768).
    #expect(Array(bytes[36..<40]) == Array("data".utf8))
    return stride(from: 44, to: bytes.count - 1, by: 2).map { i in
        Float(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)) / 32768
    }
}

func compare(_ got: FeatureMatrix, _ want: CepstraReference.Block, staticDimension: Int, tolerance: Float = 2e-3) {
    #expect(got.frameCount == want.frames)
    #expect(got.dimension == want.dimension)
    guard got.values.count == want.values.count else { return }
    // Float32 pipeline vs float64 reference: compare each block relative to its own scale.
    for block in 0..<(want.dimension / staticDimension) {
        var maxError: Float = 0, scale: Float = 0
        for f in 0..<want.frames {
            for d in (block * staticDimension)..<((block + 1) * staticDimension) {
                let i = f * want.dimension + d
                maxError = max(maxError, abs(got.values[i] - want.values[i]))
                scale = max(scale, abs(want.values[i]))
            }
        }
        #expect(maxError <= tolerance * scale, "block \(block): max error \(maxError) at scale \(scale)")
    }
}

@Suite("Cepstral features against the numpy/scipy reference")
struct CepstraTests {
    @Test("LFCC equals the ASVspoof 2019 baseline definition")
    func lfccMatchesReference() throws {
        let reference = try CepstraReference.load()
        let extractor = try CepstralExtractor(.asvspoof2019LFCC(sampleRate: 16_000))
        let features = try extractor.extract(referenceSpeech())
        #expect(features.dimension == 60)
        compare(features, reference.lfcc, staticDimension: 20)
    }

    @Test("MFCC equals the reference definition")
    func mfccMatchesReference() throws {
        let reference = try CepstraReference.load()
        let extractor = try CepstralExtractor(.mfcc(sampleRate: 16_000))
        let features = try extractor.extract(referenceSpeech())
        #expect(features.dimension == 39)
        compare(features, reference.mfcc, staticDimension: 13)
    }

    @Test("an empty signal is rejected")
    func emptySignal() throws {
        let extractor = try CepstralExtractor(.asvspoof2019LFCC())
        #expect(throws: DSPError.inputTooShort(samples: 0, minimum: 1)) { try extractor.extract([]) }
    }

    @Test("linear filterbank: 20 triangles over 0..8 kHz peak at their centres")
    func linearFilterbank() throws {
        let bank = try TriangularFilterbank(scale: .linear, filterCount: 20, fftSize: 512, sampleRate: 16_000)
        let dense = bank.denseWeights
        #expect(dense.count == 20)
        // Filter 0 peaks at 8000/21 Hz; bins are 31.25 Hz apart.
        let peakBin = dense[0].indices.max { dense[0][$0] < dense[0][$1] }!
        #expect(abs(Double(peakBin) * 31.25 - 8000.0 / 21) < 31.25)
        #expect(dense.allSatisfy { $0.max()! <= 1 && $0.min()! >= 0 })
    }

    @Test("mel scale round trip and the 1000 Hz anchor")
    func melScale() {
        #expect(abs(FrequencyScale.mel.fromHertz(1000) - 999.99) < 0.1)
        #expect(abs(FrequencyScale.mel.toHertz(FrequencyScale.mel.fromHertz(3456)) - 3456) < 1e-6)
    }

    @Test("deltas: ±1 unnormalised is x[t+1] − x[t−1] with edge repetition")
    func deltaRegression() {
        let x = FeatureMatrix(frameCount: 4, dimension: 1, values: [1, 2, 4, 8])
        let d = DeltaConfiguration(halfWidth: 1, normalized: false).apply(to: x)
        #expect(d.values == [1, 3, 6, 4])
    }
}
