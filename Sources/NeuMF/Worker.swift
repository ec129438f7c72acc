// One training thread's scratch space and its forward/backward/update code for a mini-batch.
// Everything in the hot path is a raw pointer: no class property loads inside inner loops,
// no reference counting, no bounds checks.

/// Raw pointers a worker reads and writes during one epoch.
///
/// `@unchecked Sendable`: `params` (dense part), `rows`, `denseM`, `denseV` are shared Hogwild-style
/// (lock-free, unsynchronised Float updates by design); `pairs` is split into disjoint
/// shards, one per worker; the rest is read-only while workers run. All buffers outlive the
/// `concurrentPerform` call that uses them.
struct TrainContext: @unchecked Sendable {
    /// Full-length parameter buffer; during training only its dense part (from
    /// `layout.denseOffset`) is live, the embedding rows live in `rows`.
    var params: UnsafeMutablePointer<Float>
    /// Embedding rows, users then items, `rowStride` floats apart. With Adam each row is
    /// `[p (E) | m (E) | v (E) | last step (UInt32) | pad]`: one contiguous block, so the
    /// random access of a row brings its optimiser state along (adjacent cache lines).
    var rows: UnsafeMutablePointer<Float>
    var rowStride: Int
    var denseM: UnsafeMutablePointer<Float>
    var denseV: UnsafeMutablePointer<Float>
    /// Positives packed as `user << 32 | item`, shuffled in place per shard each epoch so the
    /// epoch reads them sequentially.
    var pairs: UnsafeMutablePointer<UInt64>
    var exclusion: ExclusionView
    var itemCount: Int
    var negatives: Int
    var batchSize: Int
    var learningRate: Float
    var beta1: Float
    var beta2: Float
    var epsilon: Float
    var l2: Float
    var useAdam: Bool
    var grouped: Bool
    /// Multiplier of the learning rate for embedding rows.
    var embeddingScale: Float
    /// Replays the Adam steps a row missed while absent from batches (see `applyUpdates`).
    var catchUp: Bool
}

/// Per-thread buffers. `@unchecked Sendable` because each instance is used by exactly one
/// worker index at a time (workers are indexed, never shared).
final class Worker: @unchecked Sendable {
    let L: ParameterLayout
    let capacity: Int
    let maxWidth: Int

    let bu: UnsafeMutablePointer<Int32>
    let bi: UnsafeMutablePointer<Int32>
    let by: UnsafeMutablePointer<Float>
    let su: UnsafeMutablePointer<Int32>
    let si: UnsafeMutablePointer<Int32>
    /// MLP embedding rows of the batch's distinct users / items, by slot.
    let mu: UnsafeMutablePointer<Float>
    let mi: UnsafeMutablePointer<Float>
    /// First-layer halves per slot: `W_u p_u` and `W_i q_i` forward, summed upstream gradient backward.
    let upart: UnsafeMutablePointer<Float>
    let ipart: UnsafeMutablePointer<Float>
    let phi: UnsafeMutablePointer<Float>
    let dphi: UnsafeMutablePointer<Float>
    let act: [UnsafeMutablePointer<Float>]
    let dz: [UnsafeMutablePointer<Float>]
    let wT: [UnsafeMutablePointer<Float>]
    let denseGrad: UnsafeMutablePointer<Float>
    let userSlot: UnsafeMutablePointer<Int32>
    let itemSlot: UnsafeMutablePointer<Int32>
    let touchedUsers: UnsafeMutablePointer<Int32>
    let touchedItems: UnsafeMutablePointer<Int32>
    let userGrad: UnsafeMutablePointer<Float>
    let itemGrad: UnsafeMutablePointer<Float>
    var userSlots = 0
    var itemSlots = 0
    var touchSink: Float = 0
    /// Instance window: users, items, labels (`windowCapacity` each).
    let window: UnsafeMutableBufferPointer<Int32>
    let windowCapacity: Int

