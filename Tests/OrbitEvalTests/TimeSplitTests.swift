import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend
import Testing
@testable import OrbitEval
import TestThreads

@Suite(.testThreads) struct TimeSplitTests {
    /// A random graph with random follow times, and a few users whose first follow comes late.
    static func timedGraph(users: Int = 120, follows: Int = 2_500, seed: UInt64 = 3) -> Snapshot {
        var rng = SplitMix64(seed: seed)
        var c = Snapshot.Columns()
        c.userCount = users
        c.userFlags = Array(repeating: [], count: users)
        c.userCreatedAt = Array(repeating: 0, count: users)
        var seen = Set<Int64>()
        while seen.count < follows {
            let a = Int32(rng.below(users)), b = Int32(rng.below(users))
            guard a != b, seen.insert(Int64(a) << 32 | Int64(b)).inserted else { continue }
            // Users 0–4 join late: every follow of theirs is in the last tenth of the time.
            let t = a < 5 ? 9_000 + Int64(rng.below(1_000)) : Int64(rng.below(10_000))
            c.append(Follow(follower: a, followee: b, createdAt: t))
        }
        return Snapshot.build(c)
    }

    @Test func noInputGraphHoldsAFollowMadeAtOrAfterItsCut() {
        let s = Self.timedGraph()
        #expect(s.hasFollowTimes)
        let cuts = FollowHoldout.TimeCuts.fractions(s, test: 0.1)
        #expect(cuts.validation < cuts.test)
        let h = FollowHoldout.byTime(s, cuts: cuts, seed: 1, maxUsers: 1_000)
        #expect(!h.test.isEmpty && !h.validation.isEmpty)
        for (graph, cut) in [(h.train, cuts.validation), (h.testInput, cuts.test)] {
            #expect(graph.followedAt.allSatisfy { $0 < cut }, "an input graph holds a follow made after its cut")
            #expect(graph.followees.edgeCount == s.followedAt.filter { $0 < cut }.count)
        }
        for (u, vs) in h.test {
            #expect(h.testInput.followees.degree(u) > 0, "test user \(u) followed no one before the cut")
            for v in vs {
                let t = s.followedAt(follower: u, followee: v)!
                #expect(t >= cuts.test && !h.testInput.follows(u, v) && !h.train.follows(u, v))
            }
        }
        for (u, vs) in h.validation {
            #expect(h.train.followees.degree(u) > 0)
            for v in vs {
                let t = s.followedAt(follower: u, followee: v)!
                #expect(t >= cuts.validation && t < cuts.test && !h.train.follows(u, v) && h.testInput.follows(u, v))
            }
        }
        // Users whose every follow is after the cut have no input to recommend from: not evaluated.
        for u in Int32(0)..<5 where h.testInput.followees.degree(u) == 0 { #expect(h.test[u] == nil) }
    }

    @Test func givenTestFollowsValidateOnEachUsersLatestEarlierFollows() {
        let s = Self.timedGraph()
        let u: UserIndex = 40
        let row = Array(s.followees.row(u))
        let test = [(u, row[0])]
        let h = FollowHoldout.given(s, test: test, seed: 2)
        let rest = row.dropFirst().map { (v: $0, t: s.followedAt(follower: u, followee: $0)!) }
        let held = try! #require(h.validation[u])
        let latest = rest.sorted { ($0.t, $0.v) > ($1.t, $1.v) }.prefix(held.count).map(\.v)
        #expect(Set(held) == Set(latest))
    }
}
