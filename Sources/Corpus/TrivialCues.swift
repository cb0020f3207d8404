import AudioCore
import AudioIO
import DSP
import RealModule
import Evaluation
public import Manifests

/// Properties of a recording that say nothing about how a voice was produced but can still
/// separate bona fide from spoofed speech in a badly built corpus.
public struct TrivialCues: Sendable, Hashable, Codable {
    /// Sampling rate of the file, hertz.
    public var sampleRate: Double
    /// Mean power at or above 4 kHz, dB relative to a full-scale sine in one bin's width
    /// (−200 dB when the file cannot hold 4 kHz). An absolute level, so pauses do not change it.
    public var energyAbove4kHz: Double
    /// Time before the first 10 ms frame within 40 dB of the loudest frame, seconds.
    public var leadingSilence: Double
    /// Time after the last such frame, seconds.
    public var trailingSilence: Double
    /// Length, seconds.
    public var duration: Double
    /// Active level: mean power of the 10 ms frames within 40 dB of the loudest, dBFS.
    public var level: Double

    /// Cue names in report order.
    public static let names = ["sample_rate", "energy_above_4khz", "leading_silence", "trailing_silence", "duration", "level"]

    /// Manifest columns reported as categorical cues when a manifest has them: a detector that knew only the item's
    /// language would be this good (the label share of each value, measured on the manifest itself — the best any
    /// classifier on that attribute alone can do there). `channel_codec` is the codec the augmented (`aug`) track put
    /// each item through: drawn independently of the label, it must sit at chance.
    public static let metadataNames = ["language", "channel_codec"]

    /// The cue called `name`.
    public func value(_ name: String) -> Double {
        switch name {
        case "sample_rate": sampleRate
        case "energy_above_4khz": energyAbove4kHz
        case "leading_silence": leadingSilence
        case "trailing_silence": trailingSilence
        case "level": level
        default: duration
        }
    }

    /// Measures the cues of a mono signal at `rate` hertz.
    public static func measure(_ x: [Float], rate: Double) throws -> TrivialCues {
        let hop = max(1, Int(rate / 100))
        let frames = x.count / hop
        var energies = [Float](repeating: 0, count: max(1, frames))
        x.withUnsafeBufferPointer { p in
            for f in 0..<frames {
                energies[f] = Kernels.sumOfSquares(UnsafeBufferPointer(rebasing: p[(f * hop)..<((f + 1) * hop)])) / Float(hop) + 1e-20
            }
        }
        let peak = energies.max() ?? 1e-20
        let threshold = peak * 1e-4  // −40 dB
        let first = energies.firstIndex { $0 >= threshold } ?? 0
        let last = energies.lastIndex { $0 >= threshold } ?? max(0, frames - 1)
        var high = 0.0, frameCount = 0
        if rate > 8_000 + 1, x.count >= 512 {
            let stft = try STFT(STFTConfiguration(frameLength: 512, hop: 256, window: .hann, layout: .startAligned))
            let firstHighBin = Int((4_000 / rate * 512).rounded(.up))
            x.withUnsafeBufferPointer { p in
                stft.forEachFrame(of: p) { _, s in
                    frameCount += 1
                    for k in firstHighBin...256 {
                        high += Double(s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1])
                    }
                }
            }
        }
        let level = frameCount > 0 ? 10 * log10Double(high / Double(frameCount) / (128.0 * 128.0) + 1e-20) : -200
        let active = energies.filter { $0 >= threshold }
        let activeLevel = 10 * log10Double(Double(active.reduce(0, +)) / Double(max(1, active.count)) + 1e-20)
        return TrivialCues(sampleRate: rate, energyAbove4kHz: level,
                           leadingSilence: Double(first * hop) / rate,
                           trailingSilence: Double(max(0, x.count - (last + 1) * hop)) / rate,
                           duration: Double(x.count) / rate, level: activeLevel)
    }
}

