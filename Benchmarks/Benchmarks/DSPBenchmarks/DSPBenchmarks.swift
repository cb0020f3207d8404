import Benchmark
import Foundation
import VoiceGuard

// Audio: the committed real speech fixture (Allison Smith, asterisk-core-sounds-en, 8 kHz,
// CC-BY-SA-3.0) resampled with soxr VHQ and repeated to 60 s. Throughput is reported as the
// custom metric `xRT` = seconds of audio processed per second of wall time (× real time).

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let speechFixture = repositoryRoot.appendingPathComponent("Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav").path

/// 60 s of real speech at `rate` Hz (mono), built once per rate.
func speech(rate: Double, seconds: Double = 60) -> [Float] {
    let source = try! AudioFileReader.read(path: speechFixture)
    let resampled = try! Resampler.resample(source, to: rate, quality: .veryHigh).samples
    let total = Int(rate * seconds)
    return (0..<total).map { resampled[$0 % resampled.count] }
}

let realTime = BenchmarkMetric.custom("xRT (× real time)", polarity: .prefersLarger, useScalingFactor: false)

/// Runs `body` `benchmark.scaledIterations` times and records × real time for `audioSeconds` per run.
func measureRealTime(_ benchmark: Benchmark, audioSeconds: Double, _ body: () throws -> Void) rethrows {
    let clock = ContinuousClock()
    for _ in benchmark.scaledIterations {
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(realTime, Int(audioSeconds / max(seconds, 1e-9)))
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, realTime],
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 100_000)

    // MARK: FFT
    for size in [512, 1024, 4096] {
        Benchmark("FFT r2c \(size)", configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal])) { benchmark in
            let fft = RealFFT(size: size)
            let input = RealFFT.allocate(size)
            let output = RealFFT.allocate(size + 2)
            for i in 0..<size { input[i] = Float(i % 17) * 0.01 }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                fft.forward(input.baseAddress!, output.baseAddress!)
                blackHole(output[1])
            }
            benchmark.stopMeasurement()
            RealFFT.deallocate(input)
            RealFFT.deallocate(output)
        }
    }

    // MARK: STFT and cepstra on 16 kHz speech
    let speech16k = speech(rate: 16_000)
    Benchmark("STFT 16 kHz 60 s (512/128 Hann)") { benchmark in
        let stft = try STFT(STFTConfiguration(frameLength: 512, hop: 128))
        measureRealTime(benchmark, audioSeconds: 60) {
            var sink: Float = 0
            speech16k.withUnsafeBufferPointer { x in stft.forEachFrame(of: x) { _, s in sink += s[2] } }
            blackHole(sink)
        }
    }
    // Same work on 1/60 of the audio: equal malloc counts show no allocation per frame.
    Benchmark("STFT 16 kHz 1 s (512/128 Hann)") { benchmark in
        let stft = try STFT(STFTConfiguration(frameLength: 512, hop: 128))
        let oneSecond = Array(speech16k[0..<16_000])
        measureRealTime(benchmark, audioSeconds: 1) {
            var sink: Float = 0
            oneSecond.withUnsafeBufferPointer { x in stft.forEachFrame(of: x) { _, s in sink += s[2] } }
            blackHole(sink)
        }
    }
    Benchmark("LFCC ASVspoof 2019 (60 dims) 16 kHz 60 s") { benchmark in
        let extractor = try CepstralExtractor(.asvspoof2019LFCC(sampleRate: 16_000))
        try measureRealTime(benchmark, audioSeconds: 60) { blackHole(try extractor.extract(speech16k)) }
    }
    Benchmark("LFCC ASVspoof 2019 (60 dims) 16 kHz 1 s") { benchmark in
        let extractor = try CepstralExtractor(.asvspoof2019LFCC(sampleRate: 16_000))
        let oneSecond = Array(speech16k[0..<16_000])
        try measureRealTime(benchmark, audioSeconds: 1) { blackHole(try extractor.extract(oneSecond)) }
    }
    Benchmark("MFCC (39 dims) 16 kHz 60 s") { benchmark in
        let extractor = try CepstralExtractor(.mfcc(sampleRate: 16_000))
        try measureRealTime(benchmark, audioSeconds: 60) { blackHole(try extractor.extract(speech16k)) }
    }

    // MARK: Decoding (libsndfile), 60 s files written once to a temporary folder
    let folder = NSTemporaryDirectory() + "voiceguard-bench-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let speech48k = speech(rate: 48_000)
    let stereo48k = AudioBuffer(sampleRate: 48_000, channels: [speech48k, Array(speech48k.reversed())])
    let mono16k = AudioBuffer(mono: speech16k, sampleRate: 16_000)
    let files: [(String, AudioBuffer, AudioFormat)] = [
        ("WAV 16-bit 16 kHz mono", mono16k, AudioFormat(container: .wav, encoding: .pcm16)),
        ("FLAC 16-bit 16 kHz mono", mono16k, AudioFormat(container: .flac, encoding: .pcm16)),
        ("WAV 16-bit 48 kHz stereo", stereo48k, AudioFormat(container: .wav, encoding: .pcm16)),
        ("FLAC 16-bit 48 kHz stereo", stereo48k, AudioFormat(container: .flac, encoding: .pcm16)),
    ]
    for (name, audio, format) in files {
        let path = folder + "/" + name.replacingOccurrences(of: " ", with: "_") + "." + format.container.preferredExtension
        try? AudioFileWriter.write(audio, to: path, format: format, options: .init(overwrite: true))
        Benchmark("decode \(name) 60 s") { benchmark in
            try measureRealTime(benchmark, audioSeconds: 60) {
                let reader = try AudioFileReader(path: path)
                var sink: Float = 0
                try reader.forEachBlock { (block: UnsafeBufferPointer<Float>) in sink += block[0] }
                blackHole(sink)
            }
        }
    }

    // MARK: Resampling 48 kHz → 16 kHz (soxr), streaming in 4096-frame blocks
    for quality in [ResamplerQuality.high, .veryHigh] {
        Benchmark("resample 48k→16k \(quality.rawValue) mono 60 s") { benchmark in
            var output: [Float] = []
            output.reserveCapacity(16_000 * 61)
            try measureRealTime(benchmark, audioSeconds: 60) {
                let r = try Resampler(inputRate: 48_000, outputRate: 16_000, channelCount: 1, quality: quality)
                output.removeAll(keepingCapacity: true)
                try speech48k.withUnsafeBufferPointer { x in
                    var offset = 0
                    while offset < x.count {
                        let end = min(x.count, offset + 4_096)
                        try r.process(UnsafeBufferPointer(rebasing: x[offset..<end]), appendingTo: &output)
                        offset = end
                    }
                }
                try r.flush(appendingTo: &output)
                blackHole(output.count)
            }
        }
    }
}
