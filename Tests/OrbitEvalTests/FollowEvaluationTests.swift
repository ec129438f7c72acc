import Foundation
import OrbitCore
import OrbitRecommend
import Testing
@testable import OrbitEval
import TestThreads

@Suite(.testThreads) struct FollowEvaluationTests {
    /// A ring-of-cliques graph: users in a clique all follow each other.
    static func cliques(_ count: Int, size: Int) -> Snapshot {
        var c = Snapshot.Columns()
        c.userCount = count * size
        c.userFlags = Array(repeating: [], count: c.userCount)
        c.userCreatedAt = Array(repeating: 0, count: c.userCount)
        for k in 0..<count {
            for a in 0..<size {
                for b in 0..<size where a != b {
                    c.append(Follow(follower: Int32(k * size + a), followee: Int32(k * size + b), createdAt: Int64(a * size + b)))
                }
            }
        }
        return Snapshot.build(c)
    }

    @Test func holdOutRemovesValidationAndTestFollowsFromTraining() {
        let s = Self.cliques(10, size: 8)
        let h = FollowHoldout.random(s, seed: 5, maxUsers: 30)
        #expect(h.validation.count == 30 && h.test.count == 30)
        for (u, vs) in h.test {
            for v in vs {
                #expect(!h.train.follows(u, v) && !h.testInput.follows(u, v) && s.follows(u, v))
            }
            #expect(Set(vs).isDisjoint(with: h.validation[u]!))
        }
        for (u, vs) in h.validation {
            for v in vs { #expect(!h.train.follows(u, v) && h.testInput.follows(u, v)) }
        }
        #expect(h.train.followees.edgeCount == s.followees.edgeCount - 60)
    }

    @Test func graphBaselinesFindTheHeldOutCliqueMembers() {
        let s = Self.cliques(20, size: 8)
        let h = FollowHoldout.random(s, seed: 1, maxUsers: 40)
        let methods = FollowMethods(graph: h.testInput, scorer: nil, edgeIndex: nil)
        let catalogue = s.userCount
        for m in methods.baselines where !m.name.contains("popularity") {
            let metrics = evaluateFollows(heldOut: h.test, catalogueSize: catalogue, recommend: m.run)
            // Every held-out followee is a clique mate, two steps away: graph methods find them all.
            #expect(metrics.hitRate10 == 1, "\(m.name) HR@10 \(metrics.hitRate10)")
        }
        let popular = methods.baselines.first { $0.name.contains("popularity") }!
        let p = evaluateFollows(heldOut: h.test, catalogueSize: catalogue, recommend: popular.run)
        #expect(p.hitRate10 < 0.5)
    }

    @Test func metricsOnAHandMadeList() {
        let held: [UserIndex: [UserIndex]] = [0: [5, 7]]
        let m = evaluateFollows(heldOut: held, catalogueSize: 100, threads: 1) { _ in
            [(1, .popular), (5, .popular), (2, .popular), (7, .coFollowers)]
        }
        #expect(m.hitRate10 == 1)
        #expect(m.recall20 == 1)
        let idcg: Double = 1 + 1 / log2(3.0)
        let dcg: Double = 1 / log2(3.0) + 1 / log2(5.0)
        #expect(abs(m.ndcg10 - dcg / idcg) < 1e-9)
        #expect(abs(m.coverage10 - 0.04) < 1e-9)
        #expect(m.sourceShare[.coFollowers] == 0.25)
    }

    @Test func engagementOrderStudySplitsByTimeAndRanks() {
        // User 0: in train, liked author 1 three times and author-clicked author 2 once; in test
        // interacts with author 2 only. The 4-bit key ranks 2 first, counts rank 1 first.
        var e: [AuthorInteraction] = []
        for t in 0..<3 { e.append(AuthorInteraction(user: 0, author: 1, kind: .like, time: Int64(t))) }
        e.append(AuthorInteraction(user: 0, author: 2, kind: .authorClick, time: 1))
        for t in 4..<6 { e.append(AuthorInteraction(user: 9, author: 8, kind: .like, time: Int64(t))) }
        e.append(AuthorInteraction(user: 0, author: 2, kind: .repost, time: 100))
        let s = EngagementOrderStudy.run(e, trainShare: 0.9)
        #expect(s.usersEvaluated == 1)
        let spec = s.results.first { $0.order == .specKey }!, count = s.results.first { $0.order == .count }!
        #expect(spec.ndcg10 == 1)
        #expect(count.ndcg10 < 1 && count.hitRate10 == 1)
    }
}
