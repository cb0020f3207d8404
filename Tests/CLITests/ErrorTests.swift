import Foundation
import Testing
import VoiceGuardTestSupport

/// Bad inputs and misuse: the specific message and the sysexits-style status.
@Suite("voiceguard errors and exit codes", .serialized)
struct ErrorTests {
    func expectFailure(_ args: [String], status: Int32, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == status, "exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.stderr.contains(m), "stderr lacks '\(m)': \(r.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test("missing file → 66")
    func missing() throws {
        try expectFailure(["info", "/nonexistent/a.wav"], status: 66, mentions: ["/nonexistent/a.wav", "no such file"])
    }

    @Test("a directory → 66")
    func directory() throws {
        let dir = Scratch()
        try expectFailure(["info", dir.path], status: 66, mentions: ["is a directory"])
    }

    @Test("an empty file → 65")
    func empty() throws {
        let dir = Scratch()
        _ = FileManager.default.createFile(atPath: dir.file("e.wav"), contents: Data())
        try expectFailure(["info", dir.file("e.wav")], status: 65, mentions: ["e.wav", "empty", "byte 0"])
    }

    @Test("text renamed .wav → 65, naming what was found")
    func text() throws {
        let dir = Scratch()
        try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: dir.file("t.wav")))
        try expectFailure(["info", dir.file("t.wav")], status: 65, mentions: ["t.wav", "byte 0", "just some te"])
    }

    @Test("a truncated WAV → 65, with the byte offset and frame counts")
    func truncated() throws {
        let dir = Scratch()
        let path = dir.file("cut.wav")
        let made = try CLI.shell("sox -n -r 8000 -c 1 -b 16 \(CLI.quote(path)) synth 1 sine 300 && truncate -s 4044 \(CLI.quote(path))")
        try #require(made.status == 0)
        try expectFailure(["info", path], status: 65, mentions: ["byte 4044", "truncated", "8000 frames", "2000"])
    }

    @Test("a wrong header → 65")
    func wrongHeader() throws {
        let dir = Scratch()
        let path = dir.file("bad.wav")
        var bytes = Array("RIFF".utf8) + [36, 0, 0, 0] + Array("WAVE".utf8) + Array("fmt ".utf8) + [2, 0, 0, 0, 1, 0]
        bytes += Array("data".utf8) + [0, 0, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try expectFailure(["info", path], status: 65, mentions: ["byte 12", "malformed WAV header"])
    }

    @Test("unsupported raw parameters → 64")
    func rawParameters() throws {
        let r = try CLI.shell("head -c 1000 /dev/zero | \"$VG\" info - --rate 0 --channels 1 --encoding pcm16")
        #expect(r.status == 64 && r.stderr.contains("sample rate 0 Hz"), "\(r.status) \(r.stderr)")
        let r2 = try CLI.shell("head -c 1000 /dev/zero | \"$VG\" info - --rate 8000 --channels 1 --encoding pcm12")
        #expect(r2.status == 64 && r2.stderr.contains("pcm12"), "\(r2.status) \(r2.stderr)")
        let r3 = try CLI.shell("head -c 1000 /dev/zero | \"$VG\" info - --rate 8000")
        #expect(r3.status == 64 && r3.stderr.contains("--channels"), "\(r3.status) \(r3.stderr)")
    }

    @Test("non-finite or out-of-range --threshold and --strength → 64, before any work", arguments: ["nan", "inf", "1e308"])
    func numericOptions(value: String) throws {
        let sample = repositoryRoot + "/Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav"
        let detect = try CLI.run(["detect", sample, "--threshold", value])
        #expect(detect.status == 64 && detect.stderr.contains("--threshold"), "\(detect.status) \(detect.stderr)")
        #expect(detect.stderr.hasPrefix("voiceguard: error: "), "argument errors carry the tool's prefix: \(detect.stderr)")
        let audit = try CLI.run(["audit", repositoryRoot + "/Corpora/fixtures/speech/manifest.csv", "--threshold", value, "--out", "/nonexistent/x"])
        #expect(audit.status == 64 && audit.stderr.contains("--threshold"), "\(audit.status) \(audit.stderr)")
        for strength in [value, "0"] {
            let wm = try CLI.run(["watermark", "detect", sample, "--key", "/nonexistent.key", "--strength", strength])
            #expect(wm.status == 64 && wm.stderr.contains("--strength"), "\(wm.status) \(wm.stderr)")
        }
    }

    @Test("an existing output → 73 and is left untouched; -y replaces it")
    func outputExists() throws {
        let dir = Scratch()
        let src = dir.file("a.wav"), dst = dir.file("b.wav")
        _ = try CLI.shell("sox -n -r 8000 -c 1 \(CLI.quote(src)) synth 0.2 sine 300")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: dst))
        try expectFailure(["convert", src, dst], status: 73, mentions: ["b.wav", "exists", "--overwrite"])
        #expect(try String(contentsOfFile: dst, encoding: .utf8) == "keep me")
        #expect(try CLI.run(["convert", "-y", src, dst]).status == 0)
        try expectFailure(["convert", "-y", src, src], status: 73, mentions: ["input"])
    }

    @Test("a decode failure mid-stream leaves no output behind")
    func noPartialOutput() throws {
        let dir = Scratch()
        let src = dir.file("cut.aiff"), dst = dir.file("out.flac")
        // An AIFF whose sample data stops at a third of what its header declares.
        let made = try CLI.shell("sox -n -r 16000 -c 1 -b 16 \(CLI.quote(src)) synth 3 sine 300 && truncate -s 32000 \(CLI.quote(src))")
        try #require(made.status == 0)
        try expectFailure(["convert", src, dst], status: 65, mentions: ["cut.aiff", "truncated"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left == ["cut.aiff"], "left behind: \(left)")
    }

    @Test("usage errors → 64")
    func usage() throws {
        try expectFailure(["info"], status: 64, mentions: [])
        try expectFailure(["convert", "a.wav", "b.wav", "--format", "wma"], status: 64, mentions: ["wma"])
        try expectFailure(["frobnicate"], status: 64, mentions: [])
    }

    @Test("info continues past a bad file and reports it in JSON")
    func mixedBatch() throws {
        let dir = Scratch()
        let good = dir.file("g.wav")
        _ = try CLI.shell("sox -n -r 8000 -c 1 \(CLI.quote(good)) synth 0.2 sine 300")
        let r = try CLI.run(["info", "--json", "/nonexistent.wav", good])
        #expect(r.status == 66)
        let files = try #require(r.json?["files"] as? [[String: Any]])
        #expect(files.count == 2)
        #expect((files[0]["error"] as? [String: Any])?["code"] as? String == "not-found")
        #expect(files[1]["frames"] as? Int == 1_600)
    }
}

