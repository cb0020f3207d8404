import Foundation
import Testing

/// Runs the built `voiceguard` executable and external tools for end-to-end tests.
enum CLI {
    /// `voiceguard` next to the test bundle (SwiftPM puts every product in one folder).
    static var executable: String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: me).deletingLastPathComponent()
        // The test binary may sit inside a .xctest bundle directory on some platforms.
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("voiceguard").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }
    }

    /// Runs `voiceguard args…`.
    static func run(_ args: [String], in directory: String? = nil) throws -> Result {
        try #require(FileManager.default.isExecutableFile(atPath: executable),
                     "voiceguard not built at \(executable); run `swift build` first")
        return try shell(([executable] + args).map(quote).joined(separator: " "), in: directory)
    }

    /// Runs a bash command line (with pipefail); `$VG` is the voiceguard executable.
    static func shell(_ command: String, in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", command]
        var env = ProcessInfo.processInfo.environment
        env["VG"] = executable
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func toolExists(_ name: String) -> Bool {
        (try? shell("command -v \(name)").status) == 0
    }
}

/// A temporary folder for one test.
final class Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "voiceguard-cli-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    /// Hidden files in the folder: the temporary outputs a failed write must not leave behind.
    func hiddenFiles() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix(".") } }
}
