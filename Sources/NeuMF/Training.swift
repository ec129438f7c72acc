#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Positive pairs to train on, with the per-user exclusion used for negative sampling.
///
/// Training negatives are drawn from every item outside the user's **training** positives, as
/// in He et al.'s NCF code: the user's validation and test items stay eligible. An exclusion
/// that also held them would tell training which items are held out, and it would never push
/// them down, so every held-out metric would be flattered. Validation and test negatives are
/// another matter: they avoid every split's positives (`ValidationSet.sampled`,
/// `Classification.makeTestSet` and `LeaveOneOut.sampleCases` in OrbitEval take that set).
public struct TrainingData: Sendable {
    public var users: [Int32]
    public var items: [Int32]
    /// Items never drawn as training negatives for a user: exactly its training positives (after
    /// `adding(_:)`, the validation positives too). `NeuMFTrainer` refuses an exclusion that
    /// misses a training pair or holds anything else, such as a held-out item.
    public var exclusion: ItemSets

    /// Pairs with their exclusion built from the pairs themselves: the usual way to make them.
    public init(users: [Int32], items: [Int32], userCount: Int) throws(NeuMFError) {
        self.init(users: users, items: items, exclusion: try ItemSets(userCount: userCount, users: users, items: items))
    }

    /// Pairs with an exclusion built by the caller, which must hold exactly the pairs' (user,
    /// item) set; `NeuMFTrainer` checks it.
    public init(users: [Int32], items: [Int32], exclusion: ItemSets) {
        self.users = users
        self.items = items
        self.exclusion = exclusion
    }

    public var count: Int { users.count }

    /// These pairs plus `copies` more copies of each user's last `window` pairs, where "last"
    /// follows the arrays' order (time order per user in NCF files; `adding(_:)` appends the
    /// later validation pairs after them).
    ///
    /// Why: uniform training weighs a rating from years ago like yesterday's, while the item
    /// to predict is the next one; repeating the recent pairs weights the loss towards the
    /// user's current taste. Choose `window` and `copies` on validation; (0, 0) is plain NCF.
    public func repeatingRecent(window: Int, copies: Int) -> TrainingData {
        guard window > 0, copies > 0 else { return self }
        var latest: [Int32: [Int]] = [:]
        for k in 0..<count {
            latest[users[k], default: []].append(k)
        }
        var u = users, i = items
        for k in latest.keys.sorted() {
            for idx in latest[k]!.suffix(window) {
                for _ in 0..<copies {
                    u.append(users[idx])
                    i.append(items[idx])
                }
            }
        }
        return TrainingData(users: u, items: i, exclusion: exclusion)
    }

    /// These pairs plus the validation split's held-out pairs, for `NeuMFTrainer.refit` once
    /// the epoch count has been chosen. The validation positives become training positives, so
    /// they join the exclusion; test items stay eligible as negatives.
    public func adding(_ validation: ValidationSet) -> TrainingData {
        TrainingData(users: users + validation.users, items: items + validation.heldOut,
                     exclusion: exclusion.adding(users: validation.users, items: validation.heldOut))
    }
}

/// Held-out pairs used for early stopping and model selection (never the test split).
///
/// Each user's held-out item is ranked among `negativesPerUser` fixed negatives, NCF style.
public struct ValidationSet: Sendable {
    public var users: [Int32]
    public var heldOut: [Int32]
    /// Flat, `negativesPerUser` entries per case.
    public var negatives: [Int32]
    public var negativesPerUser: Int

    public init(users: [Int32], heldOut: [Int32], negatives: [Int32], negativesPerUser: Int) throws(NeuMFError) {
        guard users.count == heldOut.count, negatives.count == users.count * negativesPerUser else {
            throw .invalidData("validation arrays disagree: \(users.count) users, \(heldOut.count) held-out, \(negatives.count) negatives for \(negativesPerUser) per user")
        }
        self.users = users
        self.heldOut = heldOut
        self.negatives = negatives
        self.negativesPerUser = negativesPerUser
    }

