import AudioCore
import AudioIO
public import Evaluation
public import Manifests
import Learning
import Foundation

/// Feature vectors of a manifest's recordings, for training and evaluation.
public struct SpoofCorpus: Sendable {
    /// One manifest row and what became of it.
    public struct Item: Sendable {
        /// The manifest record.
        public var record: ManifestRecord
        /// True for bona fide, false for spoof, nil when the row has no usable label.
        public var isBonafide: Bool?
        /// The features, or nil when the audio could not be used (see `error`) or held too little speech.
        public var features: [Float]?
        /// The speech gate's evidence (`SpeechEvidence.names`) when extracted with `evidence: true`; nil for silence.
        public var evidence: [Float]?
        /// Why the row could not be used.
        public var error: String?
        /// Whether the audio was read (false: missing or undecodable file; true: even if it held too little speech).
        public var decoded: Bool
    }

    /// Every row, in manifest order.
    public var items: [Item]

    /// Reads `label` as bona fide (`bonafide`, `bona-fide`, `human`, `genuine`) or spoof
    /// (`spoof`, `synthetic`, `fake`, `tts`); nil otherwise.
    public static func parseLabel(_ value: String?) -> Bool? {
        switch value?.lowercased() {
        case "bonafide", "bona-fide", "bona_fide", "bona fide", "human", "genuine", "real": true
        case "spoof", "synthetic", "fake", "tts", "deepfake": false
        default: nil
        }
    }

    /// Extracts features for the rows `include` accepts, `jobs` files at a time; unreadable
    /// audio is recorded per item and the run goes on.
    /// - Parameters:
    ///   - frames: extract speech-frame LFCCs (for the GMM baseline) instead of utterance vectors.
    ///   - evidence: also extract the speech gate's evidence (same analysis); an item with too little speech to score
    ///     keeps its evidence (nil for silence) beside its `error`.
    public static func extract(_ manifest: Manifest, extractor: SpoofFeatureExtractor = SpoofFeatureExtractor(), jobs: Int = 2,
                               frames: Bool = false, evidence: Bool = false,
                               include: @Sendable (ManifestRecord) -> Bool = { _ in true }) async -> SpoofCorpus {
        let records = manifest.records.filter(include)
        let results = await boundedConcurrentMap(records, jobs: jobs) { record -> ([Float]?, [Float]?, String?, Bool) in
            let audio: AudioBuffer
            do { audio = try AudioFileReader.read(path: record.resolvedPath) } catch {
                return (nil, nil, "line \(record.line) (\(record.id)): \(error)", false)
            }
            do {
                if evidence {
                    let input = try extractor.detectorInput(of: audio, frameLevel: frames)
                    let problem = "line \(record.line) (\(record.id)): too little speech to score (under \(SpoofFeatureExtractor.minimumSpeechSeconds) s of speech frames)"
                    return (input.features, input.evidence, input.features == nil ? problem : nil, true)
                }
                return (frames ? try extractor.frameFeatures(of: audio) : try extractor.features(of: audio), nil, nil, true)
            } catch {
                return (nil, nil, "line \(record.line) (\(record.id)): \(error)", true)
            }
        }
        return SpoofCorpus(items: zip(records, results).map { record, result in
            Item(record: record, isBonafide: parseLabel(record["label"]), features: result.0, evidence: result.1, error: result.2,
                 decoded: result.3)
        })
    }

    /// Items with features and a label.
    public var usable: [Item] { items.filter { $0.features != nil && $0.isBonafide != nil } }
    /// Items that failed.
    public var failures: [Item] { items.filter { $0.error != nil } }
}

