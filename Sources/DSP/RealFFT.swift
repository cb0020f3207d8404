import CFFTW

/// Real-input discrete Fourier transform of a fixed size, backed by FFTW (single precision).
///
/// The spectrum of `size` real samples is `size / 2 + 1` complex bins stored interleaved
/// (`re0, im0, re1, im1, …`, i.e. `size + 2` floats); bin `k` is frequency `k · rate / size` Hz.
/// The forward transform is unnormalised: X[k] = Σ x[n]·e^(−2πi·kn/size).
///
/// Plans come from a process-wide cache (planning is serialised); transforms are lock-free and
/// safe from any number of threads. Buffers of any alignment work: aligned buffers (e.g. from
/// `RealFFT.allocate`) use SIMD-aligned plans, others fall back to unaligned plans.
public struct RealFFT: Sendable {
    /// Transform length in samples, ≥ 2 and even.
    public let size: Int
    /// Number of complex bins, `size / 2 + 1`.
    public var binCount: Int { size / 2 + 1 }

    // Plans are fetched once here, so transforms never touch a lock.
    private let forwardAligned: FFTWPlan
    private let forwardUnaligned: FFTWPlan
    private let inverseAligned: FFTWPlan
    private let inverseUnaligned: FFTWPlan

    /// Creates a transform of `size` samples (planning is cached; creating many is cheap).
    /// - Precondition: `size` is even and ≥ 2.
    public init(size: Int) {
        precondition(size >= 2 && size % 2 == 0, "FFT size must be even and at least 2")
        self.size = size
        forwardAligned = FFTWPlanCache.plan(size: size, direction: .forward, aligned: true)
        forwardUnaligned = FFTWPlanCache.plan(size: size, direction: .forward, aligned: false)
        inverseAligned = FFTWPlanCache.plan(size: size, direction: .inverse, aligned: true)
        inverseUnaligned = FFTWPlanCache.plan(size: size, direction: .inverse, aligned: false)
    }

    /// Forward transform of `size` samples into `binCount` interleaved complex bins.
    /// - Parameters:
    ///   - input: `size` real samples (not modified).
    ///   - output: room for `size + 2` floats.
    public func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        let inPtr = UnsafeMutablePointer(mutating: input)
        let aligned = fftwf_alignment_of(inPtr) == 0 && fftwf_alignment_of(output) == 0
        let plan = aligned ? forwardAligned : forwardUnaligned
        output.withMemoryRebound(to: fftwf_complex.self, capacity: binCount) { out in
            fftwf_execute_dft_r2c(plan.plan, inPtr, out)
        }
    }

    /// Inverse transform of `binCount` interleaved complex bins into `size` real samples,
    /// unnormalised (the result is `size` times the original signal).
    /// - Parameters:
    ///   - input: `size + 2` floats; **overwritten** (FFTW's complex-to-real destroys its input).
    ///   - output: room for `size` floats.
    public func inverseUnnormalized(destroying input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        let aligned = fftwf_alignment_of(input) == 0 && fftwf_alignment_of(output) == 0
        let plan = aligned ? inverseAligned : inverseUnaligned
        input.withMemoryRebound(to: fftwf_complex.self, capacity: binCount) { inp in
            fftwf_execute_dft_c2r(plan.plan, inp, output)
        }
    }

    /// Forward transform of an array (convenience; allocates the result).
    /// - Precondition: `signal.count == size`.
    public func forward(_ signal: [Float]) -> [Float] {
        precondition(signal.count == size, "signal length must equal the FFT size")
        var out = [Float](repeating: 0, count: size + 2)
        signal.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in forward(s.baseAddress!, o.baseAddress!) }
        }
        return out
    }

    /// Inverse transform of an interleaved spectrum, normalised so `inverse(forward(x)) == x`.
    /// - Precondition: `spectrum.count == size + 2`.
    public func inverse(_ spectrum: [Float]) -> [Float] {
        precondition(spectrum.count == size + 2, "spectrum must hold size/2+1 complex bins")
        var scratch = spectrum
        var out = [Float](repeating: 0, count: size)
        scratch.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in inverseUnnormalized(destroying: s.baseAddress!, o.baseAddress!) }
        }
        let scale = 1 / Float(size)
        for i in out.indices { out[i] *= scale }
        return out
    }

    /// Allocates `count` floats with FFTW's SIMD alignment, zero-filled. Free with `deallocate(_:)`.
    public static func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let p = fftwf_alloc_real(max(1, count))!
        p.initialize(repeating: 0, count: max(1, count))
        return UnsafeMutableBufferPointer(start: p, count: count)
    }

    /// Frees a buffer from `allocate(_:)`.
    public static func deallocate(_ buffer: UnsafeMutableBufferPointer<Float>) {
        fftwf_free(buffer.baseAddress)
    }

    /// The FFTW version string, e.g. "fftw-3.3.10-sse2-avx".
    public static var libraryVersion: String { FFTWPlanCache.libraryVersion }
}