    init(layout: ParameterLayout, batchCapacity: Int, negatives: Int = 4) {
        L = layout
        windowCapacity = (negatives + 1) * max(1, (4 * batchCapacity + negatives) / (negatives + 1) + 1)
        window = .allocate(capacity: 3 * windowCapacity)
        window.initialize(repeating: 0)
        capacity = batchCapacity
        maxWidth = max(1, ([2 * layout.mlp, layout.predictive] + layout.layerOut).max()!)
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        func ints(_ n: Int, _ v: Int32) -> UnsafeMutablePointer<Int32> {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
            p.initialize(repeating: v, count: max(n, 1))
            return p
        }
        let B = batchCapacity
        bu = ints(B, 0); bi = ints(B, 0); su = ints(B, 0); si = ints(B, 0)
        by = floats(B)
        mu = floats(B * layout.mlp)
        mi = floats(B * layout.mlp)
        upart = floats(B * layout.firstHidden)
        ipart = floats(B * layout.firstHidden)
        phi = floats(B * layout.predictive)
        dphi = floats(B * layout.predictive)
        act = layout.layerOut.map { floats(B * $0) }
        dz = layout.layerOut.map { floats(B * $0) }
        wT = (0..<layout.layerCount).map { floats(layout.layerIn[$0] * layout.layerOut[$0]) }
        denseGrad = floats(layout.denseCount)
        userSlot = ints(layout.users, -1)
        itemSlot = ints(layout.items, -1)
        touchedUsers = ints(B, 0)
        touchedItems = ints(B, 0)
        userGrad = floats(B * layout.rowWidth)
        itemGrad = floats(B * layout.rowWidth)
    }

    deinit {
        for p in [bu, bi, su, si, userSlot, itemSlot, touchedUsers, touchedItems] { p.deallocate() }
        for p in [by, mu, mi, upart, ipart, phi, dphi, denseGrad, userGrad, itemGrad] { p.deallocate() }
        for p in act + dz + wT { p.deallocate() }
        window.deallocate()
    }

    /// Forward pass on the first `n` samples in `bu`/`bi`, filling `phi` (and `act`, the
    /// per-slot rows and first-layer halves for the backward pass). Assigns gradient slots.
    ///
    /// The first layer is split as `W_u p_u + W_i q_i` and each half is computed once per
    /// distinct user / item of the batch: a positive and its negatives share the user, so the
    /// user half costs a fifth of the naive product.
    func forward(_ n: Int, _ p: UnsafeMutablePointer<Float>) { forward(n, p, p, L.rowWidth) }

    /// Loads one float from every cache line of every row the batch will read and update
    /// (parameters and, with Adam, the moments stored after them), before any of them is
    /// needed. Swift has no prefetch intrinsic; these loads are independent of each other,
    /// so the out-of-order core keeps many misses in flight at once, where the forward pass
    /// and the Adam step would otherwise meet them one row at a time. On large tables this
    /// turns a chain of serial DRAM misses into a few overlapped ones.
    @inline(__always)
    func touchRows(_ n: Int, _ uBase: UnsafeMutablePointer<Float>, _ iBase: UnsafeMutablePointer<Float>, _ RS: Int) {
        var acc: Float = 0
        for b in 0..<n {
            let ur = uBase + Int(bu[b]) * RS, ir = iBase + Int(bi[b]) * RS
            var k = 0
            while k < RS {
                acc += ur[k] + ir[k]
                k += 16
            }
        }
        // Kept so the loads are not optimised away; never read.
        touchSink = acc
    }

