import AudioCore
import AudioIO
import DSP
import Foundation
import Testing
import VoiceGuardTestSupport
@testable import Redaction

@Suite("Redaction: streaming filter (bounded look-ahead, constant memory, equal to whole-file)")
struct StreamingTests {
    static let id = "mix-test-0045"

    static func fixture() throws -> (filter: PrivacyFilter, audio: AudioBuffer, enrollment: Enrollment) {
        let filter = try PrivacyFilter(model: RedactionModel.bundled)
        let audio = try AudioFileReader.read(path: "\(mixtureFixtures)/\(id).flac")
        let enrollment = try filter.enroll([("enroll", try AudioFileReader.read(path: "\(mixtureFixtures)/\(id).enroll.flac"))])
        return (filter, audio, enrollment)
    }

    /// Pushes `audio` in blocks of random sizes (1 sample frame to 1 s), collecting the output.
    static func streamed(_ audio: AudioBuffer, filter: PrivacyFilter, mode: PrimaryTalkerMode, redactor: Redactor, seed: UInt64,
                         lagCheck: ((Int, Int, StreamingPrivacyFilter) -> Void)? = nil) throws -> (samples: [Float], log: RedactionLog) {
        let stream = try StreamingPrivacyFilter(filter: filter, mode: mode, redactor: redactor, sampleRate: audio.sampleRate,
                                                channelCount: audio.channelCount)
        var rng = SplitMix64(seed: seed)
        var out: [Float] = [], position = 0
        let c = audio.channelCount
        while position < audio.frameCount {
            let size = min(audio.frameCount - position, 1 + Int(rng.next() % UInt64(audio.sampleRate)))
            try stream.process(Array(audio.samples[(position * c)..<((position + size) * c)]), appendingTo: &out)
            position += size
            lagCheck?(position, out.count / c, stream)
        }
        try stream.finish(appendingTo: &out)
        return (out, stream.log)
    }

    @Test("any block sizes give exactly the whole-file output and log (enrolled, dominant; every method)",
          arguments: [("enrolled", RedactionMethod.mute), ("enrolled", .noise), ("dominant", .tone)])
    func blockSizesDoNotMatter(mode name: String, method: RedactionMethod) throws {
        let (filter, audio, enrollment) = try Self.fixture()
        let mode: PrimaryTalkerMode = name == "enrolled" ? .enrolled(enrollment) : .dominant
        let redactor = Redactor(method: method, attenuationDB: 60)
        let (whole, stream) = try StreamingPrivacyFilter.redactWholeFile(audio, filter: filter, mode: mode, redactor: redactor)
        #expect(whole.frameCount == audio.frameCount && whole.channelCount == audio.channelCount)
        for seed in [1, 2] as [UInt64] {
            let (samples, log) = try Self.streamed(audio, filter: filter, mode: mode, redactor: redactor, seed: seed)
            #expect(samples == whole.samples, "seed \(seed): \(zip(samples, whole.samples).filter { $0 != $1 }.count) samples differ")
            #expect(log.segments.map(\.start) == stream.log.segments.map(\.start) && log.removedFrames == stream.log.removedFrames)
        }
        #expect(stream.log.removedFrames > 0 && stream.log.keptSpeechFrames > 0)
    }

    @Test("44.1 kHz stereo: block sizes do not matter, both channels are redacted alike, nothing outlives the look-ahead")
    func resampledStereo() throws {
        let (filter, mono, enrollment) = try Self.fixture()
        let resampled = try Resampler.resample(mono, to: 44_100)
        var interleaved = [Float](repeating: 0, count: resampled.frameCount * 2)
        for i in 0..<resampled.frameCount { interleaved[2 * i] = resampled.samples[i]; interleaved[2 * i + 1] = 0.5 * resampled.samples[i] }
        let audio = AudioBuffer(sampleRate: 44_100, channelCount: 2, samples: interleaved)
        let redactor = Redactor()
        let (whole, stream) = try StreamingPrivacyFilter.redactWholeFile(audio, filter: filter, mode: .enrolled(enrollment), redactor: redactor)
        #expect(stream.lookaheadSeconds <= 0.5, "look-ahead \(stream.lookaheadSeconds) s")
        var worstLag = 0
        let (samples, _) = try Self.streamed(audio, filter: filter, mode: .enrolled(enrollment), redactor: redactor, seed: 7) { pushed, emitted, _ in
            worstLag = max(worstLag, pushed - emitted)
        }
        #expect(samples == whole.samples)
        // Every output sample is out once the input is `lookaheadSeconds` past it (blocks here are up to 1 s, so the
        // lag after a push is at most the look-ahead plus nothing: emitted covers all but the last look-ahead).
        #expect(Double(worstLag) / 44_100 <= stream.lookaheadSeconds + 1e-9, "worst lag \(Double(worstLag) / 44_100) s")
        // Both channels get the same gain, sample by sample.
        var removed = 0, mismatched = 0
        for i in 0..<whole.frameCount where abs(audio.samples[2 * i]) > 0.01 {
            let left = whole.samples[2 * i] / audio.samples[2 * i], right = whole.samples[2 * i + 1] / audio.samples[2 * i + 1]
            if abs(left - right) > 1e-4 { mismatched += 1 }
            if left < 0.01 { removed += 1 }
        }
        #expect(removed > 0 && mismatched == 0, "removed \(removed), channel mismatches \(mismatched)")
    }

