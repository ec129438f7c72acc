import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

/// Personalised PageRank on the scratch set's dense buffers against the hashed textbook push it
/// replaced: the same masses bit for bit, the same candidates in the same order, and a pooled
/// scratch set that one request leaves clean for the next.
@Suite(.testThreads) struct PageRankTests {
    /// The push as first written, with dictionaries: the reference.
    static func reference(_ r: FollowRequest, restart: Double = 0.3, epsilon: Double = 1e-5, maxPushes: Int) -> [UserIndex: Double] {
        let s = r.view.snapshot
        var score: [UserIndex: Double] = [:]
        var residual: [UserIndex: Double] = [r.user: 1]
        var queue: [UserIndex] = [r.user]
        var pushes = 0
        while let v = queue.popLast(), pushes < maxPushes {
            guard let rv = residual[v] else { continue }
            let out = v == r.user ? r.eligibility.followees[...] : (Int(v) < s.userCount ? s.followees.row(v) : [])
            guard rv > epsilon * Double(max(out.count, 1)) else { continue }
            pushes += 1
            score[v, default: 0] += restart * rv
            residual[v] = nil
            guard !out.isEmpty else { continue }
            let share = (1 - restart) * rv / Double(out.count)
            for c in out {
                let before = residual[c] ?? 0
                residual[c] = before + share
                let degree = Double(max(Int(c) < s.userCount ? s.followees.degree(c) : 0, 1))
                if before <= epsilon * degree && before + share > epsilon * degree { queue.append(c) }
            }
        }
        return score
    }

    /// A random network of `users` with a few flagged users, from a fixed seed.
    static func network(users: Int, follows: Int, seed: UInt64) -> Snapshot {
        var state = seed
        func next(_ n: Int) -> Int32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32(truncatingIfNeeded: (state >> 33) % UInt64(n))
        }
        var net = Net(users: users)
        var seen = Set<Int64>()
        while net.follows.count < follows {
            // Skewed towards low indices, so that some accounts are popular.
            let a = next(users), b = min(next(users), next(users))
            guard a != b, seen.insert(Int64(a) << 32 | Int64(b)).inserted else { continue }
            net.follows.append((a, b))
        }
        for u in stride(from: Int32(3), to: Int32(users), by: 17) { net.flags[u] = .inactive }
        return net.snapshot
    }

    @Test(arguments: [50, 5_000])
    func theDensePushMatchesTheHashedOneAndLeavesThePoolClean(maxPushes: Int) async throws {
        try await offThePool { Self.compare(maxPushes: maxPushes) }
    }

    static func compare(maxPushes: Int) {
        let s = Self.network(users: 160, follows: 1_600, seed: 11)
        let view = LiveView(snapshot: s)
        let pool = ScratchPool(users: s.userCount)
        let source = PersonalizedPageRankSource(maxPushes: maxPushes)
        var compared = 0
        for u in Int32(0)..<Int32(s.userCount) {
            let r = FollowRequest(user: u, view: view, now: 2_000, scratch: pool)
            let want = reference(r, maxPushes: maxPushes)
            #expect(source.scores(for: r) == want, "user \(u)")
            // Best first by mass, then the lower index; the first 10 eligible.
            let ranked = want.sorted { ($0.value, -Int($0.key)) > ($1.value, -Int($1.key)) }
            let eligible = ranked.filter { r.eligibility.reason($0.key) == nil }.prefix(10)
            var filtered = FilterCounts()
            let got = source.candidates(for: r, limit: 10, filtered: &filtered)
            #expect(got.map(\.user) == eligible.map(\.key), "user \(u)")
            #expect(got.map(\.score) == eligible.map { Float($0.value) }, "user \(u)")
            // Only users ranked above the last one returned were examined and refused.
            let refusedAbove = ranked.prefix { $0.key != got.last?.user }.filter { r.eligibility.reason($0.key) != nil }.count
            #expect(got.count < 10 || filtered.total == refusedAbove, "user \(u): \(filtered.total) refused, \(refusedAbove) ranked above")
            if !want.isEmpty { compared += 1 }
        }
        #expect(compared > 120)
    }
}
