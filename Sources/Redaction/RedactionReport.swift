public import Foundation

/// The frame-by-frame record of a redaction, reduced to what the report needs.
public struct RedactionLog: Sendable {
    /// Frames (10 ms) of speech (any decision but non-speech).
    public var speechFrames = 0
    /// Speech frames kept.
    public var keptSpeechFrames = 0
    /// Frames removed.
    public var removedFrames = 0
    /// Every removed stretch, in time order.
    public var segments: [RedactionReport.Segment] = []
}

/// Accumulates a `RedactionLog` one 10 ms frame at a time (memory grows with the number of removed segments only).
public struct RedactionLogBuilder: Sendable {
    private var log = RedactionLog()
    private var frame = 0
    private var runStart: Int?
    private var others = 0, uncertain = 0, scoreSum = 0.0, scored = 0

    /// An empty log.
    public init() {}

    /// Adds the next frame: its decision, whether it was removed, and its cosine with the primary talker if scored.
    public mutating func add(decision: FrameDecision, redacted: Bool, score: Float?) {
        if decision != .nonSpeech {
            log.speechFrames += 1
            if !redacted { log.keptSpeechFrames += 1 }
        }
        if redacted {
            log.removedFrames += 1
            if runStart == nil { runStart = frame; others = 0; uncertain = 0; scoreSum = 0; scored = 0 }
            if decision == .other { others += 1 } else if decision == .uncertain { uncertain += 1 }
            if let score { scoreSum += Double(score); scored += 1 }
        } else {
            closeRun()
        }
        frame += 1
    }

    /// The log so far, with any open removed stretch closed at the last frame.
    public func finished() -> RedactionLog {
        var copy = self
        copy.closeRun()
        return copy.log
    }

    private mutating func closeRun() {
        guard let start = runStart else { return }
        log.segments.append(RedactionReport.Segment(
            start: Double(start) / 100, end: Double(frame) / 100,
            reason: others >= uncertain && others > 0 ? "other_talker" : (uncertain > 0 ? "uncertain" : "guard"),
            meanScore: scored > 0 ? scoreSum / Double(scored) : nil, confidence: Double(others) / Double(frame - start)))
        runStart = nil
    }
}

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
        /// Mean cosine with the primary talker over its scored speech frames (−1…1), nil when none was scored.
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
    /// `whole-file` (the whole recording analysed before anything is written) or `streaming`.
    public var analysis = "whole-file"
    /// Streaming: the largest lag of the output behind the input observed, seconds (≤ `lookaheadSeconds`).
    public var measuredLagSeconds: Double?
    /// Wall-clock seconds of reading, analysis and redaction.
    public var processingSeconds: Double
    /// Every removed stretch, in time order.
    public var segments: [Segment]

    enum CodingKeys: String, CodingKey {
        case format, version, tool, input, output, mode, method, overlap, segments
        case primaryDecision = "primary_decision", primaryConfidence = "primary_confidence"
        case attenuationDB = "attenuation_db", durationSeconds = "duration_seconds", speechSeconds = "speech_seconds"
        case keptSpeechSeconds = "kept_speech_seconds", removedSeconds = "removed_seconds"
        case lookaheadSeconds = "lookahead_seconds", processingSeconds = "processing_seconds", analysis
        case measuredLagSeconds = "measured_lag_seconds"
    }

    /// Builds the report of a plan.
    public init(plan: RedactionPlan, input: String, output: String, mode: String, method: String, overlap: String,
                attenuationDB: Double, duration: Double, processingSeconds: Double, tool: String) {
        var log = RedactionLogBuilder()
        for f in plan.decisions.indices { log.add(decision: plan.decisions[f], redacted: plan.redacted[f], score: plan.primaryScore[f]) }
        self.init(log: log.finished(), input: input, output: output, mode: mode, primaryDecision: plan.primaryDecision,
                  primaryConfidence: plan.primaryConfidence, method: method, overlap: overlap, attenuationDB: attenuationDB,
                  duration: duration, lookaheadSeconds: Double(plan.lookaheadFrames) / 100, processingSeconds: processingSeconds, tool: tool)
    }

    /// Builds a report from a finished log (whole-file or streaming).
    public init(log: RedactionLog, input: String, output: String, mode: String, primaryDecision: String, primaryConfidence: Double,
                method: String, overlap: String, attenuationDB: Double, duration: Double, lookaheadSeconds: Double,
                processingSeconds: Double, tool: String) {
        self.tool = tool
        self.input = input
        self.output = output
        self.mode = mode
        self.primaryDecision = primaryDecision
        self.primaryConfidence = primaryConfidence
        self.method = method
        self.overlap = overlap
        self.attenuationDB = attenuationDB
        durationSeconds = duration
        speechSeconds = Double(log.speechFrames) / 100
        keptSpeechSeconds = Double(log.keptSpeechFrames) / 100
        removedSeconds = Double(log.removedFrames) / 100
        self.lookaheadSeconds = lookaheadSeconds
        self.processingSeconds = processingSeconds
        segments = log.segments
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