    @inline(__always)
    func forward(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ rows: UnsafeMutablePointer<Float>, _ RS: Int) {
        let f = L.gmf, e = L.mlp, E = L.rowWidth, d = L.predictive
        let uBase = rows, iBase = rows + L.users * RS
        let f8 = f & ~7
        touchRows(n, uBase, iBase, RS)
        for b in 0..<n {
            let u = Int(bu[b]), i = Int(bi[b])
            let ur = uBase + u * RS, ir = iBase + i * RS
            var s = userSlot[u]
            if s < 0 {
                s = Int32(userSlots)
                userSlot[u] = s
                touchedUsers[userSlots] = Int32(u)
                zeroFloats(userGrad + userSlots * E, E)
                if e > 0 { copyFloats(ur + f, mu + userSlots * e, e) }
                userSlots += 1
            }
            su[b] = s
            var t = itemSlot[i]
            if t < 0 {
                t = Int32(itemSlots)
                itemSlot[i] = t
                touchedItems[itemSlots] = Int32(i)
                zeroFloats(itemGrad + itemSlots * E, E)
                if e > 0 { copyFloats(ir + f, mi + itemSlots * e, e) }
                itemSlots += 1
            }
            si[b] = t
            let ph = phi + b * d
            var j = 0
            while j < f8 { store8(load8(ur + j) * load8(ir + j), ph + j); j += 8 }
            while j < f { ph[j] = ur[j] * ir[j]; j += 1 }
        }
        let nl = L.layerCount
        if nl == 0 { return }
        let h1 = L.firstHidden
        let w0 = p + L.weightOffset[0]
        gemmKernel(m: userSlots, n: h1, k: e, a: mu, rs: e, cs: 1, b: w0, ldb: h1, c: upart, ldc: h1, accumulate: false)
        gemmKernel(m: itemSlots, n: h1, k: e, a: mi, rs: e, cs: 1, b: w0 + e * h1, ldb: h1, c: ipart, ldc: h1, accumulate: false)
        let out0 = nl == 1 ? phi + f : act[0]
        let ld0 = nl == 1 ? d : h1
        let h18 = h1 & ~7
        for b in 0..<n {
            let x = upart + Int(su[b]) * h1, y = ipart + Int(si[b]) * h1, o = out0 + b * ld0
            var j = 0
            while j < h18 { store8(load8(x + j) + load8(y + j), o + j); j += 8 }
            while j < h1 { o[j] = x[j] + y[j]; j += 1 }
        }
        addBiasRelu(out0, rows: n, n: h1, ld: ld0, bias: p + L.biasOffset[0])
        for l in 1..<max(nl, 1) {
            let inp = act[l - 1]
            let ldIn = L.layerOut[l - 1]
            let out = L.layerOut[l]
            let outp = l == nl - 1 ? phi + f : act[l]
            let ldOut = l == nl - 1 ? d : out
            gemmKernel(m: n, n: out, k: L.layerIn[l], a: inp, rs: ldIn, cs: 1,
                       b: p + L.weightOffset[l], ldb: out, c: outp, ldc: ldOut, accumulate: false)
            addBiasRelu(outp, rows: n, n: out, ld: ldOut, bias: p + L.biasOffset[l])
        }
    }

    /// Forward and backward on `n` samples; leaves the mean-loss gradient in `denseGrad`
    /// and the per-row slots; returns the summed loss.
    func forwardBackward(_ n: Int, _ p: UnsafeMutablePointer<Float>) -> Double {
        // A model's own buffer holds user then item rows at stride `rowWidth` from offset 0.
        forwardBackward(n, p, p, L.rowWidth)
    }

