import Dispatch
import NeuMF

#if canImport(Glibc)
import Glibc
#endif

/// One user of the NCF leave-one-out protocol: the held-out item and its sampled negatives.
public struct LeaveOneOutCase: Sendable, Hashable {
    public var user: Int32
    public var heldOut: Int32
    public var negatives: [Int32]

    public init(user: Int32, heldOut: Int32, negatives: [Int32]) {
        self.user = user
        self.heldOut = heldOut
        self.negatives = negatives
    }
}

/// HR@K and NDCG@K (and, for full ranking, Recall@K) averaged over users.
public struct RankingReport: Sendable, Equatable, CustomStringConvertible {
    public var k: Int
    public var users: Int
    public var hitRate: Double
    public var ndcg: Double
    /// Equal to `hitRate` when every user has one held-out item.
    public var recall: Double

    public var description: String {
        "HR@\(k) \(r4(hitRate)) NDCG@\(k) \(r4(ndcg)) Recall@\(k) \(r4(recall)) (\(users) users)"
    }
}

/// The NCF leave-one-out protocol: rank each user's held-out item among sampled negatives.
public enum LeaveOneOut {
    /// HR@k and NDCG@k of every case, scored on `threads` threads (0 = all cores).
    /// Ties count against the held-out item; negatives equal to it are skipped (the NCF code
    /// keys scores by item, which drops them). Non-finite scores rank last (`Metrics.rank`): a
    /// held-out item scored NaN or ±infinity is never a hit, so a scorer that fails everywhere
    /// scores 0.
    public static func evaluate(cases: [LeaveOneOutCase], scorer: some RecommendationScorer, k: Int = 10,
                                threads: Int = 0) -> RankingReport {
        let T = workerCount(threads, cases.count, per: 64)
        var hits = [Double](repeating: 0, count: T), gains = [Double](repeating: 0, count: T)
        hits.withUnsafeMutableBufferPointer { hb in
            gains.withUnsafeMutableBufferPointer { gb in
                let h = Shared(hb.baseAddress!), g = Shared(gb.baseAddress!)
                // Each worker writes its own slot of `hits` / `gains`.
                concurrent(T) { t in
                    var cand: [Int32] = [], scores: [Float] = []
                    var hs = 0.0, gs = 0.0
                    for c in chunk(t, T, cases.count) {
                        let cs = cases[c]
                        cand.removeAll(keepingCapacity: true)
                        cand.append(cs.heldOut)
                        for n in cs.negatives where n != cs.heldOut { cand.append(n) }
                        if scores.count < cand.count { scores = [Float](repeating: 0, count: cand.count) }
                        score(scorer, cs.user, cand, &scores)
                        let r = Metrics.rank(of: scores[0], among: scores[1..<cand.count])
                        hs += Metrics.hitRate(rank: r, k: k)
                        gs += Metrics.ndcg(rank: r, k: k)
                    }
                    h.p[t] = hs
                    g.p[t] = gs
                }
            }
        }
        let n = Double(max(cases.count, 1))
        let hr = hits.reduce(0, +) / n
        return RankingReport(k: k, users: cases.count, hitRate: hr, ndcg: gains.reduce(0, +) / n, recall: hr)
    }

    /// Cases with `negatives` items per user drawn (seeded, with replacement) from items
    /// outside `exclusion`, which should hold the user's positives of every split.
    public static func sampleCases(users: [Int32], heldOut: [Int32], exclusion: ItemSets, itemCount: Int,
                                   negatives: Int = 99, seed: UInt64 = 1) throws(EvalError) -> [LeaveOneOutCase] {
        guard users.count == heldOut.count else { throw .invalidInput("users and heldOut differ in length") }
        let sampler = NegativeSampler(itemCount: itemCount, exclusion: exclusion)
        var rng = SplitMix64(seed: seed, stream: 0x6C6F6F)
        var out: [LeaveOneOutCase] = []
        out.reserveCapacity(users.count)
        for k in 0..<users.count {
            let negs = sampler.sample(negatives, for: users[k], using: &rng)
            guard negs.count == negatives else {
                throw .invalidInput("user \(users[k]) has fewer than \(negatives) non-positive items")
            }
            out.append(LeaveOneOutCase(user: users[k], heldOut: heldOut[k], negatives: negs))
        }
        return out
    }

