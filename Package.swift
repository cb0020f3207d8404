// swift-tools-version: 6.1
// VoiceGuard — a Swift toolkit that makes voice audio safer to produce, share and keep.
//
// Layers (dependencies point down only):
//   voiceguard (executable) → VoiceGuardCLI → VoiceGuard (umbrella)
//   → capability modules (later: Watermark, SynthDetect, Redaction, Audit)
//   → Corpus (validation, shortcut report) → Manifests, Evaluation, Learning (statistical models)
//   → Perception (pretrained networks) → DSP (FFTW, soxr) → AudioIO (libsndfile) → AudioCore
import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode (the default for
/// tools 6.x) with complete strict concurrency, plus upcoming features we opt into.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "VoiceGuard",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VoiceGuard", targets: ["VoiceGuard"]),
        .executable(name: "voiceguard", targets: ["voiceguard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
    ],
    targets: [
        // System libraries (Debian -dev packages, found through pkg-config).
        .systemLibrary(
            name: "CFFTW", pkgConfig: "fftw3",
            providers: [.apt(["libfftw3-dev"]), .brew(["fftw"])]),
        .systemLibrary(
            name: "CSndFile", pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"]), .brew(["libsndfile"])]),
        .systemLibrary(
            name: "CSoxr", pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"]), .brew(["libsoxr"])]),

        // Bottom layer: buffers, formats, errors, SIMD kernels, levels.
        .target(
            name: "AudioCore",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: swiftSettings),
        // Audio files and streams through libsndfile.
        .target(
            name: "AudioIO",
            dependencies: ["AudioCore", "CSndFile"],
            swiftSettings: swiftSettings),
        // FFT, STFT, windows, filterbanks, cepstra, resampling, channel mixing.
        .target(
            name: "DSP",
            dependencies: [
                "AudioCore", "CFFTW", "CSoxr",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: swiftSettings),
        // Corpus manifests (CSV through CSV.swift, JSONL): records with arbitrary attributes.
        .target(
            name: "Manifests",
            dependencies: ["AudioCore", .product(name: "CSV", package: "CSV.swift")],
            swiftSettings: swiftSettings),
        // Detection metrics: EER and friends.
        .target(
            name: "Evaluation",
            dependencies: ["AudioCore"],
            swiftSettings: swiftSettings),
        // Corpus validation and the trivial-cue (shortcut) report.
        .target(
            name: "Corpus",
            dependencies: ["AudioCore", "AudioIO", "DSP", "Manifests", "Evaluation",
                           .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: swiftSettings),
        // Statistical models fitted in Swift: logistic regression, calibration, GMMs, LDA.
        .target(
            name: "Learning",
            dependencies: ["AudioCore"],
            swiftSettings: swiftSettings),
        // Synthetic-speech detection: spectral features, classifier, calibration, models.
        .target(
            name: "SynthDetect",
            dependencies: ["AudioCore", "AudioIO", "DSP", "Manifests", "Evaluation", "Learning", "Perception"],
            swiftSettings: swiftSettings),
        // Keyed spread-spectrum watermark: embedding, detection, payload coding.
        .target(
            name: "Watermark",
            dependencies: ["AudioCore", "DSP"],
            swiftSettings: swiftSettings),
        // Pretrained networks run natively (Silero VAD, Resemblyzer's GE2E speaker encoder) and their weight files.
        .target(
            name: "Perception",
            dependencies: ["AudioCore", "DSP", .product(name: "RealModule", package: "swift-numerics")],
            // Optimised in debug builds too: the networks run ~10⁹ multiply-adds per test, 100× slower unoptimised.
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Privacy filter: voice activity, speaker embeddings, primary-talker decisions, redaction.
        .target(
            name: "Redaction",
            dependencies: ["AudioCore", "AudioIO", "DSP", "Manifests", "Evaluation", "Learning", "Perception"],
            swiftSettings: swiftSettings),
        // Batch audits over manifests: checks, resumable sharded runs, bias analysis, reports.
        .target(
            name: "Audit",
            dependencies: ["AudioCore", "AudioIO", "DSP", "Manifests", "Evaluation", "SynthDetect", "Watermark", "Redaction"],
            swiftSettings: swiftSettings),
        // Umbrella: `import VoiceGuard` brings every public module.
        .target(
            name: "VoiceGuard",
            dependencies: ["AudioCore", "AudioIO", "DSP", "Manifests", "Evaluation", "Corpus", "Learning", "Perception", "Watermark", "SynthDetect", "Redaction", "Audit"],
            swiftSettings: swiftSettings),
        // Command implementations (a library so tests can reach them).
        .target(
            name: "VoiceGuardCLI",
            dependencies: [
                "VoiceGuard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "voiceguard",
            dependencies: ["VoiceGuardCLI"],
            swiftSettings: swiftSettings),

        // Shared by the test targets: the repository root and a seeded generator.
        .target(
            name: "VoiceGuardTestSupport", dependencies: ["AudioCore"], path: "Tests/TestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AudioCoreTests", dependencies: ["AudioCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AudioIOTests", dependencies: ["AudioIO"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DSPTests", dependencies: ["VoiceGuardTestSupport", "DSP"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CorpusTests", dependencies: ["VoiceGuardTestSupport", "Corpus", "Manifests", "Evaluation"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "WatermarkTests", dependencies: ["VoiceGuardTestSupport", "Watermark", "AudioIO", "DSP"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SynthDetectTests", dependencies: ["VoiceGuardTestSupport", "SynthDetect", "Learning", "DSP", "Evaluation", "AudioIO", "Manifests"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PerceptionTests", dependencies: ["VoiceGuardTestSupport", "Perception", "AudioIO", "DSP"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RedactionTests", dependencies: ["VoiceGuardTestSupport", "Redaction", "Learning", "AudioIO", "DSP", "Manifests"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AuditTests", dependencies: ["VoiceGuardTestSupport", "Audit", "Evaluation", "Manifests"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CLITests", dependencies: ["VoiceGuardTestSupport", "VoiceGuardCLI", "AudioIO"],
            swiftSettings: swiftSettings),
    ]
)