/// How well each trivial cue alone separates the labels of a corpus.
public struct TrivialCueReport: Sendable, Codable {
    /// The manifest analysed.
    public var manifest: String
    /// Track / channel name from the manifest's `channel` column.
    public var channel: String
    /// Bona fide items measured.
    public var bonafide: Int
    /// Spoof items measured.
    public var spoof: Int
    /// Items that could not be read (skipped).
    public var failed: Int
    /// EER (0...0.5, best direction) of each cue used alone as a detector, keyed by cue name (`TrivialCues.names`,
    /// then the `TrivialCues.metadataNames` columns the manifest has).
    public var equalErrorRates: [String: Double]

    /// The cue names this report holds, in report order.
    public var cueNames: [String] {
        TrivialCues.names + TrivialCues.metadataNames.filter { equalErrorRates[$0] != nil }
    }

    /// EER (0...0.5) of a detector that sees only a categorical attribute of each item: every value scores the ratio
    /// of its share of the bona fide items to its share of the spoofs (half a count added to each), so a value that
    /// only one label has separates perfectly and a value both labels share in proportion says nothing. Nil without
    /// both labels.
    /// - Parameters:
    ///   - values: the attribute of each item (e.g. its language).
    ///   - isBonafide: each item's label, in the same order.
    public static func categoricalEqualErrorRate(values: [String], isBonafide: [Bool]) -> Double? {
        var counts: [String: (bonafide: Double, spoof: Double)] = [:]
        for (value, bonafide) in zip(values, isBonafide) {
            var c = counts[value] ?? (0, 0)
            if bonafide { c.bonafide += 1 } else { c.spoof += 1 }
            counts[value] = c
        }
        let totalBonafide = Double(isBonafide.filter { $0 }.count), totalSpoof = Double(isBonafide.count) - totalBonafide
        let score = counts.mapValues { c in
            Double.log((c.bonafide + 0.5) / (totalBonafide + 1)) - Double.log((c.spoof + 0.5) / (totalSpoof + 1))
        }
        let trials = zip(values, isBonafide).map { ScoredTrial(score: score[$0.0] ?? 0, isTarget: $0.1) }
        return DetectionMetrics.bestDirectionEqualErrorRate(trials)
    }

    /// Computes the report, reading files with up to `jobs` concurrent decodes.
    public static func compute(_ manifest: Manifest, jobs: Int = 2) async -> TrivialCueReport {
        let records = manifest.records.filter { $0["label"] == "bonafide" || $0["label"] == "spoof" }
        let cues = await boundedConcurrentMap(records, jobs: jobs) { record -> TrivialCues? in
            guard let audio = try? AudioFileReader.read(path: record.resolvedPath) else { return nil }
            return try? TrivialCues.measure(ChannelMixer.mono(audio), rate: audio.sampleRate)
        }
        var eers: [String: Double] = [:]
        for name in TrivialCues.names {
            let trials = zip(records, cues).compactMap { r, c in
                c.map { ScoredTrial(score: $0.value(name), isTarget: r["label"] == "bonafide") }
            }
            eers[name] = DetectionMetrics.bestDirectionEqualErrorRate(trials)
        }
        for name in TrivialCues.metadataNames where manifest.columns.contains(name) {
            let known = records.filter { !($0[name] ?? "").isEmpty }
            eers[name] = categoricalEqualErrorRate(values: known.map { $0[name] ?? "" },
                                                   isBonafide: known.map { $0["label"] == "bonafide" })
        }
        return TrivialCueReport(manifest: manifest.path, channel: records.first?["channel"] ?? "?",
                                bonafide: records.filter { $0["label"] == "bonafide" }.count,
                                spoof: records.filter { $0["label"] == "spoof" }.count,
                                failed: cues.filter { $0 == nil }.count, equalErrorRates: eers)
    }
}

func log10Double(_ x: Double) -> Double { Double.log10(x) }