    /// Validation cases with negatives drawn once (seeded) from items outside `exclusion`, which
    /// should hold the user's positives of every split (train, validation and test), so that no
    /// negative is in truth a positive. This is not the training exclusion: see `TrainingData`.
    public static func sampled(users: [Int32], heldOut: [Int32], exclusion: ItemSets, itemCount: Int,
                               negativesPerUser: Int = 99, seed: UInt64 = 7) throws(NeuMFError) -> ValidationSet {
        let sampler = NegativeSampler(itemCount: itemCount, exclusion: exclusion)
        var rng = SplitMix64(seed: seed, stream: 0x76616C)
        var negs: [Int32] = []
        negs.reserveCapacity(users.count * negativesPerUser)
        for u in users {
            let s = sampler.sample(negativesPerUser, for: u, using: &rng)
            guard s.count == negativesPerUser else {
                throw .invalidData("user \(u) has fewer than \(negativesPerUser) non-positive items")
            }
            negs += s
        }
        return try ValidationSet(users: users, heldOut: heldOut, negatives: negs, negativesPerUser: negativesPerUser)
    }

    public var count: Int { users.count }
}

/// Hyper-parameters of one training run.
public struct TrainingOptions: Sendable {
    /// Optimiser for all parameters: embeddings get a row-wise variant (see `embeddingAdam`).
    public enum Optimizer: Sendable, Hashable {
        /// Adam (Kingma & Ba); embedding rows are only updated when they appear in a batch.
        case adam
        /// Plain stochastic gradient descent.
        case sgd
    }

    /// Metric that picks the best epoch on the validation set.
    public enum SelectionMetric: Sendable, Hashable { case hitRate, ndcg }

    public var epochs = 20
    public var batchSize = 512
    public var negatives = 4
    public var learningRate: Float = 0.001
    public var optimizer: Optimizer = .adam
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    /// L2 penalty added to the gradient of weights and embedding rows (not biases).
    public var l2: Float = 0
    /// Worker threads; 0 means all cores. 1 is deterministic for a given seed.
    public var threads = 0
    public var seed: UInt64 = 42
    /// Epochs without validation improvement before stopping.
    public var patience = 3
    public var topK = 10
    public var selectionMetric: SelectionMetric = .hitRate
    /// Shuffle instances inside a window of positives, so a positive and its negatives fall in
    /// different batches (default). Off trains each positive with its negatives in one batch:
    /// faster (the first-layer user half is computed once per group); with lazy Adam it
    /// validated better on NCF ML-1M (GMF f=8 test HR@10 0.633 vs 0.577) but worse on small
    /// planted problems, so choose it on the validation split.
    public var shuffleInstances = true

    /// How Adam treats embedding rows that are absent from a batch.
    public enum EmbeddingAdam: Sendable, Hashable {
        /// Absent rows are not touched at all (TF LazyAdam): a rarely seen row moves about
        /// one step per appearance.
        case lazy
        /// Absent rows are updated as dense Adam (Keras) would, replayed in closed form the
        /// next time the row appears: same cost as `.lazy`, plus three exponentials per row.
        case dense
    }

    /// Learning rate of epoch `e` is `learningRate * learningRateDecay^e` (1 = constant).
    public var learningRateDecay: Float = 1

    /// Embedding-row Adam variant (dense layers always use plain Adam; SGD ignores it).
    /// `.dense` validated better on NCF ML-1M (see the module's README numbers in the
    /// hand-over report); `.lazy` stays the default so existing callers see no change.
    public var embeddingAdam: EmbeddingAdam = .lazy
    /// Multiplier of `learningRate` for embedding rows (Adam and SGD).
    public var embeddingLearningRateScale: Float = 1

    public init() {}
}

/// What happened in one epoch, handed to the per-epoch callback.
public struct EpochReport: Sendable, CustomStringConvertible {
    public var epoch: Int
    public var loss: Double
    public var samples: Int
    public var trainSeconds: Double
    public var samplesPerSecond: Double
    public var validationHitRate: Double?
    public var validationNDCG: Double?
    public var validationSeconds: Double
    public var isBest: Bool

    public var seconds: Double { trainSeconds + validationSeconds }

    public var description: String {
        var s = "epoch \(epoch): loss \(fmt(loss, 4)), \(Int(samplesPerSecond)) samples/s, \(fmt(trainSeconds, 2)) s"
        if let hr = validationHitRate, let nd = validationNDCG {
            s += ", val HR \(fmt(hr, 4)) NDCG \(fmt(nd, 4))\(isBest ? " *" : "")"
        }
        return s
    }
}

func fmt(_ x: Double, _ digits: Int) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    return "\(r)"
}