    /// As above with the embedding rows at `rows` (stride `RS`) and the dense part in `p`.
    func forwardBackward(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ rows: UnsafeMutablePointer<Float>, _ RS: Int) -> Double {
        forward(n, p, rows, RS)
        let f = L.gmf, e = L.mlp, E = L.rowWidth, d = L.predictive
        let uBase = rows, iBase = rows + L.users * RS
        denseGrad.update(repeating: 0, count: L.denseCount)
        let h = p + L.outputOffset
        let bo = p[L.outputBiasOffset]
        let gh = denseGrad + (L.outputOffset - L.denseOffset)
        var gbo: Float = 0
        var loss: Double = 0
        let invB = 1 / Float(n)
        let d8 = d & ~7
        for b in 0..<n {
            let ph = phi + b * d
            let x = dot(ph, h, d) + bo
            let y = by[b]
            loss += Double(bceWithLogit(x, label: y))
            let delta = (sigmoid(x) - y) * invB
            gbo += delta
            axpy(delta, ph, gh, d)
            let dp = dphi + b * d
            let vd = SIMD8<Float>(repeating: delta)
            var j = 0
            while j < d8 { store8(vd * load8(h + j), dp + j); j += 8 }
            while j < d { dp[j] = delta * h[j]; j += 1 }
        }
        denseGrad[L.outputBiasOffset - L.denseOffset] = gbo
        if f > 0 {
            let f8 = f & ~7
            for b in 0..<n {
                let gu = userGrad + Int(su[b]) * E, gi = itemGrad + Int(si[b]) * E
                let ur = uBase + Int(bu[b]) * RS, ir = iBase + Int(bi[b]) * RS
                let dp = dphi + b * d
                var j = 0
                while j < f8 {
                    let g = load8(dp + j)
                    store8(load8(gu + j) + g * load8(ir + j), gu + j)
                    store8(load8(gi + j) + g * load8(ur + j), gi + j)
                    j += 8
                }
                while j < f { gu[j] += dp[j] * ir[j]; gi[j] += dp[j] * ur[j]; j += 1 }
            }
        }
        let nl = L.layerCount
        if nl > 0 {
            let last = L.layerOut[nl - 1]
            let dzl = dz[nl - 1]
            for b in 0..<n {
                let a = phi + b * d + f, g = dphi + b * d + f, o = dzl + b * last
                for j in 0..<last { o[j] = a[j] > 0 ? g[j] : 0 }
            }
            for l in stride(from: nl - 1, through: 0, by: -1) {
                let inW = L.layerIn[l], out = L.layerOut[l]
                let gW = denseGrad + (L.weightOffset[l] - L.denseOffset)
                let gB = denseGrad + (L.biasOffset[l] - L.denseOffset)
                let dzc = dz[l]
                // W (out x in) from the stored in x out block, so input gradients are plain products.
                let w = p + L.weightOffset[l], wt = wT[l]
                for k in 0..<inW { for o in 0..<out { wt[o * inW + k] = w[k * out + o] } }
                if l > 0 {
                    let inp = act[l - 1]
                    gemmKernel(m: inW, n: out, k: n, a: inp, rs: 1, cs: inW,
                               b: dzc, ldb: out, c: gW, ldc: out, accumulate: false)
                    for b in 0..<n { axpy(1, dzc + b * out, gB, out) }
                    let prev = dz[l - 1], a = act[l - 1]
                    gemmKernel(m: n, n: inW, k: out, a: dzc, rs: out, cs: 1,
                               b: wt, ldb: inW, c: prev, ldc: inW, accumulate: false)
                    let total = n * inW
                    let zero = SIMD8<Float>()
                    var j = 0
                    while j + 8 <= total {
                        let av = load8(a + j)
                        store8(load8(prev + j).replacing(with: zero, where: av .<= zero), prev + j)
                        j += 8
                    }
                    while j < total { if a[j] <= 0 { prev[j] = 0 }; j += 1 }
                } else {
                    // Sum the first-layer gradient per distinct user / item, then one product
                    // per side for the weights and for the embedding rows.
                    let h1 = out
                    upart.update(repeating: 0, count: userSlots * h1)
                    ipart.update(repeating: 0, count: itemSlots * h1)
                    for b in 0..<n {
                        let g = dzc + b * h1
                        axpy(1, g, upart + Int(su[b]) * h1, h1)
                        axpy(1, g, ipart + Int(si[b]) * h1, h1)
                    }
                    for s in 0..<userSlots { axpy(1, upart + s * h1, gB, h1) }
                    gemmKernel(m: e, n: h1, k: userSlots, a: mu, rs: 1, cs: e,
                               b: upart, ldb: h1, c: gW, ldc: h1, accumulate: false)
                    gemmKernel(m: e, n: h1, k: itemSlots, a: mi, rs: 1, cs: e,
                               b: ipart, ldb: h1, c: gW + e * h1, ldc: h1, accumulate: false)
                    gemmKernel(m: userSlots, n: e, k: h1, a: upart, rs: h1, cs: 1,
                               b: wt, ldb: inW, c: userGrad + f, ldc: E, accumulate: true)
                    gemmKernel(m: itemSlots, n: e, k: h1, a: ipart, rs: h1, cs: 1,
                               b: wt + e, ldb: inW, c: itemGrad + f, ldc: E, accumulate: true)
                }
            }
        }
        return loss
    }

