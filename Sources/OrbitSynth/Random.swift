/// xoshiro256** seeded through SplitMix64: fast, and the same stream on every platform for a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in 0..<n (n > 0), by Lemire's multiply-shift (bias below 2^-32 for n < 2^32).
    @inline(__always)
    public mutating func below(_ n: Int) -> Int { Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(n)) >> 32) }

    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Exponential with the given mean.
    public mutating func exponential(mean: Double) -> Double { -mean * log1mu() }

    /// Log-normal with the given mean and log-space sigma.
    public mutating func logNormal(mean: Double, sigma: Double) -> Double {
        let mu = _log(mean) - sigma * sigma / 2
        return _exp(mu + sigma * normal())
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return _sqrt(-2 * _log(u1)) * _cos(2 * Double.pi * u2)
    }

    /// Pareto with minimum 1 and tail index `alpha`.
    public mutating func pareto(alpha: Double) -> Double { _exp(-log1mu() / alpha) }

    private mutating func log1mu() -> Double { _log(1 - unit()) }
}

/// Samples indices in O(1) with probability proportional to their weights (Walker's alias method).
public struct AliasTable: Sendable {
    private var probability: [Double]
    private var alias: [Int32]

    public init(weights: [Double]) {
        let n = weights.count
        precondition(n > 0, "alias table needs at least one weight")
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        probability = Array(repeating: 1, count: n)
        alias = Array(repeating: 0, count: n)
        var small: [Int] = [], large: [Int] = []
        for (i, w) in scaled.enumerated() { if w < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast(), let l = large.last {
            probability[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { large.removeLast(); small.append(l) }
        }
    }

    public var count: Int { probability.count }

    @inline(__always)
    public func sample(_ rng: inout SeededRandom) -> Int {
        let i = rng.below(probability.count)
        return rng.unit() < probability[i] ? i : Int(alias[i])
    }
}

// Free functions from the C library without importing Foundation in the hot generator.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _sqrt(_ x: Double) -> Double { sqrt(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
