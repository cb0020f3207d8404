@_exported public import AudioCore  // SplitMix64 for deterministic test data
import Foundation

/// The repository's root folder (fixtures live below it).
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