@Suite("voiceguard watermark", .serialized)
struct WatermarkCLITests {
    @Test("gen-key, embed through pipes, detect with --expect and --json; exit codes")
    func endToEnd() throws {
        let dir = Scratch()
        let key = dir.file("k.key"), sample = repositoryRoot + "/Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav"
        #expect(try CLI.run(["watermark", "gen-key", key]).status == 0)
        let again = try CLI.run(["watermark", "gen-key", key])
        #expect(again.status == 73 && again.stderr.contains("k.key"))
        let marked = dir.file("marked.wav")
        let embed = try CLI.shell("cat \(CLI.quote(sample)) | \"$VG\" watermark embed - - --key \(CLI.quote(key)) --payload deadbeef --short > \(CLI.quote(marked))")
        #expect(embed.status == 0, "\(embed.stderr)")
        let detect = try CLI.run(["watermark", "detect", marked, "--key", key, "--short", "--expect", "deadbeef", "--json"])
        #expect(detect.status == 0, "\(detect.stderr)")
        let files = try #require(detect.json?["files"] as? [[String: Any]])
        let detections = try #require(files.first?["detections"] as? [[String: Any]])
        #expect(detections.first?["payload"] as? String == "deadbeef")
        #expect((detections.first?["p_value"] as? Double ?? 1) <= 1e-9)
        #expect(try CLI.run(["watermark", "detect", marked, "--key", key, "--short", "--expect", "cafebabe"]).status == 1)
        #expect(try CLI.run(["watermark", "detect", sample, "--key", key, "--short"]).status == 1)
    }

    @Test("bad keys, bad hex and too-short audio get specific errors")
    func errors() throws {
        let dir = Scratch()
        let sample = repositoryRoot + "/Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav"
        let missing = try CLI.run(["watermark", "embed", sample, dir.file("o.wav"), "--key", dir.file("none"), "--payload", "00"])
        #expect(missing.status == 66 && missing.stderr.contains("gen-key"))
        let key = dir.file("k.key")
        _ = try CLI.run(["watermark", "gen-key", key])
        let hex = try CLI.run(["watermark", "embed", sample, dir.file("o.wav"), "--key", key, "--payload", "xyz"])
        #expect(hex.status == 64 && hex.stderr.contains("character 1 ('x')"))
        let short = try CLI.run(["watermark", "embed", sample, dir.file("o.wav"), "--key", key, "--payload", String(repeating: "a", count: 32)])
        #expect(short.status == 65 && short.stderr.contains("needs at least"), "\(short.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("o.wav")))
    }
}

