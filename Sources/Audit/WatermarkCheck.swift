import AudioCore
import AudioIO
import Foundation
public import Watermark

/// The `watermark` check: marks each recording (in memory) with a payload under a key, optionally passes the marked
/// copy through an attack command (a real encoder chain, e.g. `Corpora/attack mp3-64k {in} {out}`), and detects:
/// `detected` and `payload_correct` on the marked copy, `false_positive` on the unmarked original.
public struct WatermarkCheck: AuditCheck {
    /// The key.
    public let key: WatermarkKey
    /// The payload embedded.
    public let payload: Payload
    /// Embedding strength (1 = default).
    public let strength: Double
    /// Shell command applied to the marked copy: `{in}` is replaced by a WAV file of it, `{out}` by where the attacked
    /// audio must be written (any format libsndfile reads). Nil: no attack.
    public let attackCommand: String?

    /// Creates the check.
    public init(key: WatermarkKey, payload: Payload, strength: Double = 1, attackCommand: String? = nil) {
        self.key = key
        self.payload = payload
        self.strength = strength
        self.attackCommand = attackCommand
    }

    /// `watermark`.
    public var name: String { "watermark" }
    /// Key fingerprint, payload and attack.
    public var versions: [String: String] { ["key_fingerprint": key.fingerprint, "payload": payload.hex, "attack": attackCommand ?? "none"] }
    /// None beyond id and path.
    public var requiredColumns: [String] { [] }

    /// Embeds, attacks, detects; and detects on the original.
    public func run(_ item: AuditItem) throws -> AuditItemResult {
        let audio = try item.readAudio()
        var marked = try SpreadSpectrumEmbedder(key: key, payload: payload, strength: strength).embed(audio)
        if let attackCommand { marked = try Self.attack(marked, command: attackCommand) }
        let detector = WatermarkDetector(key: key, payloadSize: payload.size, strength: strength)
        let found = try detector.detect(marked)
        let falseAlarms = try detector.detect(audio)
        let best = found.min { $0.pValue < $1.pValue }
        return AuditItemResult(id: item.id, check: name, score: best.map { -log10(max($0.pValue, 1e-300)) }, label: "marked",
                               values: ["detected": found.isEmpty ? 0 : 1,
                                        "payload_correct": found.contains { $0.payload == payload.hex } ? 1 : 0,
                                        "false_positive": falseAlarms.isEmpty ? 0 : 1])
    }

    /// Runs the attack command on a temporary WAV copy.
    static func attack(_ audio: AudioBuffer, command: String) throws -> AudioBuffer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vg-attack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/in.wav", output = dir + "/out.wav"
        try AudioFileWriter.write(audio, to: input, format: AudioFormat(container: .wav, encoding: .float32))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command.replacingOccurrences(of: "{in}", with: input).replacingOccurrences(of: "{out}", with: output)]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AuditError.invalidSetting(detail: "attack command failed (status \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self).suffix(300))")
        }
        return try AudioFileReader.read(path: output)
    }
}
