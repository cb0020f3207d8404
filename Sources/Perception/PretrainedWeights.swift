public import Foundation

/// The pretrained weight files VoiceGuard runs, where they are looked for, and their pinned digests.
///
/// `scripts/fetch-models` puts them in `Models/pretrained/` of the source tree (`make deps` runs it); a binary
/// finds them in the folder the `VOICEGUARD_MODELS` environment variable names (only there, when it is set: no
/// silent fallback to another copy), else in `share/voiceguard/models` beside the executable's folder (an installed
/// layout) or `Models/pretrained` in the executable's folder or any folder above it (a build inside the source tree). The digests here must equal `Models/pretrained/SHA256SUMS`
/// (a test checks that).
public enum PretrainedWeights: String, Sendable, CaseIterable {
    /// Silero VAD 6.2.3 (MIT), `silero_vad_16k.safetensors` from the PyPI wheel, unchanged.
    case sileroVAD = "silero-vad-16k.safetensors"
    /// Resemblyzer 0.1.4 (Apache-2.0) GE2E speaker encoder, converted from `pretrained.pt` by
    /// `scripts/convert-resemblyzer` (encoder tensors only, float32).
    case resemblyzerGE2E = "resemblyzer-ge2e.safetensors"

    /// File name.
    public var fileName: String { rawValue }

    /// Pinned SHA-256 (lowercase hex) of the file.
    public var sha256: String {
        switch self {
        case .sileroVAD: "c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1"
        case .resemblyzerGE2E: "ccf963291b45c97faa858b5d0f380b90c9355a49c56a2b616025e0cebdf6bff6"
        }
    }

    /// Environment variable naming a folder that holds the weight files.
    public static let environmentVariable = "VOICEGUARD_MODELS"

    /// Folders searched, in order (see the type's documentation).
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment,
                                         executable: URL? = Bundle.main.executableURL) -> [String] {
        var folders: [String] = []
        if let explicit = environment[environmentVariable], !explicit.isEmpty { return [explicit] }
        if let executable {
            var folder = executable.resolvingSymlinksInPath().deletingLastPathComponent()
            folders.append(folder.deletingLastPathComponent().appendingPathComponent("share/voiceguard/models").path)
            for _ in 0..<8 {
                folders.append(folder.appendingPathComponent("Models/pretrained").path)
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        return folders
    }

    /// The path of this file: the first search folder that holds it.
    /// - Throws: `PerceptionError.weightsMissing` listing the folders searched.
    public func locate(in folders: [String] = PretrainedWeights.searchDirectories()) throws(PerceptionError) -> String {
        for folder in folders {
            let path = (folder as NSString).appendingPathComponent(fileName)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw .weightsMissing(file: fileName, searched: folders)
    }

    /// Opens this file (located as above, or at `path`) and verifies its digest.
    public func open(path: String? = nil) throws(PerceptionError) -> SafeTensors {
        let file: String
        if let path { file = path } else { file = try locate() }
        return try SafeTensors(path: file, sha256: sha256)
    }
}