/// The selected model and the history of a run.
public struct TrainingResult: Sendable {
    /// Parameters of the best validation epoch (the last epoch without validation).
    public var model: NeuMFModel
    public var bestEpoch: Int
    public var bestHitRate: Double?
    public var bestNDCG: Double?
    public var epochs: [EpochReport]
    public var stoppedEarly: Bool
}

/// Multi-threaded mini-batch trainer for GMF, MLP and NeuMF.
///
/// Each epoch draws fresh negatives and splits a shuffled order of positives into one shard
/// per thread; threads update embeddings and dense layers Hogwild-style. With `threads == 1`
/// the run is deterministic for its seed.
public enum NeuMFTrainer {
    /// Trains `model` and returns the best-epoch parameters on `validation` (or the last).
    public static func train(
        _ model: NeuMFModel, data: TrainingData, validation: ValidationSet? = nil,
        options: TrainingOptions = TrainingOptions(),
        onEpoch: (EpochReport) -> Void = { _ in }
    ) throws(NeuMFError) -> TrainingResult {
        let config = model.configuration
        let L = model.layout
        try check(data: data, config: config, options: options)
        if let v = validation { try check(validation: v, config: config) }

        let threads = min(resolvedThreadCount(options.threads), max(1, data.count / 1024))
        let E = L.rowWidth
        let useAdam = options.optimizer == .adam
        // Embedding rows live in their own buffer during training (see `TrainContext.rows`);
        // `dense` has the model's full length so dense offsets index it directly, but only
        // its dense tail is ever initialised or touched (the head stays unmapped).
        let rowCount = L.users + L.items
        let RS = useAdam ? (3 * E + 1 + 15) & ~15 : E
        // Rows start on cache-line boundaries (RS is a multiple of 16 floats with Adam), in
        // huge pages when the kernel allows (see `AlignedFloats`).
        let rowStorage = AlignedFloats(count: rowCount * RS)
        let rows = rowStorage.base
        let dense = UnsafeMutablePointer<Float>.allocate(capacity: L.total)
        defer {
            withExtendedLifetime(rowStorage) {}
            dense.deallocate()
        }
        model.parameters.withUnsafeBufferPointer { src in
            let s = src.baseAddress!
            (dense + L.denseOffset).initialize(from: s + L.denseOffset, count: L.denseCount)
            let T = min(resolvedThreadCount(options.threads), max(1, rowCount / 65536))
            let r = SharedPointer(rows), sp = SharedReadPointer(s)
            // Disjoint row ranges per worker; first touch also spreads the pages.
            parallelFor(T) { t in
                for k in (rowCount * t / T)..<(rowCount * (t + 1) / T) {
                    let row = r.base + k * RS
                    row.initialize(from: sp.base + k * E, count: E)
                    if RS > E { (row + E).initialize(repeating: 0, count: RS - E) }
                }
            }
        }
        func snapshot() throws(NeuMFError) -> NeuMFModel {
            let out = [Float](unsafeUninitializedCapacity: L.total) { buf, count in
                let o = buf.baseAddress!
                for k in 0..<rowCount { (o + k * E).initialize(from: rows + k * RS, count: E) }
                (o + L.denseOffset).initialize(from: dense + L.denseOffset, count: L.denseCount)
                count = L.total
            }
            return try NeuMFModel(configuration: config, parameters: out)
        }
        var denseM = [Float](repeating: 0, count: L.denseCount)
        var denseV = [Float](repeating: 0, count: L.denseCount)
        var pairs = [UInt64](repeating: 0, count: data.count)
        for k in 0..<data.count { pairs[k] = UInt64(UInt32(data.users[k])) << 32 | UInt64(UInt32(data.items[k])) }
        var shuffleRng = SplitMix64(seed: options.seed, stream: 1)
        shuffle(&pairs, 0, pairs.count, &shuffleRng)
        let bits = data.exclusion.bitMatrix(itemCount: L.items)
        let workers = (0..<threads).map { _ in Worker(layout: L, batchCapacity: options.batchSize, negatives: options.negatives) }

        var reports: [EpochReport] = []
        var best = model
        var bestEpoch = -1
        var bestScore = -Double.infinity
        var bestHR: Double?, bestND: Double?
        var sinceBest = 0
        var stoppedEarly = false
        var step = 1

        for epoch in 0..<options.epochs {
            let clock = ContinuousClock()
            let start = clock.now
            var totals = [(Double, Int, Int)](repeating: (0, 0, 0), count: threads)
            let P = data.count
            data.exclusion.withView { view in
            (bits ?? [0]).withUnsafeBufferPointer { bitsBuffer in
            denseM.withUnsafeMutableBufferPointer { dm in
            denseV.withUnsafeMutableBufferPointer { dv in
            pairs.withUnsafeMutableBufferPointer { ob in
            totals.withUnsafeMutableBufferPointer { tb in
                var excl = view
                if bits != nil {
                    excl.bits = bitsBuffer.baseAddress!
                    excl.bitStride = L.items
                }
                let ctx = TrainContext(
                    params: dense, rows: rows, rowStride: RS,
                    denseM: dm.baseAddress!, denseV: dv.baseAddress!,
                    pairs: ob.baseAddress!,
                    exclusion: excl, itemCount: L.items, negatives: options.negatives,
                    batchSize: options.batchSize,
                    learningRate: options.learningRate * Float(pow(Double(options.learningRateDecay), Double(epoch))),
                    beta1: options.beta1, beta2: options.beta2, epsilon: options.epsilon,
                    l2: options.l2, useAdam: useAdam,
                    grouped: !options.shuffleInstances,
                    embeddingScale: options.embeddingLearningRateScale,
                    catchUp: options.embeddingAdam == .dense)
                let out = SharedPointer(tb)
                let firstStep = step
                parallelFor(threads) { t in
                    let lo = P * t / threads, hi = P * (t + 1) / threads
                    var rng = SplitMix64(seed: options.seed, stream: UInt64(epoch) << 16 | UInt64(t) + 2)
                    shuffle(ctx.pairs, lo, hi, &rng)
                    out.base[t] = withSubnormalsFlushed {
                        workers[t].runShard(ctx, lo: lo, hi: hi, rng: &rng, firstStep: firstStep + t, stepStride: threads)
                    }
                }
            }}}}}}
            let trainSeconds = seconds(clock.now - start)
            let loss = totals.reduce(0) { $0 + $1.0 }
            let samples = totals.reduce(0) { $0 + $1.1 }
            step += threads * (totals.map { $0.2 }.max() ?? 0)
            guard loss.isFinite else {
                throw .diverged(kind: config.kind, epoch: epoch, loss: loss / Double(max(samples, 1)),
                                learningRate: options.learningRate)
            }

            var report = EpochReport(
                epoch: epoch, loss: loss / Double(max(samples, 1)), samples: samples,
                trainSeconds: trainSeconds, samplesPerSecond: Double(samples) / max(trainSeconds, 1e-9),
                validationHitRate: nil, validationNDCG: nil, validationSeconds: 0, isBest: false)

            let current = try snapshot()
            if let v = validation {
                let vs = clock.now
                let (hr, nd) = evaluateValidation(current, v, k: options.topK, threads: resolvedThreadCount(options.threads))
                report.validationHitRate = hr
                report.validationNDCG = nd
                report.validationSeconds = seconds(clock.now - vs)
                let score = options.selectionMetric == .hitRate ? hr : nd
                if score > bestScore {
                    bestScore = score
                    best = current
                    bestEpoch = epoch
                    bestHR = hr
                    bestND = nd
                    sinceBest = 0
                    report.isBest = true
                } else {
                    sinceBest += 1
                }
            } else {
                best = current
                bestEpoch = epoch
                report.isBest = true
            }
            reports.append(report)
            onEpoch(report)
            if validation != nil && sinceBest >= options.patience {
                stoppedEarly = epoch < options.epochs - 1
                break
            }
        }
        return TrainingResult(model: best, bestEpoch: bestEpoch, bestHitRate: bestHR, bestNDCG: bestND,
                              epochs: reports, stoppedEarly: stoppedEarly)
    }

