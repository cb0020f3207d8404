import Foundation

/// Kaldi data folders: `wav.scp` (`utterance-or-recording-id path`), `utt2spk` (→ `speaker`), and optionally
/// `segments` (`utterance recording start end`, seconds → `recording`, `start`, `end` attributes), `text`,
/// `spk2gender` (→ `gender`) and `utt2lang` (→ `language`). Paths relative to the folder are resolved against it.
/// Piped `wav.scp` entries (commands ending in `|`) are refused with the line: decode them to files first.
public enum KaldiManifest {
    /// Reads a Kaldi data folder as a manifest (ids in `wav.scp` / `segments` order).
    /// - Throws: `ManifestError` naming the file and line.
    public static func read(folder: String) throws(ManifestError) -> Manifest {
        let scp = folder + "/wav.scp"
        let wav = try table(scp, minimumFields: 2)
        var audio: [String: (path: String, line: Int)] = [:]
        for (line, fields) in wav {
            let rest = fields.dropFirst().joined(separator: " ")
            if rest.hasSuffix("|") {
                throw .badRecord(path: scp, line: line, detail: "piped entry (\(rest)); expected a file path — decode the audio to files first")
            }
            audio[fields[0]] = (rest, line)
        }
        let speakers = try optionalMap(folder + "/utt2spk")
        let texts = try optionalMap(folder + "/text", keepRest: true)
        let genders = try optionalMap(folder + "/spk2gender")
        let languages = try optionalMap(folder + "/utt2lang")
        var rows: [(line: Int, fields: [String: String])] = []
        let segmentsPath = folder + "/segments"
        if FileManager.default.fileExists(atPath: segmentsPath) {
            for (line, f) in try table(segmentsPath, minimumFields: 4) {
                guard let recording = audio[f[1]] else { throw .badRecord(path: segmentsPath, line: line, detail: "recording \(f[1]) is not in wav.scp") }
                guard let start = Double(f[2]), let end = Double(f[3]), end > start || end < 0 else {
                    throw .badRecord(path: segmentsPath, line: line, detail: "start/end '\(f[2]) \(f[3])'; expected seconds with end > start")
                }
                var fields = ["id": f[0], "path": recording.path, "recording": f[1], "start": String(start), "end": String(end)]
                fill(&fields, utterance: f[0], speakers: speakers, texts: texts, genders: genders, languages: languages)
                rows.append((line, fields))
            }
        } else {
            for (line, fields) in wav {
                var row = ["id": fields[0], "path": audio[fields[0]]!.path]
                fill(&row, utterance: fields[0], speakers: speakers, texts: texts, genders: genders, languages: languages)
                rows.append((line, row))
            }
        }
        var columns = ["id", "path"]
        if FileManager.default.fileExists(atPath: segmentsPath) { columns += ["recording", "start", "end"] }
        if speakers != nil { columns.append("speaker") }
        if genders != nil { columns.append("gender") }
        if languages != nil { columns.append("language") }
        if texts != nil { columns.append("text") }
        return try Manifest.make(path: scp, columns: columns, rows: rows)
    }

    private static func fill(_ fields: inout [String: String], utterance: String, speakers: [String: String]?, texts: [String: String]?,
                             genders: [String: String]?, languages: [String: String]?) {
        if let s = speakers?[utterance] {
            fields["speaker"] = s
            if let g = genders?[s] { fields["gender"] = g }
        }
        if let t = texts?[utterance] { fields["text"] = t }
        if let l = languages?[utterance] { fields["language"] = l }
    }

    /// Whitespace-separated lines (blank lines skipped) with at least `minimumFields` fields.
    static func table(_ path: String, minimumFields: Int) throws(ManifestError) -> [(line: Int, fields: [String])] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .notFound(path: path) }
        var out: [(Int, [String])] = []
        for (i, text) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count >= minimumFields else {
                throw .badRecord(path: path, line: i + 1, detail: "\(fields.count) fields; expected at least \(minimumFields)")
            }
            out.append((i + 1, fields))
        }
        return out
    }

    static func optionalMap(_ path: String, keepRest: Bool = false) throws(ManifestError) -> [String: String]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var map: [String: String] = [:]
        for (_, f) in try table(path, minimumFields: 2) { map[f[0]] = keepRest ? f.dropFirst().joined(separator: " ") : f[1] }
        return map
    }
}
