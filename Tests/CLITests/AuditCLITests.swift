import Foundation
import Testing
import VoiceGuardTestSupport

/// `voiceguard audit` end to end on the committed speech fixtures.
@Suite("voiceguard audit", .serialized)
struct AuditCLITests {
    static var speech: String { repositoryRoot + "/Corpora/fixtures/speech" }
    static let outputs = ["summary.json", "groups.csv", "failures.csv", "report.html"]

    /// The fixture manifest with every row `copies` times (distinct ids, same audio), plus a row whose audio is missing.
    static func manifest(in dir: Scratch, copies: Int) throws -> String {
        let text = try String(contentsOfFile: speech + "/manifest.csv", encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst()
        var out = [header]
        for k in 0..<copies {
            for line in lines {
                let comma = line.firstIndex(of: ",")!
                let rest = String(line[comma...]).replacingOccurrences(of: ",wide/", with: "," + speech + "/wide/")
                out.append("\(line[..<comma])-\(k)" + rest)
            }
        }
        let columns = header.split(separator: ",").count
        out.append("missing-audio,\(speech)/wide/none.flac,bonafide" + String(repeating: ",x", count: columns - 3))
        let path = dir.file("manifest.csv")
        try (out.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func same(_ a: String, _ b: String) throws -> [String] {
        try outputs.filter { try Data(contentsOf: URL(fileURLWithPath: a + "/" + $0)) != Data(contentsOf: URL(fileURLWithPath: b + "/" + $0)) }
    }

    @Test("a single run writes every output, records the unreadable item and goes on; 4 shards + merge are byte-identical")
    func shardsMerge() throws {
        let dir = Scratch()
        let manifest = try Self.manifest(in: dir, copies: 1)
        let common = ["--group-by", "language,gender", "--min-cell", "3", "--bootstrap", "200"]
        let single = try CLI.run(["audit", manifest, "--out", dir.file("single"), "-j", "2"] + common)
        #expect(single.status == 0, "\(single.stderr)")
        for name in Self.outputs + ["results.jsonl", "run.json"] { #expect(FileManager.default.fileExists(atPath: dir.file("single/" + name)), "\(name)") }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("single/summary.json")))) as? [String: Any]
        #expect(summary?["n_items"] as? Int == 25 && summary?["n_failed"] as? Int == 1)
        #expect(summary?["schema"] as? String == "voiceguard-audit-summary" && summary?["schema_version"] as? Int == 1)
        let html = try String(contentsOfFile: dir.file("single/report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("DET") && !html.contains("http://") && !html.contains("https://") && !html.contains("<script"))
        var shards: [String] = []
        for i in 0..<4 {
            let folder = dir.file("shard\(i)")
            let r = try CLI.run(["audit", manifest, "--out", folder, "--num-shards", "4", "--shard-index", "\(i)", "-j", "1"] + common)
            #expect(r.status == 0, "\(r.stderr)")
            shards.append(folder)
        }
        // A missing shard is refused.
        let partial = try CLI.run(["audit", "merge"] + shards.dropLast() + ["--out", dir.file("partial")] + common)
        #expect(partial.status == 65 && partial.stderr.contains("missing"), "\(partial.stderr)")
        let merged = try CLI.run(["audit", "merge"] + shards + ["--out", dir.file("merged")] + common)
        #expect(merged.status == 0, "\(merged.stderr)")
        let differing = try Self.same(dir.file("single"), dir.file("merged"))
        #expect(differing.isEmpty, "differ: \(differing)")
        // The Slurm environment picks the shard.
        let slurm = try CLI.shell("SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 \(CLI.quote(CLI.executable)) audit \(CLI.quote(manifest)) --out \(CLI.quote(dir.file("slurm"))) -q")
        #expect(slurm.status == 0, "\(slurm.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("slurm/run.json"))) == Data(contentsOf: URL(fileURLWithPath: dir.file("shard2/run.json"))))
    }

    @Test("kill -9 at random points, then --resume: the same outputs as an uninterrupted run, no item twice")
    func killAndResume() throws {
        let dir = Scratch()
        let manifest = try Self.manifest(in: dir, copies: 4)
        let common = ["--group-by", "language", "--bootstrap", "200", "-j", "1"]
        let full = try CLI.run(["audit", manifest, "--out", dir.file("full")] + common)
        #expect(full.status == 0, "\(full.stderr)")
        var rng = SplitMix64(seed: 99)
        var interrupted = 0
        for attempt in 0..<3 {
            let folder = dir.file("killed\(attempt)")
            let delay = 0.2 + Double(rng.next() % 1000) / 1000 * 1.8
            let args = (["audit", manifest, "--out", folder] + common).map(CLI.quote).joined(separator: " ")
            let killed = try CLI.shell("\(CLI.quote(CLI.executable)) \(args) -q & pid=$!; sleep \(delay); kill -9 $pid 2>/dev/null; wait $pid; exit 0")
            #expect(killed.status == 0)
            let before = (try? String(contentsOfFile: folder + "/results.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
            if before < 97 { interrupted += 1 }
            let resumed = try CLI.run(["audit", manifest, "--out", folder, "--resume"] + common)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let lines = try String(contentsOfFile: folder + "/results.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 97, "killed after \(delay) s with \(before) results; \(lines.count) lines after resuming")
            let differing = try Self.same(dir.file("full"), folder)
            #expect(differing.isEmpty, "\(differing), attempt \(attempt) (killed after \(delay) s, \(before) done)")
        }
        // The kills must have landed mid-run for the comparison to mean anything.
        #expect(interrupted >= 2, "only \(interrupted) of 3 kills interrupted the run")
        // Without --resume an existing run is never mixed with a new one.
        let again = try CLI.run(["audit", manifest, "--out", dir.file("full")] + common)
        #expect(again.status == 73 && again.stderr.contains("--resume"), "\(again.stderr)")
    }

    @Test("--fail-on sets exit status 1 and names the condition; bad conditions, columns and manifests are usage/data errors")
    func failOnAndErrors() throws {
        let dir = Scratch()
        let manifest = try Self.manifest(in: dir, copies: 1)
        let fail = try CLI.run(["audit", manifest, "--out", dir.file("a"), "--group-by", "language", "--min-cell", "3", "--bootstrap", "0",
                                "--fail-on", "eer>-1", "--fail-on", "disparity>100"])
        #expect(fail.status == 1 && fail.stderr.contains("eer>-1") && !fail.stderr.contains("disparity>100"), "\(fail.status) \(fail.stderr)")
        let pass = try CLI.run(["audit", "merge", dir.file("a"), "--out", dir.file("b"), "--bootstrap", "0", "--fail-on", "eer>0.9"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let bad = try CLI.run(["audit", manifest, "--out", dir.file("c"), "--fail-on", "eer"])
        #expect(bad.status == 64 && bad.stderr.contains("NAME OP NUMBER"), "\(bad.stderr)")
        let column = try CLI.run(["audit", manifest, "--out", dir.file("d"), "--group-by", "accent"])
        #expect(column.status == 64 && column.stderr.contains("accent"), "\(column.stderr)")
        try "id,path\nx,a.wav\nx,b.wav\n".write(toFile: dir.file("dup.csv"), atomically: true, encoding: .utf8)
        let dup = try CLI.run(["audit", dir.file("dup.csv"), "--out", dir.file("e")])
        #expect(dup.status == 65 && dup.stderr.contains("line 3"), "\(dup.stderr)")
    }

    @Test("Kaldi data folders, NeMo and Lhotse (gzipped) manifests are read (speakers from utt2spk, segments cut)")
    func otherFormats() throws {
        let dir = Scratch()
        let a = Self.speech + "/wide/bonafide/bf-allison-smith-en-to-listen-to-it.flac"
        try FileManager.default.createDirectory(atPath: dir.file("kaldi"), withIntermediateDirectories: true)
        try "rec1 \(a)\n".write(toFile: dir.file("kaldi/wav.scp"), atomically: true, encoding: .utf8)
        try "utt1 rec1 0.0 0.6\nutt2 rec1 0.5 1.1\nutt3 rec1 5.0 6.0\n".write(toFile: dir.file("kaldi/segments"), atomically: true, encoding: .utf8)
        try "utt1 spk1\nutt2 spk1\nutt3 spk2\n".write(toFile: dir.file("kaldi/utt2spk"), atomically: true, encoding: .utf8)
        try "spk1 f\nspk2 m\n".write(toFile: dir.file("kaldi/spk2gender"), atomically: true, encoding: .utf8)
        let kaldi = try CLI.run(["audit", dir.file("kaldi"), "--out", dir.file("k"), "--group-by", "gender", "--bootstrap", "0", "--json"])
        #expect(kaldi.status == 0, "\(kaldi.stderr)")
        #expect(kaldi.stdout.contains("\"n_failed\" : 1") && kaldi.stdout.contains("outside the recording"), "\(kaldi.stdout.prefix(600))")
        try "{\"audio_filepath\": \"\(a)\", \"duration\": 1.1, \"lang\": \"en\"}\n".write(toFile: dir.file("nemo.jsonl"), atomically: true, encoding: .utf8)
        let nemo = try CLI.run(["audit", dir.file("nemo.jsonl"), "--out", dir.file("n"), "--group-by", "lang", "--bootstrap", "0", "--json"])
        #expect(nemo.status == 0 && nemo.stdout.contains("\"n_items\" : 1"), "\(nemo.stderr)")
        // Lhotse: recordings + supervisions, gzipped.
        try "{\"id\": \"rec1\", \"sources\": [{\"type\": \"file\", \"channels\": [0], \"source\": \"\(a)\"}], \"sampling_rate\": 16000, \"num_samples\": 17600, \"duration\": 1.1}\n"
            .write(toFile: dir.file("lhotse_recordings.jsonl"), atomically: true, encoding: .utf8)
        try ("{\"id\": \"sup1\", \"recording_id\": \"rec1\", \"start\": 0.0, \"duration\": 0.9, \"speaker\": \"allison\", \"language\": \"en\", \"custom\": {\"label\": \"bonafide\"}}\n"
             + "{\"id\": \"sup2\", \"recording_id\": \"rec1\", \"start\": 0.2, \"duration\": 0.9, \"speaker\": \"allison\", \"language\": \"en\", \"custom\": {\"label\": \"bonafide\"}}\n")
            .write(toFile: dir.file("lhotse_supervisions.jsonl"), atomically: true, encoding: .utf8)
        #expect(try CLI.shell("cd \(CLI.quote(dir.path)) && gzip lhotse_recordings.jsonl lhotse_supervisions.jsonl").status == 0)
        let lhotse = try CLI.run(["audit", dir.file("lhotse_supervisions.jsonl.gz"), "--out", dir.file("l"), "--group-by", "language", "--bootstrap", "0", "--json", "--min-cell", "1"])
        #expect(lhotse.status == 0 && lhotse.stdout.contains("\"n_items\" : 2") && lhotse.stdout.contains("\"bonafide\" : 2"), "\(lhotse.stderr) \(lhotse.stdout.prefix(400))")
        try "rec1 sox x.wav -t wav - |\n".write(toFile: dir.file("kaldi/wav.scp"), atomically: true, encoding: .utf8)
        let piped = try CLI.run(["audit", dir.file("kaldi"), "--out", dir.file("p")])
        #expect(piped.status == 65 && piped.stderr.contains("wav.scp") && piped.stderr.contains("line 1"), "\(piped.stderr)")
    }

    @Test("watermark (with a real-encoder attack) and redaction checks plug in: per-item values, metrics, required columns")
    func watermarkAndRedaction() throws {
        let dir = Scratch()
        let mixtures = repositoryRoot + "/Corpora/fixtures/mixtures/manifest.csv"
        #expect(try CLI.run(["watermark", "gen-key", dir.file("k.key")]).status == 0)
        let attack = "python3 \(CLI.quote(repositoryRoot + "/Corpora/attack")) mp3-64k {in} {out} -y"
        let marked = try CLI.run(["audit", mixtures, "--check", "watermark", "--key", dir.file("k.key"), "--attack-command", attack,
                                  "--out", dir.file("w"), "--min-cell", "1", "--bootstrap", "0", "--json"])
        #expect(marked.status == 0, "\(marked.stderr)")
        let w = try JSONSerialization.jsonObject(with: Data(marked.stdout.utf8)) as? [String: Any]
        let wm = (w?["overall"] as? [String: Any])?["metrics"] as? [String: [String: Double]]
        #expect(wm?["detection_rate"]?["value"] == 1 && wm?["false_positive_rate"]?["value"] == 0, "\(marked.stdout.prefix(800))")
        let redaction = try CLI.run(["audit", mixtures, "--check", "redaction", "--mode", "enrolled", "--out", dir.file("r"),
                                     "--min-cell", "1", "--bootstrap", "0", "--json"])
        #expect(redaction.status == 0, "\(redaction.stderr)")
        let r = try JSONSerialization.jsonObject(with: Data(redaction.stdout.utf8)) as? [String: Any]
        let rm = (r?["overall"] as? [String: Any])?["metrics"] as? [String: [String: Double]]
        let leakage = rm?["leakage"]?["value"] ?? 1, retention = rm?["retention"]?["value"] ?? 0
        #expect(leakage < 0.35 && retention > 0.5, "leakage \(leakage), retention \(retention)")
        let noLabels = try CLI.run(["audit", Self.speech + "/manifest.csv", "--check", "redaction", "--out", dir.file("x")])
        #expect(noLabels.status == 64 && noLabels.stderr.contains("frame_labels"), "\(noLabels.stderr)")
    }
}