    /// Splits pairs into train and, per user, the pair that comes last in the given order
    /// (chronological files: the most recent interaction), as a validation or test split.
    /// Users with a single pair keep it in train.
    public static func splitLast(users: [Int32], items: [Int32]) -> (train: PairList, heldOut: PairList) {
        var lastIndex: [Int32: Int] = [:]
        var count: [Int32: Int] = [:]
        for k in 0..<users.count {
            lastIndex[users[k]] = k
            count[users[k], default: 0] += 1
        }
        var held = [Bool](repeating: false, count: users.count)
        for (u, k) in lastIndex where count[u]! > 1 { held[k] = true }
        var train = PairList(), out = PairList()
        for k in 0..<users.count {
            if held[k] { out.append(users[k], items[k]) } else { train.append(users[k], items[k]) }
        }
        // Held-out pairs in user order, for stable reports.
        let order = out.users.indices.sorted { out.users[$0] < out.users[$1] }
        return (train, PairList(users: order.map { out.users[$0] }, items: order.map { out.items[$0] }))
    }
}

/// Full-ranking evaluation: every item is a candidate except the user's train positives.
public enum FullRanking {
    /// HR@k, Recall@k and NDCG@k for each `k`, over users with at least one held-out item.
    /// Held-out items stay candidates even if they also appear in `exclude`; ties count
    /// against held-out items. Non-finite scores (NaN, ±infinity) rank last: such a held-out
    /// item is never found, and such another item never outranks a finite held-out one.
    public static func evaluate(heldOut: ItemSets, exclude: ItemSets, itemCount: Int,
                                scorer: some RecommendationScorer, ks: [Int] = [10],
                                users: [Int32]? = nil, threads: Int = 0) -> [RankingReport] {
        let evalUsers = (users ?? (0..<Int32(heldOut.userCount)).map { $0 }).filter { heldOut.count(of: $0) > 0 }
        let T = workerCount(threads, evalUsers.count, per: 4)
        let nk = ks.count
        var sums = [Double](repeating: 0, count: T * nk * 3)
        let all = (0..<Int32(itemCount)).map { $0 }
        sums.withUnsafeMutableBufferPointer { sb in
            let out = Shared(sb.baseAddress!)
            // Each worker accumulates into its own `nk * 3` block of `sums`.
            concurrent(T) { t in
                var scores = [Float](repeating: 0, count: itemCount)
                var isHeld = [Bool](repeating: false, count: itemCount)
                var others: [Float] = []
                for idx in chunk(t, T, evalUsers.count) {
                    let u = evalUsers[idx]
                    score(scorer, u, all, &scores)
                    // Below every finite score, so a plain comparison puts non-finite ones last.
                    for i in 0..<itemCount where !scores[i].isFinite { scores[i] = -.infinity }
                    let held = Array(heldOut.items(of: u))
                    for h in held { isHeld[Int(h)] = true }
                    var excluded = Set<Int32>()
                    if exclude.userCount > Int(u) { excluded = Set(exclude.items(of: u)) }
                    others.removeAll(keepingCapacity: true)
                    for i in 0..<itemCount where !isHeld[i] && !excluded.contains(Int32(i)) {
                        others.append(scores[i])
                    }
                    let sortedOthers = held.count > 8 ? others.sorted() : []
                    var ranks: [Int] = []
                    for (a, h) in held.enumerated() {
                        let s = scores[Int(h)]
                        guard s.isFinite else {
                            ranks.append(Metrics.unranked)
                            continue
                        }
                        var r: Int
                        if held.count > 8 {
                            r = sortedOthers.count - lowerBound(sortedOthers, s)
                        } else {
                            r = Metrics.rank(of: s, among: others)
                        }
                        for (b, h2) in held.enumerated() where b != a {
                            let s2 = scores[Int(h2)]
                            if s2 > s || (s2 == s && b < a) { r += 1 }
                        }
                        ranks.append(r)
                    }
                    for h in held { isHeld[Int(h)] = false }
                    for (j, k) in ks.enumerated() {
                        let m = Metrics.ranking(ranks: ranks, k: k)
                        out.p[(t * nk + j) * 3] += m.hit
                        out.p[(t * nk + j) * 3 + 1] += m.recall
                        out.p[(t * nk + j) * 3 + 2] += m.ndcg
                    }
                }
            }
        }
        let n = Double(max(evalUsers.count, 1))
        return ks.enumerated().map { j, k in
            var h = 0.0, r = 0.0, g = 0.0
            for t in 0..<T {
                h += sums[(t * nk + j) * 3]
                r += sums[(t * nk + j) * 3 + 1]
                g += sums[(t * nk + j) * 3 + 2]
            }
            return RankingReport(k: k, users: evalUsers.count, hitRate: h / n, ndcg: g / n, recall: r / n)
        }
    }

