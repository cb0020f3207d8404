import AudioIO
import Evaluation
import Foundation
public import Manifests

/// Speaker verification with the filter's speaker embedding, on utterances of held-out speakers: how well the
/// embedding tells talkers apart, before any redaction decision. Every pair of the chosen utterances is a trial
/// (target when both are the same speaker); the score is the cosine of their embeddings.
public struct SpeakerVerificationResult: Sendable, Codable {
    /// Speakers taking part.
    public var speakers: Int
    /// Utterances embedded.
    public var utterances: Int
    /// Target and non-target trials.
    public var targetTrials: Int, nonTargetTrials: Int
    /// Equal error rate over all pairs, whole utterances (0…1).
    public var eer: Double
    /// The same with each utterance cut to its first `shortSeconds` of speech (the filter decides on such pieces).
    public var eerShort: Double
    /// Length of the short pieces, seconds.
    public var shortSeconds: Double

    enum CodingKeys: String, CodingKey {
        case speakers, utterances, eer
        case targetTrials = "target_trials", nonTargetTrials = "non_target_trials"
        case eerShort = "eer_short", shortSeconds = "short_seconds"
    }

    /// Runs the protocol on the bona fide rows of `manifest` whose split is in `splits`: up to `perSpeaker` utterances of
    /// each speaker (in id order) with at least 0.5 s of speech. Nil with fewer than two speakers.
    public static func run(_ filter: PrivacyFilter, manifest: Manifest, splits: Set<String>, perSpeaker: Int = 30,
                           shortSeconds: Double = 1.0) -> SpeakerVerificationResult? {
        var bySpeaker: [String: [ManifestRecord]] = [:]
        for record in manifest.records.sorted(by: { $0.id < $1.id })
        where splits.contains(record["split"] ?? "") && record["label"] != "spoof" && !(record["speaker"] ?? "").isEmpty {
            bySpeaker[record["speaker"]!, default: []].append(record)
        }
        var items: [(speaker: String, whole: [Float], short: [Float])] = []
        for (speaker, records) in bySpeaker.sorted(by: { $0.key < $1.key }) {
            var taken = 0
            for record in records where taken < perSpeaker {
                guard let audio = try? AudioFileReader.read(path: record.resolvedPath), let signal = try? AnalysisSignal.make(audio),
                      let whole = filter.embedding(signal), whole.speechSeconds >= 0.5 else { continue }
                // The first `shortSeconds` of speech: cut the signal where that much speech has been heard.
                let p = filter.speechProbabilities(signal)
                let speech = filter.speechMask(p)
                var count = 0, end = signal.count
                for f in speech.indices where speech[f] {
                    count += 1
                    if Double(count) / 100 >= shortSeconds { end = min(signal.count, (f + 1) * AnalysisSignal.hop); break }
                }
                guard let short = filter.embedding(Array(signal[0..<end])) else { continue }
                items.append((speaker, whole.embedding, short.embedding))
                taken += 1
            }
        }
        guard Set(items.map(\.speaker)).count >= 2 else { return nil }
        var whole: [ScoredTrial] = [], short: [ScoredTrial] = []
        func cosine(_ a: [Float], _ b: [Float]) -> Double { Double(SpeakerScoring.cosine(a, b)) }
        for i in items.indices {
            for j in (i + 1)..<items.count {
                let target = items[i].speaker == items[j].speaker
                whole.append(ScoredTrial(score: cosine(items[i].whole, items[j].whole), isTarget: target))
                short.append(ScoredTrial(score: cosine(items[i].short, items[j].short), isTarget: target))
            }
        }
        guard let eer = DetectionMetrics.equalErrorRate(whole), let eerShort = DetectionMetrics.equalErrorRate(short) else { return nil }
        return SpeakerVerificationResult(speakers: Set(items.map(\.speaker)).count, utterances: items.count,
                                         targetTrials: whole.filter(\.isTarget).count, nonTargetTrials: whole.filter { !$0.isTarget }.count,
                                         eer: eer, eerShort: eerShort, shortSeconds: shortSeconds)
    }
}
