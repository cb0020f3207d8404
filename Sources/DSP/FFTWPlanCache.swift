import CFFTW
import Synchronization

/// FFTW's planner (and plan destruction) is not thread-safe; every call into it goes through
/// this lock. Executing an existing plan on new arrays needs no lock.
let fftwPlannerLock = Mutex<Void>(())

/// An immutable FFTW single-precision plan, shared across threads for new-array execution.
final class FFTWPlan: Sendable {
    nonisolated(unsafe) let plan: fftwf_plan

    init(plan: fftwf_plan) { self.plan = plan }

    deinit {
        let p = plan
        fftwPlannerLock.withLock { _ in fftwf_destroy_plan(p) }
    }
}

/// Process-wide cache of real-FFT plans keyed by size, direction and alignment.
///
/// Lock order: cache → planner. Plans are never evicted, so no plan's `deinit` runs inside the
/// cache lock.
enum FFTWPlanCache {
    enum Direction: Hashable { case forward, inverse }

    struct Key: Hashable {
        var size: Int
        var direction: Direction
        var aligned: Bool
    }

    private static let plans = Mutex<[Key: FFTWPlan]>([:])

    static func plan(size: Int, direction: Direction, aligned: Bool) -> FFTWPlan {
        let key = Key(size: size, direction: direction, aligned: aligned)
        return plans.withLock { cache in
            if let plan = cache[key] { return plan }
            let plan = fftwPlannerLock.withLock { _ in makePlan(key) }
            cache[key] = plan
            return plan
        }
    }

    /// Must be called with the planner lock held.
    private static func makePlan(_ key: Key) -> FFTWPlan {
        let n = key.size
        let real = fftwf_alloc_real(n)!
        let complex = fftwf_alloc_complex(n / 2 + 1)!
        defer { fftwf_free(real); fftwf_free(complex) }
        var flags = UInt32(FFTW_ESTIMATE)
        if !key.aligned { flags |= UInt32(FFTW_UNALIGNED) }
        let p: fftwf_plan? = switch key.direction {
        case .forward: fftwf_plan_dft_r2c_1d(Int32(n), real, complex, flags)
        case .inverse: fftwf_plan_dft_c2r_1d(Int32(n), complex, real, flags)
        }
        guard let p else { fatalError("FFTW could not plan a real FFT of size \(n)") }
        return FFTWPlan(plan: p)
    }

    /// The FFTW library version string, e.g. "fftw-3.3.10-sse2-avx".
    static var libraryVersion: String { String(cString: voiceguard_fftwf_version()) }
}
