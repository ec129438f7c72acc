/// What `NeuMFScorer.score` writes per candidate.
public enum ScoreOutput: Sendable, Hashable {
    /// Sigmoid of the logit: the predicted interaction probability.
    case probability
    /// The raw logit (same order, cheaper; enough for ranking).
    case logit
}

/// Fast batched scoring and relation vectors for a trained model.
///
/// The first MLP layer splits as `W [p_u; q_i] = W_u p_u + W_i q_i`. The item half (plus bias)
/// and the GMF item factors are cached per item when the scorer is built, and the user half
/// is computed once per call, so a candidate costs one add + ReLU and the rest of the tower.
public struct NeuMFScorer: Sendable {
    public let model: NeuMFModel
    /// Per item: `[q_i (GMF) | W_i q_i + b_1 | pad]`, rows `cacheWidth` floats apart from a
    /// 64-byte boundary (huge pages when large), so a row spans the fewest cache lines and
    /// pages: scoring a large candidate list is bound by fetching these rows. Immutable after
    /// `init`, so sharing it between copies of the scorer and threads is safe.
    let cache: AlignedFloats
    let cacheWidth: Int
    static let tile = 64

    /// Row width padded so rows never straddle more cache lines than needed: 8 or 16 floats
    /// for short rows, a multiple of 16 (one line) otherwise.
    static func paddedWidth(_ w: Int) -> Int {
        w <= 8 ? 8 : (w + 15) & ~15
    }