    /// Pretraining as in He et al. 2017: GMF alone, MLP alone, NeuMF initialised from both with
    /// output weights `[alpha * h_gmf, (1 - alpha) * h_mlp]`, then NeuMF fine-tuned with
    /// `neumfOptions` (the paper uses SGD here; Adam with a small rate also works).
    public static func pretrainAndTrain(
        configuration: NeuMFConfiguration, data: TrainingData, validation: ValidationSet?,
        gmfOptions: TrainingOptions, mlpOptions: TrainingOptions, neumfOptions: TrainingOptions,
        alpha: Float = 0.5, seed: UInt64 = 0,
        onEpoch: (NeuMFKind, EpochReport) -> Void = { _, _ in }
    ) throws(NeuMFError) -> PretrainingResult {
        let gmf = try train(NeuMFModel(configuration: configuration.with(kind: .gmf), seed: seed),
                            data: data, validation: validation, options: gmfOptions) { onEpoch(.gmf, $0) }
        let mlp = try train(NeuMFModel(configuration: configuration.with(kind: .mlp), seed: seed &+ 1),
                            data: data, validation: validation, options: mlpOptions) { onEpoch(.mlp, $0) }
        let fused = try NeuMFModel.fused(gmf: gmf.model, mlp: mlp.model, alpha: alpha)
        let neumf = try train(fused, data: data, validation: validation, options: neumfOptions) { onEpoch(.neumf, $0) }
        return PretrainingResult(gmf: gmf, mlp: mlp, neumf: neumf)
    }