/// Trains a model: classifier on one set, calibration on another.
public enum SpoofTrainer {
    /// Trains the logistic-regression back end on `train` and fits the calibration on `calibration`
    /// (or on `train` when that is empty).
    /// - Parameters:
    ///   - features: the configuration the items' vectors were computed with.
    ///   - balanceBy: manifest columns whose joint value groups the training items (e.g. `family`, `language`):
    ///     within each class every group weighs the same (`LogisticRegression.train(features:labels:groups:)`), so
    ///     the most numerous engine or language does not set the boundary. Empty: class-balanced only.
    ///   - calibrateAcross: a manifest column (e.g. `family`): the calibration is then fitted on out-of-group scores of
    ///     `train` instead of on `calibration` — for each value of the column among the spoofs, a classifier trained
    ///     without that value's spoofs (and without a share of the bona fide speakers, `speaker` column, assigned to
    ///     the fold by hash) scores them — so the calibration has seen only synthesizers its classifier never saw,
    ///     as a deployed detector meets them. Nil: calibration on `calibration`.
    public static func train(train: [SpoofCorpus.Item], calibration: [SpoofCorpus.Item], l2: Double = 5e-3,
                             features: SpoofFeatureExtractor.Configuration = .standard, balanceBy: [String] = [],
                             calibrateAcross: String? = nil,
                             info: SynthDetectModel.TrainingInfo) throws(SynthDetectError) -> SynthDetectModel {
        let trainItems = train.filter { $0.features != nil && $0.isBonafide != nil }
        let trainSet = trainItems.map { item in
            (item.features!, item.isBonafide!, balanceBy.map { item.record[$0] ?? "" }.joined(separator: "/"))
        }
        let groups = balanceBy.isEmpty ? nil : trainSet.map(\.2)
        let classifier: LogisticRegression
        do { classifier = try LogisticRegression.train(features: trainSet.map(\.0), labels: trainSet.map(\.1), groups: groups, l2: l2) } catch {
            throw SynthDetectError(error)
        }
        let calibrationSet: [(Double, Bool)]
        if let column = calibrateAcross {
            calibrationSet = try outOfGroupScores(trainItems, trainSet: trainSet, column: column, balanced: groups != nil, l2: l2)
        } else {
            let calibrationSource = calibration.isEmpty ? train : calibration
            calibrationSet = calibrationSource.compactMap { item in item.features.flatMap { f in item.isBonafide.map { (classifier.score(f), $0) } } }
        }
        let calibrationMap: AffineCalibration
        do { calibrationMap = try AffineCalibration.fit(scores: calibrationSet.map(\.0), labels: calibrationSet.map(\.1)) } catch {
            throw SynthDetectError(error)
        }
        var info = info
        info.trainBonafide = trainSet.filter(\.1).count
        info.trainSpoof = trainSet.count - info.trainBonafide
        info.calibrationBonafide = calibrationSet.filter(\.1).count
        info.calibrationSpoof = calibrationSet.count - info.calibrationBonafide
        info.balancedBy = balanceBy.isEmpty ? nil : balanceBy
        if let calibrateAcross { info.calibrationSplit = "out-of-\(calibrateAcross) scores of \(info.trainSplit)" }
        guard trainSet.allSatisfy({ $0.0.count == features.dimension }) else {
            throw .badTrainingData(detail: "feature vectors do not have the \(features.dimension) values of \"\(features.name)\"")
        }
        return SynthDetectModel(features: features, classifier: classifier, calibration: calibrationMap, training: info)
    }
}

extension SpoofTrainer {
    /// Scores of every training item by a classifier that did not see its group: one fold per value of `column`
    /// among the spoofs (that value's spoofs held out), bona fide speakers spread over the folds by hash.
    static func outOfGroupScores(_ items: [SpoofCorpus.Item], trainSet: [([Float], Bool, String)], column: String, balanced: Bool,
                                 l2: Double) throws(SynthDetectError) -> [(Double, Bool)] {
        let values = Set(items.filter { $0.isBonafide == false }.map { $0.record[column] ?? "" }).sorted()
        guard values.count >= 2 else {
            throw .badTrainingData(detail: "calibration across '\(column)' needs spoofs of at least 2 values of it; found \(values.count)")
        }
        func fold(_ item: SpoofCorpus.Item) -> Int {
            if item.isBonafide == false { return values.firstIndex(of: item.record[column] ?? "") ?? 0 }
            let speaker = item.record["speaker"] ?? item.record.id
            var h: UInt64 = 1469598103934665603
            for b in speaker.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
            return Int(h % UInt64(values.count))
        }
        let folds = items.map(fold)
        var scores = [Double](repeating: 0, count: items.count)
        for k in values.indices {
            let inside = items.indices.filter { folds[$0] != k }
            let classifier: LogisticRegression
            do {
                classifier = try LogisticRegression.train(features: inside.map { trainSet[$0].0 }, labels: inside.map { trainSet[$0].1 },
                                                          groups: balanced ? inside.map { trainSet[$0].2 } : nil, l2: l2)
            } catch {
                throw SynthDetectError(error)
            }
            for i in items.indices where folds[i] == k { scores[i] = classifier.score(trainSet[i].0) }
        }
        return zip(scores, trainSet.map(\.1)).map { ($0, $1) }
    }