    @Test("the look-ahead is at most 0.5 s at common rates, and 10 ms pushes never lag more than it")
    func lookahead() throws {
        let (filter, audio, enrollment) = try Self.fixture()
        for rate in [8_000.0, 16_000, 22_050, 44_100, 48_000] {
            let stream = try StreamingPrivacyFilter(filter: filter, mode: .enrolled(enrollment), sampleRate: rate, channelCount: 1)
            #expect(stream.lookaheadSeconds <= 0.5 && stream.lookaheadSeconds >= 0.3, "\(rate) Hz: \(stream.lookaheadSeconds) s")
        }
        let stream = try StreamingPrivacyFilter(filter: filter, mode: .enrolled(enrollment), sampleRate: audio.sampleRate, channelCount: 1)
        var out: [Float] = []
        let block = Int(audio.sampleRate / 100)
        for start in stride(from: 0, to: audio.frameCount - block, by: block) {
            try stream.process(Array(audio.samples[start..<(start + block)]), appendingTo: &out)
            let lag = Double(start + block - out.count) / audio.sampleRate
            #expect(lag <= stream.lookaheadSeconds + 1e-9, "lag \(lag) s at \(start)")
            if lag > stream.lookaheadSeconds + 1e-9 { break }
        }
        #expect(stream.measuredLagSeconds <= stream.lookaheadSeconds + 1e-9 && stream.measuredLagSeconds > 0.3)
    }

    @Test("the core's incremental Silero frames equal the whole-signal frame probabilities")
    func matchesWholeFileVoiceActivity() throws {
        let (filter, audio, _) = try Self.fixture()
        var streamed: [Float] = []
        _ = try StreamingPrivacyFilter.redactWholeFile(audio, filter: filter, mode: .dominant) { streamed.append($0.speechProbability) }
        let offline = filter.speechProbabilities(try AnalysisSignal.make(audio))
        #expect(streamed.count == offline.count)
        let worst = zip(streamed, offline).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-6, "largest speech-probability difference \(worst)")
    }

    @Test("memory stays bounded: two minutes of audio hold no more than a few seconds of state")
    func constantMemory() throws {
        let (filter, audio, enrollment) = try Self.fixture()
        let stream = try StreamingPrivacyFilter(filter: filter, mode: .enrolled(enrollment), sampleRate: audio.sampleRate, channelCount: 1)
        var out: [Float] = []
        var retained: [Int] = []
        for lap in 0..<9 {  // 9 × 14 s ≈ 2 min
            for start in stride(from: 0, to: audio.frameCount, by: 4_096) {
                out.removeAll(keepingCapacity: true)
                try stream.process(Array(audio.samples[start..<min(audio.frameCount, start + 4_096)]), appendingTo: &out)
            }
            if lap >= 1 { retained.append(stream.retainedValues) }
        }
        // 2 min of 16 kHz samples alone would be 1.9 M values; the state stays at a few seconds' worth (the encoder's
        // 256 hidden values per frame of the open segment dominate).
        #expect(retained.max()! < 250_000, "retained values per lap: \(retained)")
        #expect(retained.last! <= retained.first! + 40_000, "growing: \(retained)")
    }

    @Test("streaming on a fixture mixture keeps primary speech and removes background (bounds catch a broken pipeline)")
    func quality() throws {
        let (filter, audio, enrollment) = try Self.fixture()
        let (plan, _) = try StreamingPrivacyFilter.plan(audio, filter: filter, mode: .enrolled(enrollment))
        let labels = try frameLabels(Self.id)
        let primary = labels.indices.filter { labels[$0] == "P" && $0 < plan.redacted.count }
        let background = labels.indices.filter { labels[$0] == "B" && $0 < plan.redacted.count }
        let retention = Double(primary.filter { !plan.redacted[$0] }.count) / Double(primary.count)
        let leakage = Double(background.filter { !plan.redacted[$0] }.count) / Double(background.count)
        #expect(retention >= 0.4 && leakage <= 0.35, "retention \(retention), leakage \(leakage)")
        // Overlap policy keep only ever keeps more.
        var keeping = filter
        keeping.overlap = .keep
        let (kept, _) = try StreamingPrivacyFilter.plan(audio, filter: keeping, mode: .enrolled(enrollment))
        #expect(zip(kept.redacted, plan.redacted).allSatisfy { !$0.0 || $0.1 })
    }

    @Test("pushing after the end is an error; an empty stream yields nothing")
    func misuse() throws {
        let (filter, _, enrollment) = try Self.fixture()
        let stream = try StreamingPrivacyFilter(filter: filter, mode: .enrolled(enrollment), sampleRate: 16_000, channelCount: 1)
        var out: [Float] = []
        try stream.finish(appendingTo: &out)
        #expect(out.isEmpty)
        #expect(throws: RedactionError.self) { try stream.process([0, 0, 0], appendingTo: &out) }
        #expect(throws: RedactionError.self) { _ = try StreamingPrivacyFilter(filter: filter, mode: .dominant, sampleRate: 2_000, channelCount: 1) }
    }
}