    static func lowerBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if a[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// The reference notebook's 1:4 classification test: positives plus sampled negatives,
/// thresholded at 0.5.
public enum Classification {
    /// A labelled test set: every positive followed by `negativesPerPositive` items drawn
    /// (seeded) from outside `exclusion` (the user's positives of every split).
    public static func makeTestSet(users: [Int32], items: [Int32], exclusion: ItemSets, itemCount: Int,
                                   negativesPerPositive: Int = 4, seed: UInt64 = 2) -> LabelledPairs {
        let sampler = NegativeSampler(itemCount: itemCount, exclusion: exclusion)
        var rng = SplitMix64(seed: seed, stream: 0x636C73)
        var out = LabelledPairs()
        for k in 0..<users.count {
            out.append(users[k], items[k], true)
            for n in sampler.sample(negativesPerPositive, for: users[k], using: &rng) {
                out.append(users[k], n, false)
            }
        }
        return out
    }

    /// Scores every pair (grouped by user, on `threads` threads) and returns the metrics.
    public static func evaluate(_ set: LabelledPairs, scorer: some RecommendationScorer, threshold: Float = 0.5,
                                threads: Int = 0) -> ClassificationMetrics {
        let n = set.users.count
        // Group indices by user so the scorer sees one user per call.
        let order = set.users.indices.sorted { set.users[$0] < set.users[$1] }
        var starts: [Int] = []
        for (pos, idx) in order.enumerated() where pos == 0 || set.users[order[pos - 1]] != set.users[idx] {
            starts.append(pos)
        }
        starts.append(n)
        let groupStarts = starts
        var scores = [Float](repeating: 0, count: n)
        let groups = starts.count - 1
        let T = workerCount(threads, groups, per: 16)
        scores.withUnsafeMutableBufferPointer { sb in
            let out = Shared(sb.baseAddress!)
            // Each group's indices are written by exactly one worker.
            concurrent(T) { t in
                var cand: [Int32] = [], s: [Float] = []
                for g in chunk(t, T, groups) {
                    let lo = groupStarts[g], hi = groupStarts[g + 1]
                    cand = (lo..<hi).map { set.items[order[$0]] }
                    if s.count < cand.count { s = [Float](repeating: 0, count: cand.count) }
                    score(scorer, set.users[order[lo]], cand, &s)
                    for k in lo..<hi { out.p[order[k]] = s[k - lo] }
                }
            }
        }
        return Metrics.classification(scores: scores, labels: set.labels, threshold: threshold)
    }
}

/// Parallel `users` / `items` arrays of (user, item) pairs.
public struct PairList: Sendable, Equatable {
    public var users: [Int32] = []
    public var items: [Int32] = []

    public init(users: [Int32] = [], items: [Int32] = []) {
        self.users = users
        self.items = items
    }

    public var count: Int { users.count }

    public mutating func append(_ u: Int32, _ i: Int32) {
        users.append(u)
        items.append(i)
    }
}

/// Pairs with binary labels, for classification tests.
public struct LabelledPairs: Sendable, Equatable {
    public var users: [Int32] = []
    public var items: [Int32] = []
    public var labels: [Bool] = []

    public init() {}

    public mutating func append(_ u: Int32, _ i: Int32, _ label: Bool) {
        users.append(u)
        items.append(i)
        labels.append(label)
    }
}

/// Pointer for per-worker disjoint writes inside `concurrent`; the buffer outlives the call.
struct Shared<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
}

func concurrent(_ n: Int, _ body: @Sendable (Int) -> Void) {
    if n <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: n, execute: body) }
}

func chunk(_ t: Int, _ T: Int, _ n: Int) -> Range<Int> { (n * t / T)..<(n * (t + 1) / T) }

func workerCount(_ requested: Int, _ work: Int, per: Int) -> Int {
    var n = requested
    if n <= 0 {
        #if canImport(Glibc)
        n = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        n = 2
        #endif
    }
    return max(1, min(n, work / per))
}

func score(_ scorer: some RecommendationScorer, _ user: Int32, _ items: [Int32], _ out: inout [Float]) {
    items.withUnsafeBufferPointer { ib in
        out.withUnsafeMutableBufferPointer { ob in
            scorer.score(user: user, items: ib, into: UnsafeMutableBufferPointer(rebasing: ob[0..<ib.count]))
        }
    }
}
