import AudioCore
import Foundation
import RealModule
import Testing
@testable import DSP

/// The committed reference made by Fixtures/make_spectral_reference.py (numpy/scipy, float64, time domain).
struct SpectralReference: Decodable {
    var cqcc: CepstraReference.Block
    var mgd: CepstraReference.Block

    static func load() throws -> SpectralReference {
        let url = try #require(Bundle.module.url(forResource: "spectral_reference", withExtension: "json",
                                                 subdirectory: "Fixtures"))
        return try JSONDecoder().decode(SpectralReference.self, from: Data(contentsOf: url))
    }
}

@Suite("Constant-Q and group-delay features")
struct SpectralFeatureTests {
    @Test("CQCC equals the time-domain reference definition")
    func cqccMatchesReference() throws {
        let reference = try SpectralReference.load()
        // Exact kernels (no sparsity): the frequency-domain evaluation equals the time-domain definition;
        // the default Brown–Puckette cut (0.54 % of each kernel's peak) stays within 2 % of the scale.
        for (sparsity, tolerance) in [(0.0, Float(3e-3)), (ConstantQConfiguration.defaultSparsity, Float(2e-2))] {
            var configuration = ConstantQCepstralConfiguration.speech(sampleRate: 16_000)
            configuration.transform.sparsity = sparsity
            let features = try ConstantQCepstralExtractor(configuration).extract(referenceSpeech())
            #expect(features.dimension == 57)
            let statics = FeatureMatrix(frameCount: features.frameCount, dimension: 19,
                                        values: (0..<features.frameCount).flatMap { Array(features[$0].prefix(19)) })
            compare(statics, reference.cqcc, staticDimension: 19, tolerance: tolerance)
        }
    }

    @Test("modified group-delay cepstra equal the reference definition")
    func mgdMatchesReference() throws {
        let reference = try SpectralReference.load()
        let extractor = try ModifiedGroupDelayExtractor(.speech(sampleRate: 16_000))
        compare(try extractor.extract(referenceSpeech()), reference.mgd, staticDimension: 20)
    }

    @Test("a sinusoid at a bin's centre peaks in that bin with magnitude ½", arguments: [0, 17, 60, 119])
    func constantQTone(bin: Int) throws {
        let transform = try ConstantQTransform(ConstantQConfiguration(sampleRate: 8_000, minimumHz: 100, maximumHz: 3_800,
                                                                      binsPerOctave: 24, hop: 80))
        #expect(transform.binCount == 126)
        let f = transform.configuration.centreHz(bin)
        let signal = (0..<16_000).map { Float(Double.cos(2 * Double.pi * f * Double($0) / 8_000)) }
        let power = transform.power(signal)
        let frame = power.frameCount / 2
        let row = Array(power[frame])
        #expect(row.indices.max { row[$0] < row[$1] } == bin)
        #expect(abs(row[bin].squareRoot() - 0.5) < 0.01, "magnitude \(row[bin].squareRoot())")
        // Two bins away the response is well down (Hann main lobe spans ±2 bins at Q).
        if bin + 3 < row.count { #expect(row[bin + 3] < 0.05 * row[bin]) }
    }

    @Test("group-delay cepstra do not depend on level")
    func groupDelayLevelInvariant() throws {
        let speech = try referenceSpeech()
        let extractor = try ModifiedGroupDelayExtractor(.speech(sampleRate: 16_000))
        let a = try extractor.extract(speech), b = try extractor.extract(speech.map { $0 * 0.01 })
        let worst = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
        let scale = a.values.map(abs).max() ?? 0
        #expect(worst < 1e-4 * scale, "worst \(worst) at scale \(scale)")
    }

    @Test("bad constant-Q and group-delay parameters are rejected")
    func invalidConfigurations() {
        #expect(throws: DSPError.self) {
            try ConstantQTransform(ConstantQConfiguration(sampleRate: 8_000, minimumHz: 100, maximumHz: 4_000, binsPerOctave: 24, hop: 80))
        }
        #expect(throws: DSPError.self) {
            try ConstantQTransform(ConstantQConfiguration(sampleRate: 8_000, minimumHz: 100, maximumHz: 3_000, binsPerOctave: 0, hop: 80))
        }
        var groupDelay = ModifiedGroupDelayConfiguration.speech(sampleRate: 8_000)
        groupDelay.gamma = 2
        #expect(throws: DSPError.self) { try ModifiedGroupDelayExtractor(groupDelay) }
        #expect(throws: DSPError.self) { try ConstantQCepstralExtractor(.speech(sampleRate: 8_000)).extract([]) }
    }
}