    /// Applies the gradient left by `forwardBackward` (Adam step `t`, or SGD) and clears slots.
    ///
    /// Embedding rows use lazy Adam: only rows in the batch are touched. Plain lazy Adam
    /// (TF's LazyAdam) gives a row that appears once every k steps about one step per
    /// appearance, while Keras's dense Adam keeps moving it on the steps in between with the
    /// decaying first moment and a second moment that decays per global step: for ML-1M
    /// users (k ~ 100) that is an order of magnitude more movement per appearance. With
    /// `catchUp` the row first replays the k missed zero-gradient steps in closed form:
    /// `m` and `v` decay by `b1^k`, `b2^k`, and `p` moves by
    /// `lr * m / (sqrt(v) + eps) * sum_{j=1..k} (b1 / sqrt(b2))^j` (eps scaled as the moments
    /// decay and the bias correction of step t used throughout, both negligible late in
    /// training). That is dense Adam, at the cost of touching only the batch's rows.
    func applyUpdates(_ c: TrainContext, step t: Int) {
        let p = c.params
        let E = L.rowWidth, RS = c.rowStride
        var lrt = c.learningRate
        if c.useAdam {
            let tf = Double(t)
            lrt = Float(Double(c.learningRate) * (1 - pow(Double(c.beta2), tf)).squareRoot() / (1 - pow(Double(c.beta1), tf)))
        }
        if c.l2 > 0 {
            for l in 0..<L.layerCount {
                let cnt = L.layerIn[l] * L.layerOut[l]
                axpy(c.l2, p + L.weightOffset[l], denseGrad + (L.weightOffset[l] - L.denseOffset), cnt)
            }
            axpy(c.l2, p + L.outputOffset, denseGrad + (L.outputOffset - L.denseOffset), L.predictive)
        }
        let dp = p + L.denseOffset
        if c.useAdam {
            adamStep(dp, denseGrad, c.denseM, c.denseV, L.denseCount, lrt, c.beta1, c.beta2, c.epsilon)
        } else {
            axpy(-lrt, denseGrad, dp, L.denseCount)
        }
        let lre = lrt * c.embeddingScale
        let stamp = UInt32(truncatingIfNeeded: t)
        let catchUp = CatchUp(beta1: c.beta1, beta2: c.beta2)
        @inline(__always)
        func update(_ row: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>) {
            if c.l2 > 0 { axpy(c.l2, row, g, E) }
            if c.useAdam && c.catchUp {
                let st = UnsafeMutableRawPointer(row + 3 * E)
                let last = st.load(as: UInt32.self)
                // Hogwild: another thread may have stamped a later step; then nothing was missed.
                let missed = last == 0 ? 0 : Int(Int32(bitPattern: stamp &- last)) - 1
                if missed > 0 {
                    catchUp.step(row, g, row + E, row + 2 * E, E, missed, lre, c.epsilon)
                } else {
                    adamStep(row, g, row + E, row + 2 * E, E, lre, c.beta1, c.beta2, c.epsilon)
                }
                st.storeBytes(of: stamp, as: UInt32.self)
            } else if c.useAdam {
                adamStep(row, g, row + E, row + 2 * E, E, lre, c.beta1, c.beta2, c.epsilon)
            } else {
                axpy(-lre, g, row, E)
            }
        }
        let uRows = c.rows, iRows = c.rows + L.users * RS
        for s in 0..<userSlots {
            let u = Int(touchedUsers[s])
            update(uRows + u * RS, userGrad + s * E)
            userSlot[u] = -1
        }
        for s in 0..<itemSlots {
            let i = Int(touchedItems[s])
            update(iRows + i * RS, itemGrad + s * E)
            itemSlot[i] = -1
        }
        userSlots = 0
        itemSlots = 0
    }

