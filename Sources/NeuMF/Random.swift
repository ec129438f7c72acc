/// SplitMix64: a tiny, fast, seedable generator; one per thread, so runs are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for stream `stream` of `seed` (e.g. one per thread and epoch).
    public init(seed: UInt64, stream: UInt64) {
        var s = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = s.next() ^ stream
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in `0..<bound` (Lemire's multiply-shift; bias below 2^-32 for our sizes).
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(bound)) >> 32)
    }

    /// Uniform float in `[0, 1)`.
    @inline(__always)
    public mutating func unitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal via Box-Muller (initialisation only, not hot).
    public mutating func normal() -> Float {
        var u1 = unitFloat()
        if u1 < 1e-7 { u1 = 1e-7 }
        let u2 = unitFloat()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Float.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Float) -> Float { logf(x) }
@inline(__always) func _cos(_ x: Float) -> Float { cosf(x) }
@inline(__always) func _exp(_ x: Float) -> Float { expf(x) }
@inline(__always) func _log1p(_ x: Float) -> Float { log1pf(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _log(_ x: Float) -> Float { logf(x) }
@inline(__always) func _cos(_ x: Float) -> Float { cosf(x) }
@inline(__always) func _exp(_ x: Float) -> Float { expf(x) }
@inline(__always) func _log1p(_ x: Float) -> Float { log1pf(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
#endif

@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + _exp(-x)) }

/// Binary cross-entropy of a logit, computed without overflow: `max(x,0) - x*y + log(1+e^-|x|)`.
@inline(__always)
func bceWithLogit(_ x: Float, label y: Float) -> Float {
    max(x, 0) - x * y + _log1p(_exp(-abs(x)))
}
