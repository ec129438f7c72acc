import Dispatch
import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import Synchronization

/// Held-out follows for an offline who-to-follow evaluation: a training graph, and per-user
/// follows held out for validation (tuning) and for test (the report).
public struct FollowHoldout: Sendable {
    /// The graph without validation and test follows: what models train on and validation queries see.
    public var train: Snapshot
    /// The graph without test follows (validation follows are back): what test queries see, so a
    /// known validation follow is not recommended again.
    public var testInput: Snapshot
    public var validation: [UserIndex: [UserIndex]]
    public var test: [UserIndex: [UserIndex]]

    /// Holds out `fraction` of the followees (at least one) of up to `maxUsers` users with at least
    /// `minFollowees`, once for validation and once for test; seeded.
    public static func random(
        _ s: Snapshot, seed: UInt64, minFollowees: Int = 5, fraction: Double = 0.1, maxUsers: Int = 2_000
    ) -> FollowHoldout {
        var rng = SplitMix64(seed: seed)
        var eligible = (0..<Int32(s.userCount)).filter { s.followees.degree($0) >= minFollowees && s.userFlags[Int($0)].isEmpty }
        eligible.shuffle(using: &rng)
        var validation: [UserIndex: [UserIndex]] = [:], test: [UserIndex: [UserIndex]] = [:]
        var removed = Set<Int64>(), testOnly = Set<Int64>()
        for u in eligible.prefix(maxUsers) {
            var f = Array(s.followees.row(u))
            f.shuffle(using: &rng)
            let n = max(1, Int(Double(f.count) * fraction))
            test[u] = Array(f[0..<n]).sorted()
            validation[u] = Array(f[n..<(2 * n)]).sorted()
            for v in f[0..<(2 * n)] { removed.insert(Int64(u) << 32 | Int64(v)) }
            for v in f[0..<n] { testOnly.insert(Int64(u) << 32 | Int64(v)) }
        }
        let train = s.keepingFollows { a, b in !removed.contains(Int64(a) << 32 | Int64(b)) }
        let testInput = s.keepingFollows { a, b in !testOnly.contains(Int64(a) << 32 | Int64(b)) }
        return FollowHoldout(train: train, testInput: testInput, validation: validation, test: test)
    }

    /// Uses given held-out follows (for example a split by time) as the test set. Validation is
    /// held out from the remaining follows of the same users: where follows carry times, each
    /// user's latest ones (so validation resembles a test of later follows); otherwise at random.
    public static func given(_ s: Snapshot, test pairs: [(UserIndex, UserIndex)], seed: UInt64, fraction: Double = 0.1) -> FollowHoldout {
        var test: [UserIndex: [UserIndex]] = [:]
        for (a, b) in pairs where a != b { test[a, default: []].append(b) }
        var rng = SplitMix64(seed: seed)
        var validation: [UserIndex: [UserIndex]] = [:]
        let testOnly = Set(pairs.map { Int64($0.0) << 32 | Int64($0.1) })
        var removed = testOnly
        let byTime = s.hasFollowTimes
        for u in test.keys.sorted() {
            var f = s.followees.row(u).filter { !removed.contains(Int64(u) << 32 | Int64($0)) }
            guard f.count >= 2 else { continue }
            if byTime {
                // Latest first; ties by index, so the choice is the same on every run.
                f.sort { (s.followedAt(follower: u, followee: $0) ?? 0, $0) > (s.followedAt(follower: u, followee: $1) ?? 0, $1) }
            } else {
                f.shuffle(using: &rng)
            }
            let n = max(1, Int(Double(f.count) * fraction))
            validation[u] = Array(f[0..<n]).sorted()
            for v in f[0..<n] { removed.insert(Int64(u) << 32 | Int64(v)) }
        }
        let train = s.keepingFollows { a, b in !removed.contains(Int64(a) << 32 | Int64(b)) }
        let testInput = s.keepingFollows { a, b in !testOnly.contains(Int64(a) << 32 | Int64(b)) }
        return FollowHoldout(train: train, testInput: testInput, validation: validation, test: test.mapValues { $0.sorted() })
    }
}

/// Ranking quality of a who-to-follow method on held-out follows.
public struct FollowMetrics: Sendable {
    public var users = 0
    /// Share of users with at least one held-out followee in the top 10.
    public var hitRate10 = 0.0
    /// Mean share of a user's held-out followees found in the top 20.
    public var recall20 = 0.0
    public var ndcg10 = 0.0
    /// Distinct users recommended in all top-10 lists, over the users that could be recommended.
    public var coverage10 = 0.0
    /// Share of top-20 slots each source filled.
    public var sourceShare: [SourceKind: Double] = [:]
    public var secondsPerUser = 0.0
}

/// Evaluates a method that returns a ranked list for a user against held-out follows, over all
/// cores. The method must exclude what the user already follows in the training graph.
public func evaluateFollows(
    heldOut: [UserIndex: [UserIndex]], catalogueSize: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
    recommend: @Sendable (UserIndex) -> [(user: UserIndex, source: SourceKind)]
) -> FollowMetrics {
    let users = heldOut.keys.sorted()
    struct Partial { var hr = 0.0, recall = 0.0, ndcg = 0.0, slots = 0; var shown = Set<UserIndex>(); var sources: [SourceKind: Int] = [:] }
    let parts = Mutex([Partial]())
    let start = Date()
    let chunks = max(1, threads)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        var p = Partial()
        for i in stride(from: c, to: users.count, by: chunks) {
            let u = users[i]
            let truth = Set(heldOut[u]!)
            let list = recommend(u)
            let top10 = list.prefix(10), top20 = list.prefix(20)
            let at10 = Metrics.list(top10.map(\.user), relevant: truth, k: 10)
            p.hr += at10.hit
            p.ndcg += at10.ndcg
            p.recall += Metrics.list(top20.map(\.user), relevant: truth, k: 20).recall
            for item in top10 { p.shown.insert(item.user) }
            for item in top20 { p.sources[item.source, default: 0] += 1 }
            p.slots += top20.count
        }
        parts.withLock { $0.append(p) }
    }
    var m = FollowMetrics()
    m.users = users.count
    let all = parts.withLock { $0 }
    let n = Double(max(1, users.count))
    m.hitRate10 = all.reduce(0) { $0 + $1.hr } / n
    m.recall20 = all.reduce(0) { $0 + $1.recall } / n
    m.ndcg10 = all.reduce(0) { $0 + $1.ndcg } / n
    m.coverage10 = Double(all.reduce(into: Set<UserIndex>()) { $0.formUnion($1.shown) }.count) / Double(max(1, catalogueSize))
    let slots = Double(max(1, all.reduce(0) { $0 + $1.slots }))
    for p in all { for (s, c) in p.sources { m.sourceShare[s, default: 0] += Double(c) / slots } }
    m.secondsPerUser = Date().timeIntervalSince(start) / n
    return m
}

