// swift-tools-version: 6.1
// VoiceGuard benchmarks (package-benchmark), kept out of the root package so the main build
// and CI stay lean. Run from this folder: swift package benchmark --no-progress --format markdown
import PackageDescription

let package = Package(
    name: "VoiceGuardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "VoiceGuard", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DSPBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VoiceGuard", package: "VoiceGuard"),
            ],
            path: "Benchmarks/DSPBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
