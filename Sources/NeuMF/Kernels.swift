// Small dense matrix products for mini-batches. Sizes are tiny (a few hundred rows, K and N
// of 8...128), so the win comes from keeping a 4 x 16 tile of C in registers and streaming
// rows of B; we write `acc += a * b` rather than `addProduct`, which lowers to one `fmaf`
// call per lane when FMA contraction is not enabled for the target.

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Register-tiled single-precision matrix products used by training and scoring.
///
/// Public so benchmarks can measure them; the trainer and scorer call the same code.
public enum DenseKernels {
    /// `C[m x n] (+)= A[m x k] * B[k x n]`, where `A[i, p] = a[i * aRowStride + p * aColStride]`
    /// (so a transposed A is `aRowStride: 1, aColStride: lda`), B and C are row-major.

    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool
    ) {
        gemmKernel(m: m, n: n, k: k, a: a, rs: aRowStride, cs: aColStride,
                   b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// Floating-point operations of one `multiply` call (2 per multiply-add).
    public static func flops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }
}


func gemmKernel(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, rs: Int, cs: Int,
    b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool
) {
    let n16 = n & ~15
    let n8 = n & ~7
    var i = 0
    while i + 4 <= m {
        let a0 = a + i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs
        var j = 0
        while j < n16 {
            var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
            var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
            var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
            var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
            var bp = b + j
            var ap = 0
            for _ in 0..<k {
                let b0 = load8(bp), b1 = load8(bp + 8)
                let x0 = SIMD8<Float>(repeating: a0[ap])
                c00 += x0 * b0; c01 += x0 * b1
                let x1 = SIMD8<Float>(repeating: a1[ap])
                c10 += x1 * b0; c11 += x1 * b1
                let x2 = SIMD8<Float>(repeating: a2[ap])
                c20 += x2 * b0; c21 += x2 * b1
                let x3 = SIMD8<Float>(repeating: a3[ap])
                c30 += x3 * b0; c31 += x3 * b1
                bp += ldb
                ap += cs
            }
            let r0 = c + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
            if accumulate {
                c00 += load8(r0); c01 += load8(r0 + 8)
                c10 += load8(r1); c11 += load8(r1 + 8)
                c20 += load8(r2); c21 += load8(r2 + 8)
                c30 += load8(r3); c31 += load8(r3 + 8)
            }
            store8(c00, r0); store8(c01, r0 + 8)
            store8(c10, r1); store8(c11, r1 + 8)
            store8(c20, r2); store8(c21, r2 + 8)
            store8(c30, r3); store8(c31, r3 + 8)
            j += 16
        }
        while j < n8 {
            var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
            var bp = b + j
            var ap = 0
            for _ in 0..<k {
                let b0 = load8(bp)
                c0 += SIMD8<Float>(repeating: a0[ap]) * b0
                c1 += SIMD8<Float>(repeating: a1[ap]) * b0
                c2 += SIMD8<Float>(repeating: a2[ap]) * b0
                c3 += SIMD8<Float>(repeating: a3[ap]) * b0
                bp += ldb
                ap += cs
            }
            let r0 = c + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
            if accumulate {
                c0 += load8(r0); c1 += load8(r1); c2 += load8(r2); c3 += load8(r3)
            }
            store8(c0, r0); store8(c1, r1); store8(c2, r2); store8(c3, r3)
            j += 8
        }
        if j < n {
            for r in 0..<4 { scalarRow(i + r, from: j) }
        }
        i += 4
    }
    while i < m {
        let ar = a + i * rs
        var j = 0
        while j < n8 {
            var c0 = SIMD8<Float>()
            var bp = b + j
            var ap = 0
            for _ in 0..<k {
                c0 += SIMD8<Float>(repeating: ar[ap]) * load8(bp)
                bp += ldb
                ap += cs
            }
            let r0 = c + i * ldc + j
            if accumulate { c0 += load8(r0) }
            store8(c0, r0)
            j += 8
        }
        if j < n { scalarRow(i, from: j) }
        i += 1
    }

    @inline(__always)
    func scalarRow(_ row: Int, from j0: Int) {
        let ar = a + row * rs
        for j in j0..<n {
            var s: Float = 0
            for p in 0..<k { s += ar[p * cs] * b[p * ldb + j] }
            if accumulate { c[row * ldc + j] += s } else { c[row * ldc + j] = s }
        }
    }
}

/// `x[i] = max(x[i] + bias[i % n], 0)` over `rows` rows of width `n` and stride `ld`.
@inline(__always)
func addBiasRelu(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int, bias: UnsafePointer<Float>) {
    let n8 = n & ~7
    let zero = SIMD8<Float>()
    for r in 0..<rows {
        let row = x + r * ld
        var j = 0
        while j < n8 {
            let v = load8(row + j) + load8(bias + j)
            store8(v.replacing(with: zero, where: v .< zero), row + j)
            j += 8
        }
        while j < n {
            row[j] = max(row[j] + bias[j], 0)
            j += 1
        }
    }
}

@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var j = 0
    while j + 8 <= n {
        acc += load8(a + j) * load8(b + j)
        j += 8
    }
    var s = acc.sum()
    while j < n {
        s += a[j] * b[j]
        j += 1
    }
    return s
}

/// `y[0..<n] += alpha * x[0..<n]`.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let va = SIMD8<Float>(repeating: alpha)
    var j = 0
    while j + 8 <= n {
        store8(load8(y + j) + va * load8(x + j), y + j)
        j += 8
    }
    while j < n {
        y[j] += alpha * x[j]
        j += 1
    }
}

/// Lane-wise square root. `SIMD8<Float>.squareRoot()` is lowered one lane at a time here
/// (scalar `sqrtss` plus a `sqrtf` errno fallback per lane), which made it the largest cost
/// of the Adam step; this is the bit-trick reciprocal square root refined by three Newton
/// steps, all in vector registers. Worst relative error below 1.2e-7, about 1 ulp (measured over 2^-40...2^11),
/// and `sqrt8(0) == 0` (the estimate stays finite, times 0).
@inline(__always)
func sqrt8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    var y = unsafeBitCast(SIMD8<UInt32>(repeating: 0x5f37_5a86) &- (bits &>> 1), to: SIMD8<Float>.self)
    let hx = 0.5 * x
    let c = SIMD8<Float>(repeating: 1.5)
    y = y * (c - hx * y * y)
    y = y * (c - hx * y * y)
    y = y * (c - hx * y * y)
    // One Newton step on the root itself (s + (x - s^2) / 2s) removes most of the remaining
    // error, so results track the correctly rounded root to about an ulp.
    let s = x * y
    return s + (0.5 * y) * (x - s * s)
}

/// `dst[0..<n] = src[0..<n]` for short rows (inline; `update(from:)` calls `memmove`).
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n { store8(load8(src + j), dst + j); j += 8 }
    while j < n { dst[j] = src[j]; j += 1 }
}

@inline(__always)
func copyFloats(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    copyFloats(UnsafePointer(src), dst, n)
}

/// `dst[0..<n] = 0` for short rows.
@inline(__always)
func zeroFloats(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n { store8(SIMD8<Float>(), dst + j); j += 8 }
    while j < n { dst[j] = 0; j += 1 }
}
