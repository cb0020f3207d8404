public import Foundation

/// The machine-readable record of a redaction: what was decided and every segment removed.
public struct RedactionReport: Sendable, Codable {
    /// One removed stretch of audio.
    public struct Segment: Sendable, Codable {
        /// Start and end, seconds from the start of the input.
        public var start: Double
        public var end: Double
        /// Why: `other_talker`, `uncertain` (unattributable or mixed speech) or `guard` (margin around removed speech).
        public var reason: String
        /// Mean cosine with the primary talker over its scored frames (−1…1), nil when none was scored.
        public var meanScore: Double?
        /// Share of its frames that were confidently another talker (0…1).
        public var confidence: Double

        enum CodingKeys: String, CodingKey { case start, end, reason, confidence; case meanScore = "mean_score" }
    }

    public var format = "voiceguard-redaction-log"
    public var version = 1
    public var tool: String
    public var input: String
    public var output: String
    /// `enrolled` or `dominant`.
    public var mode: String
    public var primaryDecision: String
    public var primaryConfidence: Double
    public var method: String
    public var overlap: String
    public var attenuationDB: Double
    /// Input duration, seconds.
    public var durationSeconds: Double
    public var speechSeconds: Double
    public var keptSpeechSeconds: Double
    public var removedSeconds: Double
    /// Look-ahead of the analysis, seconds (whole-file mode sees the whole file; this is what the models need).
    public var lookaheadSeconds: Double
    public var processingSeconds: Double
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
        lookaheadSeconds = Double(VoiceActivityFeatures.lookaheadFrames + 60) / 100
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
