import AudioCore
import AudioIO
import Foundation
import Testing
import VoiceGuardTestSupport
@testable import Redaction

/// The privacy filter's fail-open paths found by hostile inputs (issue #15): each test checks that the background is
/// gone, or that nothing is written.
@Suite("Redaction: hostile inputs fail closed (non-finite and huge samples, anti-phase voices)")
struct FailClosedTests {
    static func energy(_ x: ArraySlice<Float>) -> Double { x.reduce(0) { $0 + Double($1) * Double($1) } }

    @Test("a NaN or infinite sample stops whole-file and streaming runs with its position; nothing is emitted after it",
          arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(value: Float) throws {
        let (filter, mono, enrollment) = try StreamingTests.fixture()
        var samples = mono.samples
        samples[48_000] = value
        let audio = AudioBuffer(sampleRate: mono.sampleRate, channelCount: 1, samples: samples)
        for mode in [PrimaryTalkerMode.enrolled(enrollment), .dominant] {
            #expect {
                _ = try filter.run(audio, mode: mode)
            } throws: { error in
                guard case let .nonFiniteSample(frame, channel, seconds, _) = error as? RedactionError else { return false }
                return frame == 48_000 && channel == 0 && abs(seconds - 3) < 1e-9
            }
            let stream = try StreamingPrivacyFilter(filter: filter, mode: mode, redactor: Redactor(), sampleRate: audio.sampleRate, channelCount: 1)
            var out: [Float] = []
            try stream.process(Array(samples[0..<40_000]), appendingTo: &out)
            let before = out.count
            #expect(throws: RedactionError.self) { try stream.process(Array(samples[40_000...]), appendingTo: &out) }
            #expect(out.count == before, "samples were emitted from the block holding the NaN")
        }
        // Enrollment clips too.
        #expect(throws: RedactionError.self) { _ = try filter.enroll([("bad", audio)]) }
    }

    @Test("one huge finite sample (3e38) does not blind the analysis: the same frames are removed as without it")
    func hugeSample() throws {
        let (filter, mono, enrollment) = try StreamingTests.fixture()
        var samples = mono.samples
        samples[48_000] = 3e38
        let spiked = AudioBuffer(sampleRate: mono.sampleRate, channelCount: 1, samples: samples)
        for mode in [PrimaryTalkerMode.enrolled(enrollment), .dominant] {
            let clean = try filter.plan(mono, mode: mode).redacted
            let plan = try filter.plan(spiked, mode: mode).redacted
            let removedClean = clean.filter { $0 }.count
            let both = zip(clean, plan).filter { $0.0 && $0.1 }.count
            #expect(removedClean > 100, "the fixture removes background: \(removedClean) frames")
            #expect(Double(both) >= 0.95 * Double(removedClean), "\(mode): \(both) of \(removedClean) frames still removed")
        }
    }

    @Test("--overlap keep never keeps a background talker away from the primary talker's speech")
    func overlapKeepOnlyKeepsOverlap() throws {
        var (filter, mono, enrollment) = try StreamingTests.fixture()
        filter.overlap = .keep
        let other = try AudioFileReader.read(path: "\(mixtureFixtures)/mix-test-0175.enroll.flac")
        let gap = [Float](repeating: 0, count: 16_000)
        let audio = AudioBuffer(mono: mono.samples + gap + other.samples.map { 0.5 * $0 }, sampleRate: mono.sampleRate)
        let start = mono.frameCount + gap.count
        for mode in [PrimaryTalkerMode.enrolled(enrollment), .dominant] {
            let plan = try filter.plan(audio, mode: mode)
            let out = Redactor().apply(audio, removed: plan.redacted)
            let kept = Self.energy(out.samples[start...]) / Self.energy(audio.samples[start...])
            #expect(kept < 0.01, "\(mode): \(kept * 100) % of a lone background talker kept under --overlap keep")
        }
        // An enrolled talker who is absent: all speech is uncertain or another talker's, none of it next to the primary
        // talker's — so none is kept (the old policy kept every uncertain frame).
        let stranger = try filter.enroll([("stranger", other)])
        let plan = try filter.plan(mono, mode: .enrolled(stranger))
        let labels = try frameLabels(StreamingTests.id)
        let speech = labels.indices.filter { labels[$0] != "N" && $0 < plan.redacted.count }
        let keptSpeech = Double(speech.filter { !plan.redacted[$0] }.count) / Double(speech.count)
        #expect(keptSpeech <= 0.05, "absent enrolled talker under --overlap keep: \(keptSpeech * 100) % of the speech kept")
    }

    @Test("a voice in anti-phase between the channels (cancels in the mix) is removed from both channels")
    func antiPhaseVoice() throws {
        let (filter, mono, enrollment) = try StreamingTests.fixture()
        // A different talker (the other fixture's primary) after the recording, + on the left, − on the right.
        let other = try AudioFileReader.read(path: "\(mixtureFixtures)/mix-test-0175.enroll.flac")
        #expect(other.sampleRate == mono.sampleRate && other.channelCount == 1)
        let n = mono.frameCount, m = other.frameCount
        var interleaved = [Float](repeating: 0, count: 2 * (n + m))
        for i in 0..<n { interleaved[2 * i] = mono.samples[i]; interleaved[2 * i + 1] = mono.samples[i] }
        for i in 0..<m { interleaved[2 * (n + i)] = 0.5 * other.samples[i]; interleaved[2 * (n + i) + 1] = -0.5 * other.samples[i] }
        let audio = AudioBuffer(sampleRate: mono.sampleRate, channelCount: 2, samples: interleaved)
        #expect(PrivacyFilter.differsFromMix(audio, channel: 0) && PrivacyFilter.differsFromMix(audio, channel: 1))
        for mode in [PrimaryTalkerMode.enrolled(enrollment), .dominant] {
            let (plan, out) = try filter.run(audio, mode: mode)
            let whole = Redactor().apply(audio, removed: plan.redacted)
            #expect(whole.samples == out.samples, "run's audio and the plan's mask disagree")
            let tail = (2 * n)..<(2 * (n + m))
            let kept = Self.energy(out.samples[tail]) / Self.energy(audio.samples[tail])
            #expect(kept < 0.01, "\(mode): \(kept * 100) % of the anti-phase voice's energy kept")
            #expect(plan.primaryDecision.contains("per-channel"), "\(plan.primaryDecision)")
        }
        // Scaled copies of the mix are not analysed again.
        let scaled = AudioBuffer(sampleRate: mono.sampleRate, channelCount: 2,
                                 samples: (0..<(2 * n)).map { $0 % 2 == 0 ? mono.samples[$0 / 2] : 0.5 * mono.samples[$0 / 2] })
        #expect(!PrivacyFilter.differsFromMix(scaled, channel: 0) && !PrivacyFilter.differsFromMix(scaled, channel: 1))
    }
}