    /// The cache's first row, valid while `self` is alive.
    @inline(__always)
    func withCache<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        withExtendedLifetime(cache) { body(UnsafePointer(cache.base)) }
    }

    /// Builds the per-item cache (`itemCount x (factors + layers[1])` floats) on `threads` threads.
    public init(model: NeuMFModel, threads: Int = 0) {
        self.model = model
        let L = model.layout
        let cw = Self.paddedWidth(L.gmf + L.firstHidden)
        cacheWidth = cw
        let cache = AlignedFloats(count: L.items * cw)
        let T = min(resolvedThreadCount(threads), max(1, L.items / 4096))
        model.parameters.withUnsafeBufferPointer { pb in
            do {
                let p = SharedReadPointer(pb), c = SharedPointer(cache.base)
                // Each worker fills a disjoint range of item rows.
                parallelFor(T) { t in
                    let lo = L.items * t / T, hi = L.items * (t + 1) / T
                    let p = p.base, c = c.base
                    (c + lo * cw).initialize(repeating: 0, count: (hi - lo) * cw)
                    for i in lo..<hi {
                        let src = p + L.itemOffset + i * L.rowWidth
                        for j in 0..<L.gmf { c[i * cw + j] = src[j] }
                    }
                    if L.layerCount > 0 && hi > lo {
                        let e = L.mlp, h1 = L.firstHidden
                        gemmKernel(m: hi - lo, n: h1, k: e,
                                   a: p + L.itemOffset + lo * L.rowWidth + L.gmf, rs: L.rowWidth, cs: 1,
                                   b: p + L.weightOffset[0] + e * h1, ldb: h1,
                                   c: c + lo * cw + L.gmf, ldc: cw, accumulate: false)
                        let bias = p + L.biasOffset[0]
                        for i in lo..<hi { axpy(1, bias, c + i * cw + L.gmf, h1) }
                    }
                }
            }
        }
        self.cache = cache
    }

    public var configuration: NeuMFConfiguration { model.configuration }
    /// Dimension of relation vectors: GMF factors plus the last MLP layer width.
    public var relationDimension: Int { model.layout.predictive }

    /// Scores `candidates` for `user` into `output` (same count). Candidates must be valid
    /// item indices. With `threads != 1` and many candidates the work is split across threads.
    public func score(user: Int32, candidates: UnsafeBufferPointer<Int32>, into output: UnsafeMutableBufferPointer<Float>,
                      output kind: ScoreOutput = .probability, threads: Int = 1) {
        precondition(output.count >= candidates.count, "output buffer smaller than candidates")
        precondition(user >= 0 && Int(user) < model.layout.users, "user \(user) outside the model")
        let n = candidates.count
        if n == 0 { return }
        let L = model.layout
        let h1 = L.firstHidden
        model.parameters.withUnsafeBufferPointer { pb in
            withCache { cachePointer in
                let p = pb.baseAddress!
                // Per-user parts: W_u p_u (first layer) and p_u (GMF) weighted by the output layer.
                var userPart = [Float](repeating: 0, count: max(h1 + L.gmf, 1))
                userPart.withUnsafeMutableBufferPointer { up in
                    let u = p + L.userOffset + Int(user) * L.rowWidth
                    if L.layerCount > 0 {
                        gemmKernel(m: 1, n: h1, k: L.mlp, a: u + L.gmf, rs: 0, cs: 1,
                                   b: p + L.weightOffset[0], ldb: h1, c: up.baseAddress!, ldc: h1, accumulate: false)
                    }
                    for j in 0..<L.gmf { up[h1 + j] = u[j] * p[L.outputOffset + j] }
                }
                let T = threads == 1 || n < 16384 ? 1 : min(resolvedThreadCount(threads), n / 8192)
                userPart.withUnsafeBufferPointer { up in
                    let ctx = ScoreContext(params: SharedReadPointer(pb), cache: SharedReadPointer(cachePointer),
                                           userPart: SharedReadPointer(up),
                                           candidates: SharedReadPointer(candidates), out: SharedPointer(output))
                    // Workers write disjoint ranges of `output`.
                    parallelFor(T) { t in
                        scoreRange(ctx, lo: n * t / T, hi: n * (t + 1) / T, kind: kind)
                    }
                }
            }
        }
    }

    /// Array convenience for `score(user:candidates:into:)`.
    public func score(user: Int32, candidates: [Int32], into output: inout [Float],
                      output kind: ScoreOutput = .probability, threads: Int = 1) {
        if output.count < candidates.count { output = [Float](repeating: 0, count: candidates.count) }
        candidates.withUnsafeBufferPointer { cb in
            output.withUnsafeMutableBufferPointer { ob in
                score(user: user, candidates: cb, into: ob, output: kind, threads: threads)
            }
        }
    }

    /// Scores for `candidates` as a new array.
    public func score(user: Int32, candidates: [Int32], output kind: ScoreOutput = .probability, threads: Int = 1) -> [Float] {
        var out = [Float](repeating: 0, count: candidates.count)
        score(user: user, candidates: candidates, into: &out, output: kind, threads: threads)
        return out
    }

    struct ScoreContext: @unchecked Sendable {
        let params: SharedReadPointer<Float>
        let cache: SharedReadPointer<Float>
        let userPart: SharedReadPointer<Float>
        let candidates: SharedReadPointer<Int32>
        let out: SharedPointer<Float>
    }

    func scoreRange(_ c: ScoreContext, lo: Int, hi: Int, kind: ScoreOutput) {
        let L = model.layout
        let p = c.params.base, cache = c.cache.base, up = c.userPart.base
        let cw = cacheWidth, f = L.gmf, h1 = L.firstHidden, nl = L.layerCount
        let tile = Self.tile
        let width = max(1, L.layerOut.max() ?? 1)
        let bo = p[L.outputBiasOffset]
        let hMLP = p + L.outputOffset + f
        let gw = up + h1
        let last = L.lastWidth
        let h18 = h1 & ~7
        let zero = SIMD8<Float>()
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile * width) { buf in
            var bufA = buf.baseAddress!, bufB = bufA + tile * width
            let o0 = c.out.base
            let cand = c.candidates.base
            // Touch the first tile's rows; each later tile touches the next one's first.
            touchTile(cache, cand, from: lo, to: min(hi, lo + tile), cw, into: o0)
            var start = lo
            while start < hi {
                let m = min(tile, hi - start)
                touchTile(cache, cand, from: start + m, to: min(hi, start + m + tile), cw, into: o0)
                var cur = bufA
                if nl > 0 {
                    for t in 0..<m {
                        let row = cache + Int(c.candidates.base[start + t]) * cw + f
                        let dst = bufA + t * h1
                        var j = 0
                        while j < h18 {
                            let v = load8(row + j) + load8(up + j)
                            store8(v.replacing(with: zero, where: v .< zero), dst + j)
                            j += 8
                        }
                        while j < h1 { dst[j] = max(row[j] + up[j], 0); j += 1 }
                    }
                    for l in 1..<nl {
                        let out = L.layerOut[l]
                        gemmKernel(m: m, n: out, k: L.layerIn[l], a: cur, rs: L.layerIn[l], cs: 1,
                                   b: p + L.weightOffset[l], ldb: out, c: bufB, ldc: out, accumulate: false)
                        addBiasRelu(bufB, rows: m, n: out, ld: out, bias: p + L.biasOffset[l])
                        swap(&bufA, &bufB)
                        cur = bufA
                    }
                }
                let o = c.out.base + start
                for t in 0..<m {
                    var s = bo
                    if nl > 0 { s += dot(cur + t * last, hMLP, last) }
                    if f > 0 { s += dot(cache + Int(c.candidates.base[start + t]) * cw, gw, f) }
                    o[t] = s
                }
                if kind == .probability {
                    for t in 0..<m { o[t] = sigmoid(o[t]) }
                }
                start += m
            }
        }
    }

    /// Loads every cache line of the rows of candidates `from..<to` before they are used, so
    /// their misses overlap each other and the current tile's arithmetic (there is no
    /// prefetch intrinsic in Swift; independent loads are the portable way to get memory-level
    /// parallelism). The sums land in `out[from..<to]`, which the tile overwrites later;
    /// writing them keeps the loads from being optimised away.
    @inline(__always)
    func touchTile(_ cache: UnsafePointer<Float>, _ cand: UnsafePointer<Int32>, from: Int, to: Int,
                   _ cw: Int, into out: UnsafeMutablePointer<Float>) {
        var t = from
        while t < to {
            let row = cache + Int(cand[t]) * cw
            var s = row[0]
            var k = 16
            while k < cw { s += row[k]; k += 16 }
            out[t] = s
            t += 1
        }
    }

    /// The relation vector of a pair: GMF product concatenated with the last MLP layer
    /// (`relationDimension` floats), the representation the output layer reads.
    public func relationVector(user: Int32, item: Int32) -> [Float] {
        var out = [Float](repeating: 0, count: relationDimension)
        out.withUnsafeMutableBufferPointer { ob in
            [user].withUnsafeBufferPointer { ub in
                [item].withUnsafeBufferPointer { ib in
                    relationVectors(users: ub, items: ib, into: ob)
                }
            }
        }
        return out
    }

    /// Relation vectors of many pairs, row-major into `output` (`count * relationDimension`).
    public func relationVectors(users: UnsafeBufferPointer<Int32>, items: UnsafeBufferPointer<Int32>,
                                into output: UnsafeMutableBufferPointer<Float>) {
        let L = model.layout
        let d = L.predictive
        precondition(users.count == items.count && output.count >= users.count * d, "relationVectors: size mismatch")
        pairPass(users: users, items: items) { start, m, phi in
            (output.baseAddress! + start * d).update(from: phi, count: m * d)
        }
    }

    /// Scores of arbitrary (user, item) pairs, one per pair (for classification tests).
    public func scorePairs(users: UnsafeBufferPointer<Int32>, items: UnsafeBufferPointer<Int32>,
                           into output: UnsafeMutableBufferPointer<Float>, output kind: ScoreOutput = .probability) {
        let L = model.layout
        let d = L.predictive
        precondition(users.count == items.count && output.count >= users.count, "scorePairs: size mismatch")
        model.parameters.withUnsafeBufferPointer { pb in
            let h = pb.baseAddress! + L.outputOffset
            let bo = pb[L.outputBiasOffset]
            pairPass(users: users, items: items) { start, m, phi in
                for t in 0..<m {
                    let x = dot(phi + t * d, h, d) + bo
                    output[start + t] = kind == .probability ? sigmoid(x) : x
                }
            }
        }
    }

    /// Runs the GMF product and the cached tower over tiles of pairs, handing each tile's
    /// predictive vectors (`m x relationDimension`) to `body`.
    func pairPass(users: UnsafeBufferPointer<Int32>, items: UnsafeBufferPointer<Int32>,
                  _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let L = model.layout
        let d = L.predictive, f = L.gmf, e = L.mlp, nl = L.layerCount, cw = cacheWidth, h1 = L.firstHidden
        let tile = Self.tile
        let width = max(1, L.layerOut.max() ?? 1)
        model.parameters.withUnsafeBufferPointer { pb in
            withCache { cache in
                let p = pb.baseAddress!
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile * width + tile * d + max(e, 1) * tile) { buf in
                    var bufA = buf.baseAddress!, bufB = bufA + tile * width
                    let phi = bufB + tile * width
                    let ue = phi + tile * d
                    var start = 0
                    let n = users.count
                    while start < n {
                        let m = min(tile, n - start)
                        for t in 0..<m {
                            let u = p + L.userOffset + Int(users[start + t]) * L.rowWidth
                            let q = cache + Int(items[start + t]) * cw
                            for j in 0..<f { phi[t * d + j] = u[j] * q[j] }
                            for j in 0..<e { ue[t * e + j] = u[f + j] }
                        }
                        if nl > 0 {
                            gemmKernel(m: m, n: h1, k: e, a: ue, rs: e, cs: 1,
                                       b: p + L.weightOffset[0], ldb: h1, c: bufA, ldc: h1, accumulate: false)
                            for t in 0..<m {
                                let q = cache + Int(items[start + t]) * cw + f
                                let r = bufA + t * h1
                                for j in 0..<h1 { r[j] = max(r[j] + q[j], 0) }
                            }
                            for l in 1..<nl {
                                let out = L.layerOut[l]
                                gemmKernel(m: m, n: out, k: L.layerIn[l], a: bufA, rs: L.layerIn[l], cs: 1,
                                           b: p + L.weightOffset[l], ldb: out, c: bufB, ldc: out, accumulate: false)
                                addBiasRelu(bufB, rows: m, n: out, ld: out, bias: p + L.biasOffset[l])
                                swap(&bufA, &bufB)
                            }
                            let last = L.lastWidth
                            for t in 0..<m {
                                for j in 0..<last { phi[t * d + f + j] = bufA[t * last + j] }
                            }
                        }
                        body(start, m, phi)
                        start += m
                    }
                }
            }
        }
    }
}

