#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Stored vectors are padded with zeros to a multiple of 8 floats (`HNSWConfiguration.stride`),
// so every kernel walks whole SIMD8 blocks and never needs a scalar tail.

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

// Software prefetch, opt-in. Graph search is bound by cache misses on neighbour lists and
// vectors, and issuing them early lets several overlap: about 10-15% less build CPU at 1M
// vectors. Swift has no public spelling for a prefetch, so this binds LLVM's intrinsic by name
// through `@_silgen_name`, which the compiler lowers to one `prefetcht0` / `prfm`. That trick
// crashes the compiler under the thread sanitizer (Swift 6.3), hence off unless a build defines
// VECTORINDEX_PREFETCH (e.g. `.define("VECTORINDEX_PREFETCH", .when(configuration: .release))`).
#if VECTORINDEX_PREFETCH
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32)

/// Hints the CPU to start loading the cache line at `p`; no effect on results.
@inline(__always)
func prefetch<T>(_ p: UnsafePointer<T>) {
    llvmPrefetch(UnsafeRawPointer(p), 0, 3, 1)
}
#else
/// No-op stand-in (see above).
@inline(__always)
func prefetch<T>(_ p: UnsafePointer<T>) {}
#endif

/// Dot product of two padded vectors of `stride` floats.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ stride: Int) -> Float {
    // d = 16 (NeuMF relation vectors of 8 + 8 factors) is the case that matters; one fused
    // block lets the compiler keep it in two registers without a loop.
    if stride == 16 {
        let p = load16(a) * load16(b)
        return hsum(p.lowHalf + p.highHalf)
    }
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= stride {
        acc0 += load8(a + i) * load8(b + i)
        acc1 += load8(a + i + 8) * load8(b + i + 8)
        i += 16
    }
    if i < stride {
        acc0 += load8(a + i) * load8(b + i)
    }
    return hsum(acc0 + acc1)
}

/// Horizontal sum as a tree of vector adds (3 dependent steps); `SIMD8.sum()` compiles to a
/// chain of 7 scalar adds, which was a third of the latency of a 16-float dot product.
@inline(__always)
func hsum(_ v: SIMD8<Float>) -> Float {
    let h4 = v.lowHalf + v.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

/// Scales `v` (padded, `stride` floats) to unit length; a zero vector stays zero, scoring 0 against everything.
@inline(__always)
func normalize(_ v: UnsafeMutablePointer<Float>, _ stride: Int) {
    let n2 = dot(v, v, stride)
    guard n2 > 0, n2.isFinite else { return }
    let inv = 1 / n2.squareRoot()
    for i in 0..<stride { v[i] *= inv }
}

/// SplitMix64: tiny and seedable; used for level draws keyed by (seed, node id) so levels do not
/// depend on which thread inserts which node.
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Highest layer a node reaches: floor(-ln(U) / ln(M)), the paper's optimal mL = 1/ln(M).
/// Capped at 31; reaching it needs about M^31 nodes.
func drawLevel(seed: UInt64, node: Int, m: Int) -> UInt8 {
    var rng = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: node) &* 0xD1B5_4A32_D192_ED03))
    _ = rng.next()
    // U in (0, 1]: 53 random bits, shifted away from zero.
    let u = (Double(rng.next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
    let level = -log(u) / log(Double(m))
    return UInt8(min(31, Int(level)))
}