    /// Trains on positives `pairs[lo..<hi]` (each with `negatives` fresh negatives).
    /// Returns (summed loss, samples, batches).
    ///
    /// Instances are generated for a window of positives; `grouped` keeps each positive with
    /// its negatives (one lazy-Adam step per user group), otherwise the window is shuffled so
    /// they land in different batches (see `TrainingOptions.shuffleInstances`).
    func runShard(_ c: TrainContext, lo: Int, hi: Int, rng: inout SplitMix64,
                  firstStep: Int, stepStride: Int) -> (Double, Int, Int) {
        var loss: Double = 0
        var samples = 0, batches = 0
        let B = min(c.batchSize, capacity)
        let per = c.negatives + 1
        let windowPositives = c.grouped ? max(1, B / per) : max(1, (4 * B + per - 1) / per)
        let wu = window.baseAddress!, wi = wu + windowCapacity, wy = wi + windowCapacity
        var pos = lo
        while pos < hi {
            let end = min(hi, pos + min(windowPositives, windowCapacity / per))
            var m = 0
            for k in pos..<end {
                let pair = c.pairs[k]
                let u = Int32(truncatingIfNeeded: pair >> 32)
                wu[m] = u; wi[m] = Int32(truncatingIfNeeded: pair); wy[m] = 1; m += 1
                for _ in 0..<c.negatives {
                    let neg = c.exclusion.sampleNegative(user: u, itemCount: c.itemCount, rng: &rng)
                    if neg >= 0 { wu[m] = u; wi[m] = neg; wy[m] = 0; m += 1 }
                }
            }
            pos = end
            if !c.grouped {
                var i = m - 1
                while i > 0 {
                    let j = rng.below(i + 1)
                    let tu = wu[i]; wu[i] = wu[j]; wu[j] = tu
                    let ti = wi[i]; wi[i] = wi[j]; wi[j] = ti
                    let ty = wy[i]; wy[i] = wy[j]; wy[j] = ty
                    i -= 1
                }
            }
            var start = 0
            while start < m {
                let n = min(B, m - start)
                bu.update(from: wu + start, count: n)
                bi.update(from: wi + start, count: n)
                for k in 0..<n { by[k] = Float(wy[start + k]) }
                loss += forwardBackward(n, c.params, c.rows, c.rowStride)
                applyUpdates(c, step: firstStep + batches * stepStride)
                samples += n
                batches += 1
                start += n
            }
        }
        return (loss, samples, batches)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
func adamStep(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
              _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ n: Int,
              _ lrt: Float, _ b1: Float, _ b2: Float, _ eps: Float) {
    let vb1 = SIMD8<Float>(repeating: b1), vc1 = SIMD8<Float>(repeating: 1 - b1)
    let vb2 = SIMD8<Float>(repeating: b2), vc2 = SIMD8<Float>(repeating: 1 - b2)
    let vlr = SIMD8<Float>(repeating: lrt), veps = SIMD8<Float>(repeating: eps)
    var j = 0
    while j + 8 <= n {
        let gv = load8(g + j)
        let mv = vb1 * load8(m + j) + vc1 * gv
        let vv = vb2 * load8(v + j) + vc2 * (gv * gv)
        store8(mv, m + j)
        store8(vv, v + j)
        store8(load8(p + j) - vlr * mv / (sqrt8(vv) + veps), p + j)
        j += 8
    }
    while j < n {
        let gv = g[j]
        let mv = b1 * m[j] + (1 - b1) * gv
        let vv = b2 * v[j] + (1 - b2) * gv * gv
        m[j] = mv
        v[j] = vv
        p[j] -= lrt * mv / (vv.squareRoot() + eps)
        j += 1
    }
}

/// Closed-form replay of `k` zero-gradient Adam steps followed by one real step.
struct CatchUp {
    let beta1: Float, beta2: Float
    let logB1: Float, logB2: Float, logR: Float, r: Float

    init(beta1: Float, beta2: Float) {
        self.beta1 = beta1
        self.beta2 = beta2
        logB1 = _log(beta1)
        logB2 = _log(beta2)
        r = beta1 / beta2.squareRoot()
        logR = _log(r)
    }

    @inline(__always)
    func step(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
              _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ n: Int,
              _ k: Int, _ lrt: Float, _ eps: Float) {
        let kf = Float(k)
        // Past ~400 missed steps b1^k and r^k are below 1e-18: skip two exponentials.
        let b1k: Float = k > 400 ? 0 : _exp(kf * logB1)
        let rk: Float = k > 400 ? 0 : _exp(kf * logR)
        let b2k = _exp(kf * logB2)
        let replay = SIMD8<Float>(repeating: lrt * r * (1 - rk) / (1 - r))
        let db1 = SIMD8<Float>(repeating: beta1 * b1k), vc1 = SIMD8<Float>(repeating: 1 - beta1)
        let db2 = SIMD8<Float>(repeating: beta2 * b2k), vc2 = SIMD8<Float>(repeating: 1 - beta2)
        let vlr = SIMD8<Float>(repeating: lrt), veps = SIMD8<Float>(repeating: eps)
        var j = 0
        while j + 8 <= n {
            let gv = load8(g + j), m0 = load8(m + j), v0 = load8(v + j)
            var pv = load8(p + j) - replay * m0 / (sqrt8(v0) + veps)
            let mv = db1 * m0 + vc1 * gv
            let vv = db2 * v0 + vc2 * (gv * gv)
            pv -= vlr * mv / (sqrt8(vv) + veps)
            store8(mv, m + j)
            store8(vv, v + j)
            store8(pv, p + j)
            j += 8
        }
        let sReplay = replay[0], sb1 = beta1 * b1k, sb2 = beta2 * b2k
        while j < n {
            let gv = g[j], m0 = m[j], v0 = v[j]
            var pv = p[j] - sReplay * m0 / (v0.squareRoot() + eps)
            let mv = sb1 * m0 + (1 - beta1) * gv
            let vv = sb2 * v0 + (1 - beta2) * gv * gv
            pv -= lrt * mv / (vv.squareRoot() + eps)
            m[j] = mv
            v[j] = vv
            p[j] = pv
            j += 1
        }
    }
}
