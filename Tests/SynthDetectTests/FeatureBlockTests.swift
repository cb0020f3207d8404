import AudioCore
import Foundation
import RealModule
import Testing
import VoiceGuardTestSupport
@testable import SynthDetect

/// A voiced signal at 8 kHz: damped 700 Hz resonances excited at `periods` (samples, fractional allowed)
/// with `amplitudes`, so jitter and shimmer are known exactly.
func pulseTrain(periods: (Int) -> Double, amplitudes: (Int) -> Double, seconds: Double = 1.5) -> [Float] {
    let count = Int(seconds * 8_000)
    var x = [Float](repeating: 0, count: count)
    var t = 40.0, k = 0
    while t < Double(count) {
        let a = amplitudes(k)
        for n in Int(t.rounded(.up))..<min(count, Int(t) + 400) {
            let d = Double(n) - t
            x[n] += Float(a * Double.exp(-d / 24) * Double.sin(2 * Double.pi * 700 * d / 8_000))
        }
        t += periods(k)
        k += 1
    }
    return x
}

@Suite("Feature blocks: configurations, voice quality, invariance")
struct FeatureBlockTests {
    @Test("feature-set names round-trip; lists parse; unknown and repeated blocks are rejected")
    func configurations() throws {
        let blocks: [SpoofFeatureBlock] = [.groupDelay, .longTermSpectrum, .voiceQuality]
        let configuration = SpoofFeatureExtractor.Configuration(blocks: blocks)
        #expect(configuration.name == "mgd+ltas+voice-quality/2" && configuration.dimension == 40 + 32 + 15)
        #expect(configuration.blocks == blocks && configuration.isSupported)
        var renamed = configuration
        renamed.name = "mgd+wavelets/2"
        #expect(!renamed.isSupported)
        renamed = configuration
        renamed.dimension += 1
        #expect(!renamed.isSupported)
        #expect(try SpoofFeatureBlock.parseList("all") == SpoofFeatureBlock.allCases)
        #expect(try SpoofFeatureBlock.parseList("standard") == SpoofFeatureExtractor.Configuration.standard.blocks)
        #expect(try SpoofFeatureBlock.parseList(" mgd , ltas ") == [.groupDelay, .longTermSpectrum])
        #expect(try SpoofFeatureBlock.parseList("standard,mgd") == (SpoofFeatureExtractor.Configuration.standard.blocks ?? []) + [.groupDelay])
        #expect(throws: SynthDetectError.self) { try SpoofFeatureBlock.parseList("standard,lfcc-dynamics") }
        #expect(throws: SynthDetectError.self) { try SpoofFeatureBlock.parseList("mgd,mgd") }
        #expect(throws: SynthDetectError.self) { try SpoofFeatureBlock.parseList(",") }
        do { _ = try SpoofFeatureBlock.parseList("lfcc-dynamics,wavelets"); Issue.record("accepted an unknown block") } catch {
            #expect(error.description.contains("unknown feature block \"wavelets\"") && error.exitStatus == .usage)
        }
    }

    @Test("every block: its declared length, finite, level-invariant, blind to added silence", arguments: SpoofFeatureBlock.allCases)
    func blockInvariance(block: SpoofFeatureBlock) throws {
        let extractor = SpoofFeatureExtractor(.init(blocks: [block]))
        let audio = try fixture(try fixtureNames("bonafide")[1])
        let v = try extractor.features(of: audio)
        #expect(v.count == block.dimension && v.allSatisfy(\.isFinite))
        #expect(v.contains { $0 != 0 }, "block \(block.rawValue) is all zeros")
        let quieter = AudioBuffer(mono: audio.samples.map { $0 * 0.1 }, sampleRate: audio.sampleRate)
        let padded = AudioBuffer(mono: [Float](repeating: 0, count: 16_000) + audio.samples + [Float](repeating: 0, count: 8_000),
                                 sampleRate: audio.sampleRate)
        for other in [try extractor.features(of: quieter), try extractor.features(of: padded)] {
            let changes = zip(v, other).map { abs($0 - $1) / (abs($0) + 1) }
            let change = changes.max() ?? 0
            #expect(change < 0.05, "block \(block.rawValue): largest relative change \(change) at \(changes.firstIndex(of: change) ?? 0)")
        }
    }

    @Test("voice quality: a steady pulse train has near-zero jitter and shimmer; known perturbations are measured")
    func voiceQuality() throws {
        let extractor = SpoofFeatureExtractor(.init(blocks: [.voiceQuality]))
        func measure(_ x: [Float]) throws -> [Float] { try extractor.features(signal: x) }
        let steady = try measure(pulseTrain(periods: { _ in 64 }, amplitudes: { _ in 0.3 }))
        #expect(steady[0] < 0.005 && steady[5] < 0.01, "jitter \(steady[0]), shimmer \(steady[5])")
        #expect(steady[11] > 0.98 && steady[14] > 0.9, "cycle correlation \(steady[11]), tracked share \(steady[14])")
        // Periods alternating 64·(1 ± 1 %): |P₂ − P₁| / mean = 2 % (larger alternations make the signal periodic
        // at two cycles, and the pitch tracker, like any, then reports the lower octave).
        let jittered = try measure(pulseTrain(periods: { $0 % 2 == 0 ? 64.64 : 63.36 }, amplitudes: { _ in 0.3 }))
        #expect(abs(jittered[0] - 0.02) < 0.005 && abs(jittered[1] - 0.02) < 0.005, "jitter \(jittered)")
        #expect(jittered[5] < 0.05, "shimmer \(jittered[5]) on constant amplitudes")
        // Amplitudes alternating 0.3·(1 ± 10 %): |A₂ − A₁| / mean = 20 %, 1.74 dB.
        let shimmered = try measure(pulseTrain(periods: { _ in 64 }, amplitudes: { $0 % 2 == 0 ? 0.33 : 0.27 }))
        #expect(abs(shimmered[5] - 0.2) < 0.03 && abs(shimmered[8] - 1.74) < 0.3, "shimmer \(shimmered[5]), \(shimmered[8]) dB")
        #expect(shimmered[0] < 0.005, "jitter \(shimmered[0]) on constant periods")
    }
}
