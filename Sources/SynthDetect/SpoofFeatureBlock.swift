import Foundation

/// One block of utterance statistics the synthetic-speech front end can compute. A feature
/// configuration is an ordered list of blocks; its name (`blocks` joined by "+", then "/2") is what
/// models store, so a model is only ever applied to the features it was trained on.
///
/// All blocks are computed at 8 kHz on speech frames only (see `SpoofFeatureExtractor`) and are
/// level-invariant.
public enum SpoofFeatureBlock: String, Sendable, Hashable, Codable, CaseIterable {
    /// Standard deviation of the Δ and ΔΔ LFCC (ASVspoof 2019 front end at 8 kHz, c0…c19): 40 values.
    case lfccDynamics = "lfcc-dynamics"
    /// Per 4 sub-bands (100–600, 600–1300, 1300–2300, 2300–3700 Hz): spread of the frame-to-frame change
    /// of the band's log energy and the lag-1 autocorrelation of its trajectory: 8 values.
    case modulation
    /// Voiced fraction, mean and spread of voicing strength, F0 spread (semitones), mean and spread of
    /// frame-to-frame F0 steps, mean F0 curvature, share of F0 jumps over a semitone: 8 values.
    case prosody
    /// Cycle-level perturbation of voiced speech from a cross-correlation cycle tracker: jitter (mean,
    /// median, 90th percentile, RAP, PPQ5), shimmer (mean, median, 90th percentile, dB, APQ3, APQ5),
    /// cycle-to-cycle correlation (mean, spread, 10th percentile) and tracked share: 15 values.
    case voiceQuality = "voice-quality"
    /// Standard deviation of the Δ and ΔΔ CQCC (24 bins/octave from 100 Hz, c1…c19): 38 values.
    case cqccDynamics = "cqcc-dynamics"
    /// Mean and standard deviation of the static CQCC c1…c19: 38 values.
    case cqccStatics = "cqcc-statics"
    /// Mean and standard deviation of modified group-delay cepstra c1…c20 (phase): 40 values.
    case groupDelay = "mgd"
    /// Sub-band cepstra: 4 sub-bands of 1 kHz, each 8 linear bands → DCT c1…c4; mean and standard
    /// deviation of each: 32 values.
    case subbandCepstra = "subband-cepstra"
    /// Long-term spectrum: 16 bands of 250 Hz, mean log power relative to the mean over bands, and
    /// the standard deviation of each band's log power: 32 values.
    case longTermSpectrum = "ltas"

    /// Values the block contributes.
    public var dimension: Int {
        switch self {
        case .lfccDynamics: 40
        case .modulation, .prosody: 8
        case .voiceQuality: VoiceQuality.dimension
        case .cqccDynamics, .cqccStatics: 38
        case .groupDelay: 40
        case .subbandCepstra, .longTermSpectrum: 32
        }
    }

    /// Parses a comma-separated list of block names (or "all"); "standard" stands for the shipped set, alone or in a
    /// list ("standard,mgd").
    /// - Throws: `SynthDetectError.badFeatureSet` naming the unknown entry and the valid names.
    public static func parseList(_ text: String) throws(SynthDetectError) -> [SpoofFeatureBlock] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "all" { return allCases }
        var blocks: [SpoofFeatureBlock] = []
        for entry in trimmed.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            // `standard` inside a list stands for the shipped blocks (e.g. "standard,mgd").
            let named = entry == "standard" ? (SpoofFeatureExtractor.Configuration.standard.blocks ?? []) : SpoofFeatureBlock(rawValue: entry).map { [$0] }
            guard let named else {
                throw .badFeatureSet(detail: "unknown feature block \"\(entry)\"; expected a comma-separated list of \(allCases.map(\.rawValue).joined(separator: ", ")), or all / standard")
            }
            for block in named {
                guard !blocks.contains(block) else { throw .badFeatureSet(detail: "feature block \"\(block.rawValue)\" listed twice") }
                blocks.append(block)
            }
        }
        guard !blocks.isEmpty else { throw .badFeatureSet(detail: "no feature blocks in \"\(text)\"") }
        return blocks
    }
}