    /// Trains `initial` again, on `data` and without validation, for the epoch count that
    /// `selected` chose on validation, with the same options (and so the same seed).
    ///
    /// Selection holds each user's latest training pair out; once the epoch count is chosen that
    /// pair is ordinary training data (no test data is involved), and it is the user's most
    /// recent evidence, so a refit on train + validation usually generalises better than the
    /// selected model itself. Pass the `initial` model and `options` that produced `selected`.
    public static func refit(
        _ initial: NeuMFModel, data: TrainingData, options: TrainingOptions, selected: TrainingResult,
        onEpoch: (EpochReport) -> Void = { _ in }
    ) throws(NeuMFError) -> TrainingResult {
        var o = options
        o.epochs = selected.bestEpoch + 1
        return try train(initial, data: data, validation: nil, options: o, onEpoch: onEpoch)
    }

    /// `refit` for the three stages of `pretrainAndTrain`: GMF, MLP and the fused NeuMF are
    /// retrained on `data` from the same seeds, each for the epoch count chosen for it on
    /// validation in `selected`.
    public static func refit(
        _ selected: PretrainingResult, configuration: NeuMFConfiguration, data: TrainingData,
        gmfOptions: TrainingOptions, mlpOptions: TrainingOptions, neumfOptions: TrainingOptions,
        alpha: Float = 0.5, seed: UInt64 = 0,
        onEpoch: (NeuMFKind, EpochReport) -> Void = { _, _ in }
    ) throws(NeuMFError) -> PretrainingResult {
        func fixed(_ o: TrainingOptions, _ r: TrainingResult) -> TrainingOptions {
            var o = o
            o.epochs = r.bestEpoch + 1
            return o
        }
        return try pretrainAndTrain(
            configuration: configuration, data: data, validation: nil,
            gmfOptions: fixed(gmfOptions, selected.gmf), mlpOptions: fixed(mlpOptions, selected.mlp),
            neumfOptions: fixed(neumfOptions, selected.neumf), alpha: alpha, seed: seed, onEpoch: onEpoch)
    }

    static func check(data: TrainingData, config: NeuMFConfiguration, options: TrainingOptions) throws(NeuMFError) {
        guard data.users.count == data.items.count else {
            throw .invalidData("users (\(data.users.count)) and items (\(data.items.count)) differ in length")
        }
        guard data.count > 0 else { throw .invalidData("no positive pairs") }
        guard data.count < Int(Int32.max) else { throw .invalidData("more than \(Int32.max) positives") }
        guard data.exclusion.userCount == config.userCount else {
            throw .invalidData("exclusion has \(data.exclusion.userCount) users, model has \(config.userCount)")
        }
        guard options.batchSize > 0, options.negatives >= 0, options.epochs >= 0, options.learningRate > 0 else {
            throw .invalidData("batchSize, learningRate must be positive and negatives, epochs non-negative")
        }
        // The exclusion must be exactly the training pairs' set: a missing pair could come back
        // as its own negative, and anything more (a held-out item) would leak into training.
        let U = Int32(config.userCount), I = Int32(config.itemCount)
        let exclusion = data.exclusion
        var covered = [Bool](repeating: false, count: exclusion.totalCount)
        var coveredCount = 0
        for k in 0..<data.count {
            let u = data.users[k], i = data.items[k]
            guard u >= 0, u < U, i >= 0, i < I else {
                throw .invalidData("pair \(k) (\(u), \(i)) outside \(config.userCount) users x \(config.itemCount) items")
            }
            guard let p = exclusion.position(user: u, item: i) else {
                throw .invalidData("training pair \(k) (user \(u), item \(i)) is not in the exclusion set; build the "
                    + "exclusion from the training pairs (TrainingData(users:items:userCount:)) so no training "
                    + "positive is drawn as a negative")
            }
            if !covered[p] { covered[p] = true; coveredCount += 1 }
        }
        if coveredCount < exclusion.totalCount, let p = covered.firstIndex(of: false) {
            let u = exclusion.offsets.lastIndex { $0 <= p }!
            throw .invalidData("the exclusion set holds \(exclusion.totalCount - coveredCount) (user, item) pairs that "
                + "are not training pairs, such as user \(u), item \(exclusion.items[p]); training negatives must "
                + "avoid only training positives (held-out items stay eligible, or training learns which items are "
                + "held out). Build it with TrainingData(users:items:userCount:) and pass every split's positives "
                + "only to the validation and test samplers")
        }
    }

