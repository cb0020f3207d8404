import AudioCore
import AudioIO
import Foundation
import Testing
import VoiceGuardTestSupport

/// `voiceguard redact` end to end, including the fail-closed error paths.
@Suite("voiceguard redact", .serialized)
struct RedactTests {
    static var fixtures: String { repositoryRoot + "/Corpora/fixtures/mixtures" }

    @Test("enrolled and dominant modes write redacted audio, a JSON log and RTTM; pipes work")
    func redact() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac", enroll = Self.fixtures + "/mix-test-0045.enroll.flac"
        let run = try CLI.run(["redact", input, dir.file("out.wav"), "--keep", enroll, "--log", dir.file("log.json"),
                               "--rttm", dir.file("out.rttm"), "--method", "noise"])
        #expect(run.status == 0, "\(run.stderr)")
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("log.json")))) as? [String: Any]
        #expect(log?["mode"] as? String == "enrolled" && log?["method"] as? String == "noise")
        let segments = log?["segments"] as? [[String: Any]] ?? []
        #expect(!segments.isEmpty && segments.allSatisfy { ["other_talker", "uncertain", "guard"].contains($0["reason"] as? String ?? "") })
        #expect((log?["lookahead_seconds"] as? Double ?? 0) > 0.25)
        let rttm = try String(contentsOfFile: dir.file("out.rttm"), encoding: .utf8)
        #expect(rttm.hasPrefix("SPEAKER mix-test-0045 1 "))
        let info = try CLI.run(["info", dir.file("out.wav"), "--json"])
        #expect(info.status == 0 && info.stdout.contains("16000"), "\(info.stderr)")
        let dominant = try CLI.run(["redact", input, dir.file("dominant.wav"), "--dominant", "--json"])
        #expect(dominant.status == 0, "\(dominant.stderr)")
        #expect(dominant.stdout.contains("\"mode\" : \"dominant\""))
        let piped = try CLI.shell("cat \(CLI.quote(input)) | \(CLI.quote(CLI.executable)) redact - - --keep \(CLI.quote(enroll)) -q > \(CLI.quote(dir.file("piped.wav")))")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect((try? Data(contentsOf: URL(fileURLWithPath: dir.file("piped.wav"))).count) ?? 0 > 100_000)
    }

    @Test("--streaming: redacted file and pipe outputs are identical, the log reports a look-ahead ≤ 0.5 s; a truncated input leaves no output")
    func streaming() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac", enroll = Self.fixtures + "/mix-test-0045.enroll.flac"
        let run = try CLI.run(["redact", input, dir.file("out.wav"), "--keep", enroll, "--streaming", "--log", dir.file("log.json")])
        #expect(run.status == 0, "\(run.stderr)")
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("log.json")))) as? [String: Any]
        #expect(log?["analysis"] as? String == "streaming")
        let lookahead = log?["lookahead_seconds"] as? Double ?? 9, lag = log?["measured_lag_seconds"] as? Double ?? 9
        #expect(lookahead <= 0.5 && lag <= lookahead + 1e-9, "look-ahead \(lookahead), lag \(lag)")
        let segments = (log?["segments"] as? [[String: Any]]) ?? []
        #expect(!segments.isEmpty)
        let piped = try CLI.shell("cat \(CLI.quote(input)) | \(CLI.quote(CLI.executable)) redact - - --streaming --keep \(CLI.quote(enroll)) -q > \(CLI.quote(dir.file("piped.wav")))")
        #expect(piped.status == 0, "\(piped.stderr)")
        let a = try AudioFileReader.read(path: dir.file("out.wav")), b = try AudioFileReader.read(path: dir.file("piped.wav"))
        #expect(a.frameCount > 200_000 && a.frameCount == b.frameCount)
        #expect(a.samples == b.samples)
        // Decoding fails part-way (after output has started): nothing is moved into place, no temporary file is left.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir.file("truncated.flac")))
        let bad = try CLI.run(["redact", dir.file("truncated.flac"), dir.file("bad.wav"), "--keep", enroll, "--streaming"])
        #expect(bad.status != 0)
        #expect(!FileManager.default.fileExists(atPath: dir.file("bad.wav")))
        let leftovers = try dir.hiddenFiles()
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test("fail closed under faults: a full disk (file-size limit) and a kill mid-stream leave no output and no temporary file")
    func faultInjection() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac", enroll = Self.fixtures + "/mix-test-0045.enroll.flac"
        #expect(try CLI.run(["convert", input, dir.file("in.wav")]).status == 0)
        let tool = CLI.quote(CLI.executable)
        // Out of space: writes past 100 KiB fail (EFBIG; SIGXFSZ is ignored), in both modes.
        for extra in ["", "--streaming"] {
            let full = try CLI.shell("ulimit -f 100; \(tool) redact \(CLI.quote(dir.file("in.wav"))) \(CLI.quote(dir.file("full.wav"))) --keep \(CLI.quote(enroll)) \(extra)")
            #expect(full.status == 74 || full.status == 73, "\(extra): status \(full.status) \(full.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("full.wav")))
        }
        // Cancellation: SIGTERM while the streaming filter waits for more input.
        let script = """
        cd \(CLI.quote(dir.path)) || exit 1
        mkfifo feed || exit 1
        ( \(tool) redact - killed.wav --streaming --keep \(CLI.quote(enroll)) < feed & echo $! > pid; wait $!; echo $? > status ) &
        exec 3> feed; head -c 200000 in.wav >&3; sleep 3; ls -a > during.txt; kill -TERM $(cat pid); sleep 1; exec 3>&-; wait
        """
        let killed = try CLI.shell(script)
        #expect(killed.status == 0, "\(killed.stderr)")
        let during = try String(contentsOfFile: dir.file("during.txt"), encoding: .utf8)
        #expect(during.contains(".killed.wav."), "no temporary output while running: \(during)")
        let status = try String(contentsOfFile: dir.file("status"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == "143", "exit status \(status)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("killed.wav")))
        let leftovers = try dir.hiddenFiles()
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test("missing or corrupt pretrained weights: a clear error naming the file and the fix, exit 66 / 65, no output")
    func missingWeights() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac"
        let empty = dir.file("no-models")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let missing = try CLI.shell("VOICEGUARD_MODELS=\(empty) \(CLI.executable) redact \(input) \(dir.file("out.wav")) --dominant")
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("silero-vad-16k.safetensors") && missing.stderr.contains("scripts/fetch-models"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
        // A corrupt copy is refused by its digest.
        let corrupt = dir.file("corrupt-models")
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        for name in ["silero-vad-16k.safetensors", "resemblyzer-ge2e.safetensors"] {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Models/pretrained/" + name))
            bytes[bytes.count - 10] ^= 1
            try bytes.write(to: URL(fileURLWithPath: corrupt + "/" + name))
        }
        let bad = try CLI.shell("VOICEGUARD_MODELS=\(corrupt) \(CLI.executable) redact \(input) \(dir.file("out.wav")) --dominant")
        #expect(bad.status == 65 && bad.stderr.contains("sha256"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
    }

    @Test("fail closed: bad input, bad enrollment, unwritable or existing output leave no unredacted file")
    func failClosed() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac", enroll = Self.fixtures + "/mix-test-0045.enroll.flac"
        // A truncated FLAC: decoding fails after reading starts.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: dir.file("truncated.flac")))
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("garbage.wav")))
        for bad in [dir.file("truncated.flac"), dir.file("garbage.wav")] {
            let r = try CLI.run(["redact", bad, dir.file("out.wav"), "--keep", enroll])
            #expect(r.status != 0, "accepted \(bad)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
        }
        let silent = try CLI.run(["convert", input, dir.file("short.wav")])
        #expect(silent.status == 0)
        let missing = try CLI.run(["redact", input, dir.file("out.wav"), "--keep", dir.file("nope.wav")])
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
        let misuse = try CLI.run(["redact", input, dir.file("out.wav")])
        #expect(misuse.status == 64 && misuse.stderr.contains("--keep"), "\(misuse.stderr)")
        // Unwritable destination: the error is specific and nothing is left behind.
        let unwritable = try CLI.run(["redact", input, dir.file("no/such/dir/out.wav"), "--keep", enroll])
        #expect(unwritable.status == 73, "\(unwritable.stderr)")
        let leftovers = try dir.hiddenFiles()
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        // An existing output is never replaced without -y, and the input is never the output.
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir.file("exists.wav")))
        let exists = try CLI.run(["redact", input, dir.file("exists.wav"), "--keep", enroll])
        let untouched = try String(contentsOfFile: dir.file("exists.wav"), encoding: .utf8)
        #expect(exists.status == 73 && untouched == "keep me", "\(exists.stderr)")
        let onto = try CLI.run(["redact", dir.file("short.wav"), dir.file("short.wav"), "--keep", enroll, "-y"])
        #expect(onto.status != 0)
    }

    @Test("a NaN sample in a float WAV: exit 65 naming the file, the sample frame and the time; no output, either mode")
    func nonFiniteInput() throws {
        let dir = Scratch()
        let input = Self.fixtures + "/mix-test-0045.flac", enroll = Self.fixtures + "/mix-test-0045.enroll.flac"
        var audio = try AudioFileReader.read(path: input)
        audio.samples[32_000] = .nan
        try AudioFileWriter.write(audio, to: dir.file("nan.wav"), format: AudioFormat(container: .wav, encoding: .float32))
        for extra in [["--dominant"], ["--keep", enroll], ["--dominant", "--streaming"]] {
            let r = try CLI.run(["redact", dir.file("nan.wav"), dir.file("out.wav")] + extra)
            #expect(r.status == 65, "\(extra): status \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("nan.wav") && r.stderr.contains("sample frame 32000") && r.stderr.contains("2.000 s"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
        }
        #expect(try dir.hiddenFiles().isEmpty)
        // As an enrollment clip too.
        let asEnrollment = try CLI.run(["redact", input, dir.file("out.wav"), "--keep", dir.file("nan.wav")])
        #expect(asEnrollment.status == 65 && asEnrollment.stderr.contains("nan.wav"), "\(asEnrollment.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.wav")))
    }
}
