import AudioCore
import AudioIO
import Foundation
import Learning
public import Manifests

/// Trains the privacy filter's models from manifests: the voice activity classifier from mixtures with
/// 10 ms frame labels (`frame_labels` column: one character per frame, `N` = no speech), augmented
/// with music and noise; the speaker projection from labelled utterances (`speaker` column); the
/// enrolled-mode threshold from mixtures with an `enrollment` clip.
public enum RedactionTrainer {
    /// Frame labels of a mixture (true = speech), or nil when the column is missing or unreadable.
    public static func frameLabels(_ record: ManifestRecord, manifest: Manifest) -> [Character]? {
        guard let relative = record["frame_labels"], !relative.isEmpty else { return nil }
        let path = relative.hasPrefix("/") ? relative : URL(fileURLWithPath: manifest.path).deletingLastPathComponent().appendingPathComponent(relative).path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Array(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A file next to the manifest named by a column.
    static func sidecar(_ record: ManifestRecord, column: String, manifest: Manifest) -> String? {
        guard let relative = record[column], !relative.isEmpty else { return nil }
        return relative.hasPrefix("/") ? relative : URL(fileURLWithPath: manifest.path).deletingLastPathComponent().appendingPathComponent(relative).path
    }

    /// Trains everything.
    /// - Parameters:
    ///   - mixtures: rows of `split == split` with `frame_labels` train the voice activity detector and set the threshold.
    ///   - speakers: rows of `split == split` with a `speaker` train the speaker projection.
    ///   - noises: signals (16 kHz) mixed into copies of the mixtures at 0–20 dB SNR (music clips; white noise is added too).
    ///   - log: progress lines.
    ///   - backgroundWeight: how many times each background-talker frame counts in the voice activity training.
    public static func train(mixtures: Manifest, speakers: Manifest, noises: [[Float]], split: String = "train",
                             backgroundWeight: Int = 1,
                             log: (String) -> Void = { _ in }) throws(RedactionError) -> RedactionModel {
        var rng = SplitMix64(seed: 20_261_126)
        // 1. Voice activity.
        var vadX: [[Float]] = [], vadY: [Bool] = []
        let features = VoiceActivityFeatures()
        var mixtureSignals: [(record: ManifestRecord, signal: [Float], labels: [Character])] = []
        for record in mixtures.records where record["split"] == split {
            guard let labels = frameLabels(record, manifest: mixtures),
                  let audio = try? AudioFileReader.read(path: record.resolvedPath),
                  let signal = try? AnalysisSignal.make(audio) else { continue }
            mixtureSignals.append((record, signal, labels))
            let speechLevel = rms(signal)
            var versions = [signal]
            if !noises.isEmpty {
                let noise = noises[Int(rng.next() % UInt64(noises.count))]
                versions.append(mix(signal, noise, snrDB: Double(rng.uniformFloat()) * 20, speechLevel: speechLevel, offset: Int(rng.next() % 100_000)))
            }
            let white = (0..<signal.count).map { _ in rng.gaussianFloat() }
            versions.append(mix(signal, white, snrDB: 5 + Double(rng.uniformFloat()) * 20, speechLevel: speechLevel, offset: 0))
            for version in versions {
                let m = features.compute(version)
                for f in stride(from: Int(rng.next() % 3), to: min(m.frameCount, labels.count), by: 3) {
                    // Background-talker frames count `backgroundWeight` times: quiet, distant voices are what
                    // a privacy filter must not miss, and they are a minority of the speech frames.
                    for _ in 0..<(labels[f] == "B" ? backgroundWeight : 1) {
                        vadX.append(Array(m[f]))
                        vadY.append(labels[f] != "N")
                    }
                }
            }
        }
        guard !mixtureSignals.isEmpty else { throw .badTrainingData(detail: "no \(split) mixtures with readable audio and frame labels in \(mixtures.path)") }
        log("voice activity: \(vadX.count) frames from \(mixtureSignals.count) mixtures (\(vadY.filter { $0 }.count) speech), with music and noise copies")
        let vad: LogisticRegression
        do { vad = try LogisticRegression.train(features: vadX, labels: vadY, l2: 1e-3) } catch { throw RedactionError(error) }
        // 2. Speaker projection.
        let speakerFront = SpeakerFeatures()
        var statsX: [[Float]] = [], statsY: [String] = []
        let placeholderFusion = LogisticRegression(mean: [0, 0, 0], scale: [1, 1, 1], weights: [1, 0, 0], bias: 0)
        let provisional = RedactionModel(voiceActivity: vad, speechThreshold: 0.5,
                                         speakerProjection: LinearDiscriminant(mean: [Float](repeating: 0, count: 80), projection: [Float](repeating: 0, count: 80), outputDimension: 1),
                                         fusion: placeholderFusion, keepThreshold: 0.5, dominantFusion: placeholderFusion,
                                         dominantKeepThreshold: 0.5, uncertainMargin: 0, training: [:])
        let filter = PrivacyFilter(model: provisional)
        for record in speakers.records where record["split"] == split {
            guard let who = record["speaker"], !who.isEmpty, let audio = try? AudioFileReader.read(path: record.resolvedPath),
                  let signal = try? AnalysisSignal.make(audio) else { continue }
            let p = filter.speechProbabilities(signal)
            let frames = p.indices.filter { p[$0] >= 0.5 }
            guard frames.count >= 50, let stats = SpeakerFeatures.statistics(speakerFront.frames(signal), frames: frames) else { continue }
            statsX.append(stats)
            statsY.append(who)
        }
        log("speaker projection: \(statsX.count) utterances of \(Set(statsY).count) speakers")
        let lda: LinearDiscriminant
        do { lda = try LinearDiscriminant.fit(features: statsX, labels: statsY, dimensions: 32, shrinkage: 1e-2) } catch { throw RedactionError(error) }
        // 3. Fusion of the chunk cues, and the threshold keeping 97 % of primary speech, on the enrolled training mixtures.
        var model = RedactionModel(voiceActivity: vad, speechThreshold: 0.5, speakerProjection: lda, fusion: placeholderFusion,
                                   keepThreshold: 0.5, dominantFusion: placeholderFusion, dominantKeepThreshold: 0.5,
                                   uncertainMargin: 0.2, training: [:])
        let scorer = PrivacyFilter(model: model)
        var cues: [[Float]] = [], normalizedCues: [[Float]] = [], isPrimary: [Bool] = []
        var enrolled: [(signal: [Float], labels: [Character], enrollment: Enrollment)] = []
        for (record, signal, labels) in mixtureSignals {
            guard let path = sidecar(record, column: "enrollment", manifest: mixtures),
                  let clip = try? AudioFileReader.read(path: path),
                  let enrollment = try? scorer.enroll([(path, clip)]) else { continue }
            enrolled.append((signal, labels, enrollment))
            let p = scorer.speechProbabilities(signal)
            let chunks = scorer.chunks(signal, speech: p.map { $0 >= 0.5 })
            let scores = PrivacyFilter.normalizedScores(chunks, reference: enrollment.embedding)
            for ((chunk, embedding), score) in zip(chunks, scores) {
                guard let score, let embedding else { continue }
                let frameLabels = chunk.frames.filter { $0 < labels.count && labels[$0] != "N" }.map { labels[$0] }
                guard frameLabels.count >= 10 else { continue }
                let primaryShare = Double(frameLabels.filter { $0 == "P" }.count) / Double(frameLabels.count)
                let backgroundShare = Double(frameLabels.filter { $0 == "B" }.count) / Double(frameLabels.count)
                guard primaryShare >= 0.7 || backgroundShare >= 0.7 else { continue }  // mixed chunks do not train the fusion
                cues.append([zip(embedding, enrollment.embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 }, chunk.relativeLevelDB, chunk.tiltDB])
                normalizedCues.append([score, chunk.relativeLevelDB, chunk.tiltDB])
                isPrimary.append(primaryShare >= 0.7)
            }
        }
        guard cues.count >= 30 else { throw .badTrainingData(detail: "\(cues.count) labelled speech chunks in enrolled training mixtures; need ≥ 30") }
        do {
            model.fusion = try LogisticRegression.train(features: cues, labels: isPrimary, l2: 1e-2)
            model.dominantFusion = try LogisticRegression.train(features: normalizedCues, labels: isPrimary, l2: 1e-2)
        } catch { throw RedactionError(error) }
        // Threshold: the smoothed probability keeping 97 % of primary frames over the enrolled training mixtures.
        let calibrated = PrivacyFilter(model: model)
        var primary: [Float] = [], background: [Float] = []
        for item in enrolled {
            guard let plan = try? calibrated.plan(AudioBuffer(mono: item.signal, sampleRate: AnalysisSignal.sampleRate), mode: .enrolled(item.enrollment)) else { continue }
            for f in 0..<min(item.labels.count, plan.primaryProbability.count) {
                guard let q = plan.primaryProbability[f] else { continue }
                if item.labels[f] == "P" { primary.append(q) } else if item.labels[f] == "B" { background.append(q) }
            }
        }
        guard primary.count >= 100 else { throw .badTrainingData(detail: "\(primary.count) scored primary frames; need ≥ 100") }
        primary.sort()
        model.keepThreshold = Double(primary[Int(Double(primary.count) * 0.03)])
        // Dominant mode: the same rule over dominant-mode plans of every training mixture.
        let dominantScorer = PrivacyFilter(model: model)
        var dominantPrimary: [Float] = []
        for (_, signal, labels) in mixtureSignals {
            guard let plan = try? dominantScorer.plan(AudioBuffer(mono: signal, sampleRate: AnalysisSignal.sampleRate), mode: .dominant) else { continue }
            for f in 0..<min(labels.count, plan.primaryProbability.count) where labels[f] == "P" {
                if let q = plan.primaryProbability[f] { dominantPrimary.append(q) }
            }
        }
        dominantPrimary.sort()
        model.dominantKeepThreshold = dominantPrimary.isEmpty ? model.keepThreshold : Double(dominantPrimary[Int(Double(dominantPrimary.count) * 0.03)])
        model.uncertainMargin = min(0.2, model.keepThreshold, model.dominantKeepThreshold)
        let leaked = background.filter { Double($0) >= model.keepThreshold }.count
        log(String(format: "dominant mode: keep threshold %.3f (97 %% of %d primary frames of all training mixtures)", model.dominantKeepThreshold, dominantPrimary.count))
        log(String(format: "fusion on %d chunks (weights: score %.2f, level %.2f, tilt %.2f): keep threshold %.3f keeps 97 %% of %d primary frames; %.1f %% of %d background frames above it",
                   cues.count, model.fusion.weights[0], model.fusion.weights[1], model.fusion.weights[2], model.keepThreshold, primary.count,
                   100 * Double(leaked) / Double(max(1, background.count)), background.count))
        model.training = ["mixtures": URL(fileURLWithPath: mixtures.path).lastPathComponent, "speakers": URL(fileURLWithPath: speakers.path).lastPathComponent,
                          "split": split, "vad_frames": String(vadX.count), "speaker_utterances": String(statsX.count),
                          "speakers_count": String(Set(statsY).count), "fusion_frames": String(cues.count)]
        return model
    }

    static func rms(_ x: [Float]) -> Double {
        let active = x.filter { abs($0) > 1e-4 }
        guard !active.isEmpty else { return 1e-4 }
        return (active.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(active.count)).squareRoot()
    }

    /// `speech` plus `noise` (looped from `offset`) scaled to `snrDB` below the speech level.
    static func mix(_ speech: [Float], _ noise: [Float], snrDB: Double, speechLevel: Double, offset: Int) -> [Float] {
        guard !noise.isEmpty else { return speech }
        let gain = Float(speechLevel / max(rms(noise), 1e-6) * Foundation.pow(10, -snrDB / 20))
        return speech.indices.map { speech[$0] + gain * noise[(offset + $0) % noise.count] }
    }
}