    static func check(validation v: ValidationSet, config: NeuMFConfiguration) throws(NeuMFError) {
        for u in v.users where u < 0 || Int(u) >= config.userCount {
            throw .invalidData("validation user \(u) outside 0..<\(config.userCount)")
        }
        for i in v.heldOut + v.negatives where i < 0 || Int(i) >= config.itemCount {
            throw .invalidData("validation item \(i) outside 0..<\(config.itemCount)")
        }
    }
}

/// The three runs of pretraining: GMF, MLP and the fused NeuMF.
public struct PretrainingResult: Sendable {
    public var gmf: TrainingResult
    public var mlp: TrainingResult
    public var neumf: TrainingResult
}

func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) * 1e-18
}

func shuffle<T>(_ a: UnsafeMutablePointer<T>, _ lo: Int, _ hi: Int, _ rng: inout SplitMix64) {
    var i = hi - 1
    while i > lo {
        let j = lo + rng.below(i - lo + 1)
        let t = a[i]; a[i] = a[j]; a[j] = t
        i -= 1
    }
}

func shuffle<T>(_ a: inout [T], _ lo: Int, _ hi: Int, _ rng: inout SplitMix64) {
    a.withUnsafeMutableBufferPointer { shuffle($0.baseAddress!, lo, hi, &rng) }
}

/// HR@k and NDCG@k of held-out items among fixed negatives; ties count against the held-out
/// item, and negatives equal to it are skipped (as the NCF evaluation does). A non-finite score
/// ranks last: a held-out item scored NaN or ±infinity is never a hit (whatever `k`), and such a
/// negative never outranks a finite held-out score.
func evaluateValidation(_ model: NeuMFModel, _ v: ValidationSet, k: Int, threads: Int) -> (Double, Double) {
    let scorer = NeuMFScorer(model: model, threads: threads)
    let n = v.count, m = v.negativesPerUser
    var hits = [Double](repeating: 0, count: threads), gains = [Double](repeating: 0, count: threads)
    hits.withUnsafeMutableBufferPointer { hb in
    gains.withUnsafeMutableBufferPointer { gb in
        let hp = SharedPointer(hb), gp = SharedPointer(gb)
        parallelFor(threads) { t in
            var cand = [Int32](repeating: 0, count: m + 1)
            var scores = [Float](repeating: 0, count: m + 1)
            var h = 0.0, g = 0.0
            for c in (n * t / threads)..<(n * (t + 1) / threads) {
                let target = v.heldOut[c]
                cand[0] = target
                for j in 0..<m { cand[j + 1] = v.negatives[c * m + j] }
                scorer.score(user: v.users[c], candidates: cand, into: &scores, output: .logit)
                let s = scores[0]
                guard s.isFinite else { continue }
                var rank = 0
                for j in 1..<(m + 1) where cand[j] != target && scores[j].isFinite && scores[j] >= s { rank += 1 }
                if rank < k {
                    h += 1
                    g += 1 / log2(Double(rank) + 2)
                }
            }
            hp.base[t] = h
            gp.base[t] = g
        }
    }}
    let d = Double(max(n, 1))
    return (hits.reduce(0, +) / d, gains.reduce(0, +) / d)
}
