import RealModule

/// Vector kernels over contiguous `Float` buffers, written so the optimiser can
/// vectorise them (reassociation is allowed through swift-numerics' `Relaxed`).
///
/// All kernels take raw buffer pointers: they allocate nothing and check no bounds
/// beyond the preconditions stated. Use them inside per-frame loops.
public enum Kernels {
    /// Σ a[i]·b[i] over the common length (`min(a.count, b.count)`).
    public static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        let n = min(a.count, b.count)
        guard n > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        var acc: Float = 0
        for i in 0..<n { acc = Relaxed.multiplyAdd(pa[i], pb[i], acc) }
        return acc
    }

    /// Σ x[i]² — the energy of a block.
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let p = x.baseAddress else { return 0 }
        var acc: Float = 0
        for i in 0..<x.count { acc = Relaxed.multiplyAdd(p[i], p[i], acc) }
        return acc
    }

    /// Σ x[i].
    public static func sum(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let p = x.baseAddress else { return 0 }
        var acc: Float = 0
        for i in 0..<x.count { acc = Relaxed.sum(acc, p[i]) }
        return acc
    }

    /// max |x[i]| (0 for an empty buffer).
    public static func peakMagnitude(_ x: UnsafeBufferPointer<Float>) -> Float {
        guard let p = x.baseAddress else { return 0 }
        var i = 0
        var m8 = SIMD8<Float>(repeating: 0)
        while i + 8 <= x.count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            m8 = pointwiseMax(m8, pointwiseMax(v, -v))
            i += 8
        }
        var m = m8.max()
        while i < x.count { m = max(m, abs(p[i])); i += 1 }
        return m
    }

    /// Number of samples with |x[i]| ≥ `threshold`.
    public static func countAtOrAbove(_ x: UnsafeBufferPointer<Float>, threshold: Float) -> Int {
        var n = 0
        for v in x where abs(v) >= threshold { n += 1 }
        return n
    }

    /// y[i] = a[i]·b[i] (element-wise product), for i < `y.count`; `a` and `b` must be at least as long.
    public static func multiply(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
                                into y: UnsafeMutableBufferPointer<Float>) {
        precondition(a.count >= y.count && b.count >= y.count)
        guard let pa = a.baseAddress, let pb = b.baseAddress, let py = y.baseAddress else { return }
        for i in 0..<y.count { py[i] = pa[i] * pb[i] }
    }

    /// y[i] += a[i]·b[i] (multiply-accumulate), for i < `y.count`.
    public static func multiplyAccumulate(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
                                          into y: UnsafeMutableBufferPointer<Float>) {
        precondition(a.count >= y.count && b.count >= y.count)
        guard let pa = a.baseAddress, let pb = b.baseAddress, let py = y.baseAddress else { return }
        for i in 0..<y.count { py[i] = Relaxed.multiplyAdd(pa[i], pb[i], py[i]) }
    }

    /// x[i] *= gain.
    public static func scale(_ x: UnsafeMutableBufferPointer<Float>, by gain: Float) {
        guard let p = x.baseAddress else { return }
        for i in 0..<x.count { p[i] *= gain }
    }

    /// Power spectrum of interleaved complex values: p[k] = re² + im², for k < `power.count`.
    /// `complex` holds `2 * power.count` floats (re, im, re, im, …).
    public static func squaredMagnitudes(interleaved complex: UnsafeBufferPointer<Float>,
                                         into power: UnsafeMutableBufferPointer<Float>) {
        precondition(complex.count >= 2 * power.count)
        guard let c = complex.baseAddress, let p = power.baseAddress else { return }
        for k in 0..<power.count {
            let re = c[2 * k], im = c[2 * k + 1]
            p[k] = Relaxed.multiplyAdd(re, re, im * im)
        }
    }
}
