import Foundation
import Testing

/// End-to-end runs of `voiceguard info` and `convert` on files made by the real tools
/// (sox, ffmpeg, lame, opusenc, oggenc). The encoders are installed by scripts/install-deps.
@Suite("voiceguard info and convert", .serialized)
struct InfoConvertTests {
    /// A 1.5 s 16-bit stereo source made by sox at 44.1 kHz: 440 Hz + 1 kHz, −6 dBFS peak-ish.
    static func makeSource(_ dir: Scratch) throws -> String {
        let path = dir.file("source.wav")
        let r = try CLI.shell("sox -n -r 44100 -c 2 -b 16 \(CLI.quote(path)) synth 1.5 sine 440 sine 1000 gain -6")
        try #require(r.status == 0, "sox failed: \(r.stderr)")
        return path
    }

    static let encoders: [(String, String, Int)] = [
        ("wav", "sox {in} {out}", 44_100),
        ("flac", "sox {in} {out}", 44_100),
        ("ogg", "oggenc -Q -q 4 -o {out} {in}", 44_100),
        ("opus", "opusenc --quiet --bitrate 64 {in} {out}", 48_000),
        ("mp3", "lame --quiet -b 128 {in} {out}", 44_100),
        ("m4a-as.mp3", "ffmpeg -loglevel error -y -i {in} -c:a libmp3lame -b:a 96k -f mp3 {out}", 44_100),
    ]

    @Test("info reads files made by the real encoders", arguments: encoders)
    func infoOnRealEncoders(ext: String, command: String, rate: Int) throws {
        let dir = Scratch()
        let source = try Self.makeSource(dir)
        let out = dir.file("x.\(ext)")
        let cmd = command.replacingOccurrences(of: "{in}", with: CLI.quote(source)).replacingOccurrences(of: "{out}", with: CLI.quote(out))
        let made = try CLI.shell(cmd)
        try #require(made.status == 0, "\(cmd): \(made.stderr)")
        let r = try CLI.run(["info", "--json", out])
        #expect(r.status == 0, "\(r.stderr)")
        let file = try #require((r.json?["files"] as? [[String: Any]])?.first)
        #expect(file["sample_rate"] as? Int == rate)
        #expect(file["channels"] as? Int == 2)
        let seconds = try #require(file["duration_seconds"] as? Double)
        #expect(abs(seconds - 1.5) < 0.1, "duration \(seconds)")
        let peak = try #require(file["peak_dbfs"] as? Double)
        #expect(peak > -8 && peak < 0, "peak \(peak) dBFS")
        #expect(file["clipped_samples"] as? Int == 0)
    }

    @Test("sox … -t wav - | voiceguard convert - out.flac")
    func pipeIntoConvert() throws {
        let dir = Scratch()
        let source = try Self.makeSource(dir)
        let out = dir.file("out.flac")
        let r = try CLI.shell("sox \(CLI.quote(source)) -t wav - | \"$VG\" convert - \(CLI.quote(out))")
        #expect(r.status == 0, "\(r.stderr)")
        let info = try CLI.run(["info", "--json", out])
        let file = try #require((info.json?["files"] as? [[String: Any]])?.first)
        #expect(file["container"] as? String == "flac")
        #expect(file["frames"] as? Int == 66_150)
    }

    @Test("convert to stdout and back through a pipe, resampled and remixed", arguments: ["wav", "flac", "ogg", "opus", "mp3", "au"])
    func pipeOutOfConvert(format: String) throws {
        let dir = Scratch()
        let source = try Self.makeSource(dir)
        let r = try CLI.shell("\"$VG\" convert \(CLI.quote(source)) - --format \(format) --rate 48000 --channels 1 | \"$VG\" info --json -")
        #expect(r.status == 0, "\(r.stderr)")
        let file = try #require((r.json?["files"] as? [[String: Any]])?.first)
        #expect(file["sample_rate"] as? Int == 48_000 && file["channels"] as? Int == 1)
        let seconds = try #require(file["duration_seconds"] as? Double)
        #expect(abs(seconds - 1.5) < 0.1)
    }

    @Test("raw PCM on stdin with explicit rate, channels and encoding")
    func rawStdin() throws {
        let dir = Scratch()
        let source = try Self.makeSource(dir)
        let r = try CLI.shell("sox \(CLI.quote(source)) -t raw -e signed -b 16 -r 44100 -c 2 - | \"$VG\" info --json - --rate 44100 --channels 2 --encoding pcm16")
        #expect(r.status == 0, "\(r.stderr)")
        let file = try #require((r.json?["files"] as? [[String: Any]])?.first)
        #expect(file["frames"] as? Int == 66_150)
    }

    @Test("convert keeps the input's format by default and reports what it wrote")
    func convertSummary() throws {
        let dir = Scratch()
        let source = try Self.makeSource(dir)
        let out = dir.file("copy")
        let r = try CLI.run(["convert", "--json", source, out, "--rate", "16000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json?["container"] as? String == "wav")
        #expect(r.json?["encoding"] as? String == "pcm16")
        #expect(r.json?["frames_out"] as? Int == 24_000)
    }
}