    /// Trains the LFCC-GMM baseline: one mixture of `components` diagonal Gaussians on the bona fide
    /// speech frames of `train`, one on the spoof frames (every `frameStep`-th frame, at most
    /// `maximumFrames` per class), `iterations` EM steps each; calibration on `calibration`.
    public static func trainGMM(train: [SpoofCorpus.Item], calibration: [SpoofCorpus.Item], components: Int = 64,
                                iterations: Int = 10, frameStep: Int = 3, maximumFrames: Int = 150_000,
                                info: SynthDetectModel.TrainingInfo) throws(SynthDetectError) -> SynthDetectModel {
        func pool(_ bonafide: Bool) -> [Float] {
            var out: [Float] = []
            for item in train where item.isBonafide == bonafide {
                guard let f = item.features else { continue }
                let n = f.count / 60
                for i in stride(from: 0, to: n, by: max(1, frameStep)) { out += f[(i * 60)..<((i + 1) * 60)] }
                if out.count >= maximumFrames * 60 { break }
            }
            return out
        }
        let bonafideFrames = pool(true), spoofFrames = pool(false)
        guard bonafideFrames.count >= components * 60 * 4, spoofFrames.count >= components * 60 * 4 else {
            throw .badTrainingData(detail: "\(bonafideFrames.count / 60) bona fide and \(spoofFrames.count / 60) spoof frames; need at least \(components * 4) of each for \(components) components")
        }
        let pair = GMMPair(bonafide: DiagonalGMM.train(frames: bonafideFrames, dimension: 60, components: components, iterations: iterations),
                           spoof: DiagonalGMM.train(frames: spoofFrames, dimension: 60, components: components, iterations: iterations))
        let calibrationSource = calibration.isEmpty ? train : calibration
        let calibrationSet = calibrationSource.compactMap { item in item.features.flatMap { f in item.isBonafide.map { (pair.score(frames: f), $0) } } }
        let map: AffineCalibration
        do { map = try AffineCalibration.fit(scores: calibrationSet.map(\.0), labels: calibrationSet.map(\.1)) } catch {
            throw SynthDetectError(error)
        }
        var info = info
        info.trainBonafide = train.filter { $0.isBonafide == true && $0.features != nil }.count
        info.trainSpoof = train.filter { $0.isBonafide == false && $0.features != nil }.count
        info.calibrationBonafide = calibrationSet.filter(\.1).count
        info.calibrationSpoof = calibrationSet.count - info.calibrationBonafide
        return SynthDetectModel(features: .standard, gmm: pair, calibration: map, training: info)
    }
}

/// Metrics of a set of scored trials (LLRs, higher = bona fide).
public struct SpoofMetrics: Sendable, Codable, Hashable {
    /// Bona fide trials.
    public var bonafide: Int
    /// Spoof trials.
    public var spoof: Int
    /// Equal error rate, 0…1.
    public var eer: Double?
    /// Minimum normalised DCF (ASVspoof 5 costs).
    public var minDCF: Double?
    /// Actual normalised DCF at the Bayes threshold.
    public var actDCF: Double?
    /// Cllr, bits.
    public var cllr: Double?
    /// Fraction of bona fide trials decided "synthetic" at the operating threshold (abstentions excluded).
    public var bonafideFlagRate: Double?
    /// Wilson 95 % interval of `bonafideFlagRate`.
    public var bonafideFlagRateInterval: [Double]?
    /// Fraction of spoof trials decided "bona fide" at the operating threshold.
    public var spoofMissRate: Double?

    enum CodingKeys: String, CodingKey {
        case bonafide, spoof, eer, cllr
        case minDCF = "min_dcf", actDCF = "act_dcf"
        case bonafideFlagRate = "bonafide_flag_rate", spoofMissRate = "spoof_miss_rate"
        case bonafideFlagRateInterval = "bonafide_flag_rate_ci95"
    }

    /// Metrics of `trials` with decisions at `threshold`.
    public init(_ trials: [ScoredTrial], threshold: Double = 0) {
        bonafide = trials.filter(\.isTarget).count
        spoof = trials.count - bonafide
        eer = DetectionMetrics.equalErrorRate(trials)
        minDCF = CostMetrics.minimumDCF(trials)
        actDCF = CostMetrics.actualDCF(trials)
        cllr = CostMetrics.cllr(trials)
        let flagged = trials.filter { $0.isTarget && $0.score < threshold }.count
        bonafideFlagRate = bonafide > 0 ? Double(flagged) / Double(bonafide) : nil
        bonafideFlagRateInterval = bonafide > 0 ? Self.wilson(flagged, of: bonafide) : nil
        spoofMissRate = spoof > 0 ? Double(trials.filter { !$0.isTarget && $0.score >= threshold }.count) / Double(spoof) : nil
    }

    /// Wilson score interval (95 %) of k successes in n trials.
    public static func wilson(_ k: Int, of n: Int) -> [Double] {
        let z = 1.959963984540054, p = Double(k) / Double(n), nn = Double(n)
        let centre = (p + z * z / (2 * nn)) / (1 + z * z / nn)
        let half = z * ((p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()) / (1 + z * z / nn)
        return [max(0, centre - half), min(1, centre + half)]
    }
}
