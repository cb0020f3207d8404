public import Foundation

/// The machine-readable record of a redaction: what was decided and every segment removed.
public struct RedactionReport: Sendable, Codable {
    /// One removed stretch of audio.
    public struct Segment: Sendable, Codable {
        /// Start, seconds from the start of the input.
        public var start: Double
        /// End, seconds from the start of the input.
        public var end: Double
        /// Why: `other_talker`, `uncertain` (unattributable or mixed speech) or `guard` (margin around removed speech).
        public var reason: String
        /// Mean cosine with the primary talker over its scored frames (−1…1), nil when none was scored.
        public var meanScore: Double?
        /// Share of its frames that were confidently another talker (0…1).
        public var confidence: Double

        enum CodingKeys: String, CodingKey { case start, end, reason, confidence; case meanScore = "mean_score" }
    }

    /// Format tag.
    public var format = "voiceguard-redaction-log"
    /// Format version.
    public var version = 1
    /// The program and version that wrote it.
    public var tool: String
    /// Input path (`-` for stdin).
    public var input: String
    /// Output path (`-` for stdout).
    public var output: String
    /// `enrolled` or `dominant`.
    public var mode: String
    /// How the primary talker was chosen, in words.
    public var primaryDecision: String
    /// Confidence of that decision (0…1).
    public var primaryConfidence: Double
    /// Replacement method: mute, noise or tone.
    public var method: String
    /// Overlap / uncertainty policy: mute or keep.
    public var overlap: String
    /// Attenuation of removed audio, dB.
    public var attenuationDB: Double
    /// Input duration, seconds.
    public var durationSeconds: Double
    /// Seconds of speech found.
    public var speechSeconds: Double
    /// Seconds of speech kept.
    public var keptSpeechSeconds: Double
    /// Seconds removed (speech, possible speech and guards).
    public var removedSeconds: Double
    /// Look-ahead the decisions depend on, seconds (whole-file mode reads the whole file first; a streaming run of
    /// the same analysis would delay its output by this much).
    public var lookaheadSeconds: Double
    /// Wall-clock seconds of reading, analysis and redaction.
    public var processingSeconds: Double
    /// Every removed stretch, in time order.
    public var segments: [Segment]

    enum CodingKeys: String, CodingKey {
        case format, version, tool, input, output, mode, method, overlap, segments
        case primaryDecision = "primary_decision", primaryConfidence = "primary_confidence"
        case attenuationDB = "attenuation_db", durationSeconds = "duration_seconds", speechSeconds = "speech_seconds"
        case keptSpeechSeconds = "kept_speech_seconds", removedSeconds = "removed_seconds"
        case lookaheadSeconds = "lookahead_seconds", processingSeconds = "processing_seconds"
    }

    /// Builds the report of a plan.
    public init(plan: RedactionPlan, input: String, output: String, mode: String, method: String, overlap: String,
                attenuationDB: Double, duration: Double, processingSeconds: Double, tool: String) {
        self.tool = tool
        self.input = input
        self.output = output
        self.mode = mode
        primaryDecision = plan.primaryDecision
        primaryConfidence = plan.primaryConfidence
        self.method = method
        self.overlap = overlap
        self.attenuationDB = attenuationDB
        durationSeconds = duration
        let speech = plan.decisions.filter { $0 != .nonSpeech }.count
        speechSeconds = Double(speech) / 100
        keptSpeechSeconds = Double(plan.decisions.indices.filter { plan.decisions[$0] != .nonSpeech && !plan.redacted[$0] }.count) / 100
        removedSeconds = Double(plan.redacted.filter { $0 }.count) / 100
        lookaheadSeconds = Double(plan.lookaheadFrames) / 100
        self.processingSeconds = processingSeconds
        var segments: [Segment] = []
        var f = 0
        while f < plan.redacted.count {
            guard plan.redacted[f] else { f += 1; continue }
            var g = f
            while g < plan.redacted.count, plan.redacted[g] { g += 1 }
            let decisions = plan.decisions[f..<g]
            let others = decisions.filter { $0 == .other }.count, uncertain = decisions.filter { $0 == .uncertain }.count
            let scores = plan.chunks.filter { $0.frames.overlaps(f..<g) }.compactMap(\.score)
            segments.append(Segment(start: Double(f) / 100, end: Double(g) / 100,
                                    reason: others >= uncertain && others > 0 ? "other_talker" : (uncertain > 0 ? "uncertain" : "guard"),
                                    meanScore: scores.isEmpty ? nil : Double(scores.reduce(0, +)) / Double(scores.count),
                                    confidence: Double(others) / Double(g - f)))
            f = g
        }
        self.segments = segments
    }

    /// One line for people.
    public var summary: String {
        String(format: "%@: %@; removed %d segments (%.1f s) of %.1f s; kept %.1f of %.1f s of speech",
               output, primaryDecision, segments.count, removedSeconds, durationSeconds, keptSpeechSeconds, speechSeconds)
    }

    /// RTTM lines: kept speech as `primary`, removed segments as `removed`.
    public func rttm(fileID: String) -> String {
        segments.map { String(format: "SPEAKER %@ 1 %.2f %.2f <NA> <NA> removed-%@ <NA> <NA>", fileID, $0.start, $0.end - $0.start, $0.reason) }
            .joined(separator: "\n") + (segments.isEmpty ? "" : "\n")
    }

    /// Pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
