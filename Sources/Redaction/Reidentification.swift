import AudioCore
import AudioIO
import Evaluation
import Foundation
public import Manifests

/// The re-identification attack on redacted output: a speaker-verification attacker (the GE2E encoder, pretrained on
/// thousands of speakers none of which is in our corpora) compares each background talker's frames left in the *redacted*
/// mixture with clean enrollments of every background talker of the split. The attacker is oracle-aided:
/// it knows (from the ground-truth frame labels) which frames hold the background talker alone, so it is
/// stronger than a real one; redacted frames (≥ 30 dB down) give it nothing. Equal error rate near 50 %
/// means the background voices cannot be told apart any more; the same on the unredacted input is the
/// reference.
public struct ReidentificationResult: Sendable, Codable {
    /// Background segments attacked.
    public var segments: Int
    /// Trials (segment × enrolled talker).
    public var trials: Int
    /// Attacker EER on the unredacted mixtures (0…1; low = voices identifiable).
    public var eerUnredacted: Double
    /// Attacker EER on the redacted output (0…1; 0.5 = chance, the goal).
    public var eerRedacted: Double
    /// Segments where the redacted output held too little speech to embed (the attacker gets the lowest score).
    public var emptySegments: Int

    enum CodingKeys: String, CodingKey {
        case segments, trials
        case eerUnredacted = "eer_unredacted", eerRedacted = "eer_redacted", emptySegments = "empty_segments"
    }

    private struct Sidecar: Decodable {
        struct Background: Decodable { var speaker: String; var start: Double; var end: Double }
        var backgrounds: [Background]
    }

    /// Runs the attack on the `split` rows of `mixtures` (their `.json` sidecars name the background talkers and
    /// times); clean enrollments are up to 20 utterances per talker from `speakers` rows outside the train split.
    /// With `streaming`, the mask comes from the streaming filter.
    public static func run(_ filter: PrivacyFilter, mixtures: Manifest, speakers: Manifest, split: String,
                           enrolled: Bool, streaming: Bool = false) -> ReidentificationResult? {
        var segments: [(speaker: String, redacted: [Float]?, clean: [Float]?)] = []
        for record in mixtures.records where record["split"] == split {
            let sidecarPath = URL(fileURLWithPath: record.resolvedPath).deletingPathExtension().appendingPathExtension("json").path
            guard let data = FileManager.default.contents(atPath: sidecarPath),
                  let sidecar = try? JSONDecoder().decode(Sidecar.self, from: data), !sidecar.backgrounds.isEmpty,
                  let audio = try? AudioFileReader.read(path: record.resolvedPath) else { continue }
            let mode: PrimaryTalkerMode
            if enrolled {
                guard let path = RedactionTrainer.sidecar(record, column: "enrollment", manifest: mixtures),
                      let clip = try? AudioFileReader.read(path: path), let enrollment = try? filter.enroll([(path, clip)]) else { continue }
                mode = .enrolled(enrollment)
            } else {
                mode = .dominant
            }
            guard let plan = try? (streaming ? StreamingPrivacyFilter.plan(audio, filter: filter, mode: mode).plan : filter.plan(audio, mode: mode)), let clean = try? AnalysisSignal.make(audio),
                  let labels = RedactionTrainer.frameLabels(record, manifest: mixtures) else { continue }
            // An oracle-aided attacker: it listens to exactly the background talker's non-overlapped frames
            // (from the ground truth) — all of them in the input, those left unredacted in the output.
            for b in sidecar.backgrounds {
                let frames = max(0, Int(b.start * 100))..<min(labels.count, plan.redacted.count, Int(b.end * 100))
                guard !frames.isEmpty else { continue }
                let background = frames.filter { labels[$0] == "B" }
                let left = background.filter { !plan.redacted[$0] }
                guard background.count >= 20, let cleanEmbedding = embedding(of: background, in: clean, filter: filter) else { continue }
                segments.append((b.speaker, left.count >= 20 ? embedding(of: left, in: clean, filter: filter) : nil, cleanEmbedding))
            }
        }
        let talkers = Set(segments.map(\.speaker)).sorted()
        var enrollments: [String: [Float]] = [:]
        for talker in talkers {
            var signal: [Float] = []
            for record in speakers.records where record["speaker"] == talker && record["split"] != "train" && record["label"] != "spoof" {
                guard let audio = try? AudioFileReader.read(path: record.resolvedPath), let s = try? AnalysisSignal.make(audio) else { continue }
                signal += s
                if signal.count > 60 * Int(AnalysisSignal.sampleRate) { break }
            }
            if let e = filter.embedding(signal)?.embedding { enrollments[talker] = e }
        }
        guard enrollments.count >= 2 else { return nil }
        func cosine(_ a: [Float], _ b: [Float]) -> Double { Double(SpeakerScoring.cosine(a, b)) }
        var redactedTrials: [ScoredTrial] = [], cleanTrials: [ScoredTrial] = []
        for segment in segments {
            for (talker, enrollment) in enrollments {
                let target = talker == segment.speaker
                redactedTrials.append(ScoredTrial(score: segment.redacted.map { cosine($0, enrollment) } ?? -1, isTarget: target))
                cleanTrials.append(ScoredTrial(score: segment.clean.map { cosine($0, enrollment) } ?? -1, isTarget: target))
            }
        }
        guard let redactedEER = DetectionMetrics.equalErrorRate(redactedTrials), let cleanEER = DetectionMetrics.equalErrorRate(cleanTrials) else { return nil }
        return ReidentificationResult(segments: segments.count, trials: redactedTrials.count, eerUnredacted: cleanEER,
                                      eerRedacted: redactedEER, emptySegments: segments.filter { $0.redacted == nil }.count)
    }

    /// GE2E embedding of the samples of the given 10 ms frames of a 16 kHz signal, joined.
    static func embedding(of frames: [Int], in signal: [Float], filter: PrivacyFilter) -> [Float]? {
        var joined: [Float] = []
        for f in frames {
            let start = f * AnalysisSignal.hop
            guard start < signal.count else { continue }
            joined.append(contentsOf: signal[start..<min(signal.count, start + AnalysisSignal.hop)])
        }
        guard !joined.isEmpty else { return nil }
        PrivacyFilter.normalizeVolume(&joined)
        return try? filter.perception.speakerEncoder.embedUtterance(joined).embedding
    }
}
