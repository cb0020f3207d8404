import AudioIO
import Foundation
import Perception
import Testing
import VoiceGuardTestSupport

/// What the packages' own implementations compute on committed audio (`Fixtures/make_reference.py`).
struct Reference: Decodable {
    struct Silero: Decodable { var tinygrad: [Float] }
    struct Encoder: Decodable {
        var mel_first_second: [[Float]]
        var partial_starts: [Int]
        var partials: [[Float]]
        var embedding: [Float]
    }
    var silero_vad: [String: Silero]
    var resemblyzer: [String: Encoder]

    static let shared: Reference = {
        let url = Bundle.module.url(forResource: "Fixtures/reference", withExtension: "json")!
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()
}

func samples(_ relativePath: String) throws -> [Float] {
    let audio = try AudioFileReader.read(path: repositoryRoot + "/" + relativePath)
    #expect(audio.sampleRate == 16_000 && audio.channelCount == 1)
    return audio.samples
}

@Suite("Perception: Silero VAD and the GE2E speaker encoder equal their packages' reference implementations")
struct PerceptionTests {
    @Test("Silero VAD: every 32 ms window within 1e-4 of the package's reference (tinygrad_model.py), state carried")
    func sileroMatchesReference() throws {
        let vad = try SileroVoiceActivity()
        for (path, reference) in Reference.shared.silero_vad.sorted(by: { $0.key < $1.key }) {
            let p = vad.windowProbabilities(try samples(path))
            #expect(p.count == reference.tinygrad.count, "\(path): \(p.count) windows, reference \(reference.tinygrad.count)")
            let worst = zip(p, reference.tinygrad).map { abs($0 - $1) }.max() ?? 1
            #expect(worst <= 1e-4, "\(path): max |Δp| \(worst)")
            // The fixtures hold speech and pauses: the reference is not trivially constant.
            #expect((reference.tinygrad.max() ?? 0) > 0.9 && (reference.tinygrad.min() ?? 1) < 0.1)
        }
    }

    @Test("Silero VAD: a stream fed window by window equals the whole-signal run; a fresh stream starts from zero state")
    func sileroStreamState() throws {
        let vad = try SileroVoiceActivity()
        let signal = try samples("Corpora/fixtures/mixtures/mix-test-0175.flac")
        let whole = vad.windowProbabilities(signal)
        var stream = vad.makeStream()
        var streamed: [Float] = []
        for k in 0..<(signal.count / 512) {
            streamed.append(signal[(k * 512)..<((k + 1) * 512)].withContiguousStorageIfAvailable { stream.probability($0) }!)
        }
        #expect(streamed == Array(whole.prefix(streamed.count)))
        // Without the carried state the same window scores differently (the state matters).
        var fresh = vad.makeStream()
        let k = streamed.count / 2
        let alone = signal[(k * 512)..<((k + 1) * 512)].withContiguousStorageIfAvailable { fresh.probability($0) }!
        #expect(abs(alone - streamed[k]) > 1e-6)
    }

    @Test("Silero frame probabilities: interpolated to the 10 ms grid between window centres")
    func frameInterpolation() {
        let windows: [Float] = [0, 1, 0.5]
        let frames = (0..<12).map { f in SileroVoiceActivity.frameProbability(frame: f, windowCount: windows.count) { windows[$0] } }
        #expect(frames[0] == 0)  // centre 80 < first window centre 256
        // Frame 2 (centre 400) lies 144/512 of the way from window 0 (256) to window 1 (768).
        #expect(abs(frames[2] - 144.0 / 512) < 1e-6)
        #expect(frames[11] == 0.5)  // centre 1840, past the last centre (1280): last value
        // Streaming readiness: frame 2 needs window 1 computed (2 windows), frame 0 only window 0.
        #expect(SileroVoiceActivity.windowsNeeded(forFrame: 0) == 1)
        #expect(SileroVoiceActivity.windowsNeeded(forFrame: 2) == 2)
        #expect(SileroVoiceActivity.windowsNeeded(forFrame: 5) == 3)  // centre 880 > 768: window 2 (1280) needed
    }

    @Test("GE2E mel front end: librosa's mel power frames within 1e-4 relative")
    func melMatchesLibrosa() throws {
        let reference = Reference.shared.resemblyzer.first!.value
        let signal = Array(try samples(Reference.shared.resemblyzer.first!.key).prefix(16_000))
        let mel = MelSpectrogram().frames(signal)
        #expect(mel.count == reference.mel_first_second.count * 40)
        var worst: Float = 0
        for (t, row) in reference.mel_first_second.enumerated() {
            let scale = (row.max() ?? 0) * 1e-3
            for (b, value) in row.enumerated() { worst = max(worst, abs(mel[t * 40 + b] - value) / (abs(value) + scale + 1e-12)) }
        }
        #expect(worst <= 1e-4, "worst relative difference \(worst)")
    }

    @Test("GE2E encoder: partial and utterance embeddings within 1e-4 of Resemblyzer's VoiceEncoder.embed_utterance")
    func encoderMatchesReference() throws {
        let encoder = try SpeakerEncoder()
        let (path, reference) = Reference.shared.resemblyzer.first!
        let signal = try samples(path)
        #expect(SpeakerEncoder.partialSlices(sampleCount: signal.count).map(\.lowerBound) == reference.partial_starts)
        let (embedding, partials) = try encoder.embedUtterance(signal)
        #expect(partials.count == reference.partials.count)
        for (mine, theirs) in zip(partials, reference.partials) {
            let worst = zip(mine, theirs).map { abs($0 - $1) }.max() ?? 1
            #expect(worst <= 1e-4, "partial: max |Δ| \(worst)")
        }
        let worst = zip(embedding, reference.embedding).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1e-4, "utterance: max |Δ| \(worst)")
        #expect(throws: PerceptionError.self) { try encoder.embedUtterance([]) }
    }

    @Test("weights: missing, corrupt and truncated files are clear errors, never a fallback; digests match SHA256SUMS")
    func weightErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vg-weights-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: PerceptionError.weightsMissing(file: PretrainedWeights.sileroVAD.fileName, searched: [folder])) {
            try PretrainedWeights.sileroVAD.locate(in: [folder])
        }
        let good = try PretrainedWeights.sileroVAD.locate()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        bytes[bytes.count / 2] ^= 0x40
        let corrupt = folder + "/corrupt.safetensors"
        try bytes.write(to: URL(fileURLWithPath: corrupt))
        do {
            _ = try SileroVoiceActivity(path: corrupt)
            Issue.record("a corrupt weight file loaded")
        } catch {
            guard case .checksumMismatch(let path, _, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == corrupt)
            #expect(error.description.contains("corrupt"))
        }
        try bytes.prefix(1000).write(to: URL(fileURLWithPath: corrupt))
        #expect(throws: PerceptionError.self) { try SpeakerEncoder(path: corrupt) }
        // Structure checks (digest not pinned): a header that does not fit the file.
        try Data([255, 0, 0, 0, 0, 0, 0, 0, 123]).write(to: URL(fileURLWithPath: corrupt))
        #expect(throws: PerceptionError.self) { try SafeTensors(path: corrupt, sha256: nil) }
        // The pinned digests equal the committed list that scripts/fetch-models checks.
        let sums = try String(contentsOfFile: repositoryRoot + "/Models/pretrained/SHA256SUMS", encoding: .utf8)
        for weights in PretrainedWeights.allCases { #expect(sums.contains("\(weights.sha256)  \(weights.fileName)")) }
    }
}
