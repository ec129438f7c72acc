import Foundation
import NeuMF
import OrbitEval
import Testing
import TestThreads

/// A NaN or ±infinite score is no evidence: it ranks last in every protocol and is never a hit.

let nonFinite: [Float] = [.nan, .infinity, -.infinity]

/// 100 users, 100 items; user u's held-out item is u, its negatives 99 other items.
func looCases() -> [LeaveOneOutCase] {
    (0..<Int32(100)).map { u in LeaveOneOutCase(user: u, heldOut: u, negatives: (0..<Int32(100)).filter { $0 != u }) }
}

@Test(.testThreads, arguments: nonFinite)
func scorerFailingEverywhereScoresZero(bad: Float) throws {
    let scorer = ClosureScorer { _, items in items.map { _ in bad } }
    let loo = LeaveOneOut.evaluate(cases: looCases(), scorer: scorer, k: 10, threads: 2)
    #expect(loo.hitRate == 0 && loo.ndcg == 0, "\(loo)")
    // Full ranking, one and several (more than 8) held-out items per user.
    let users = (0..<Int32(100)).map { $0 }
    let one = try ItemSets(userCount: 100, users: users, items: users)
    let many = try ItemSets(userCount: 100, users: users.flatMap { Array(repeating: $0, count: 10) },
                            items: users.flatMap { u in (0..<Int32(10)).map { (u + $0 * 7) % 100 } })
    for held in [one, many] {
        for r in FullRanking.evaluate(heldOut: held, exclude: try ItemSets(userCount: 100, users: [], items: []),
                                      itemCount: 100, scorer: scorer, ks: [10, 20], threads: 2) {
            #expect(r.hitRate == 0 && r.recall == 0 && r.ndcg == 0, "\(r)")
        }
    }
    // Classification: every pair counted wrong, AUC 0 (not the 0.5 of a tie).
    let all = try ItemSets(userCount: 100, users: users, items: users)
    let set = Classification.makeTestSet(users: users, items: users, exclusion: all, itemCount: 100)
    let c = Classification.evaluate(set, scorer: scorer, threads: 2)
    #expect(c.precision == 0 && c.recall == 0 && c.f1 == 0 && c.accuracy == 0, "\(c)")
    #expect(c.auc == 0)
    #expect(c.nonFinite == set.users.count)
}

@Test(.testThreads, arguments: nonFinite)
func nonFiniteHeldOutItemIsNoHit(bad: Float) throws {
    // A good scorer (held-out item first) except that the held-out item's score is broken.
    let good = ClosureScorer { u, items in items.map { $0 == u ? 1 : Float($0) / 1000 } }
    let broken = ClosureScorer { u, items in items.map { $0 == u ? bad : Float($0) / 1000 } }
    #expect(LeaveOneOut.evaluate(cases: looCases(), scorer: good, k: 10).hitRate == 1)
    let r = LeaveOneOut.evaluate(cases: looCases(), scorer: broken, k: 10)
    #expect(r.hitRate == 0 && r.ndcg == 0, "\(r)")
    // Even when the whole list fits in the top k.
    let short = [LeaveOneOutCase(user: 0, heldOut: 0, negatives: [1, 2])]
    #expect(LeaveOneOut.evaluate(cases: short, scorer: broken, k: 10).hitRate == 0)

    let users = (0..<Int32(100)).map { $0 }
    let held = try ItemSets(userCount: 100, users: users, items: users)
    let none = try ItemSets(userCount: 100, users: [], items: [])
    let full = FullRanking.evaluate(heldOut: held, exclude: none, itemCount: 100, scorer: broken, ks: [100])[0]
    #expect(full.hitRate == 0 && full.ndcg == 0, "\(full)")
}

@Test(.testThreads, arguments: nonFinite)
func nonFiniteOtherItemsRankBelowTheHeldOutItem(bad: Float) throws {
    // Every negative broken, the held-out item scored low but finite: it ranks first.
    let scorer = ClosureScorer { u, items in items.map { $0 == u ? -5 : bad } }
    let r = LeaveOneOut.evaluate(cases: looCases(), scorer: scorer, k: 1)
    #expect(r.hitRate == 1 && r.ndcg == 1, "\(r)")
    let users = (0..<Int32(100)).map { $0 }
    let held = try ItemSets(userCount: 100, users: users, items: users)
    let full = FullRanking.evaluate(heldOut: held, exclude: try ItemSets(userCount: 100, users: [], items: []),
                                    itemCount: 100, scorer: scorer, ks: [1])[0]
    #expect(full.hitRate == 1 && full.ndcg == 1, "\(full)")
}

@Test(.testThreads) func metricsRankNonFiniteScoresLast() {
    for bad in nonFinite {
        #expect(Metrics.rank(of: bad, among: [0.1, 0.2]) == Metrics.unranked)
        #expect(Metrics.rank(of: bad, among: [Float]()) == Metrics.unranked)
        #expect(Metrics.rank(of: 0.1, among: [bad, 0.2, bad]) == 1)
        #expect(Metrics.hitRate(rank: Metrics.unranked, k: 10) == 0)
        #expect(Metrics.ndcg(rank: Metrics.unranked, k: 10) == 0)
        // A positive with a broken score loses to every negative; a broken negative loses to
        // every finite positive.
        #expect(Metrics.auc(scores: [bad, 0.1], labels: [true, false]) == 0)
        #expect(Metrics.auc(scores: [bad, bad], labels: [true, false]) == 0)
        #expect(Metrics.auc(scores: [0.1, bad], labels: [true, false]) == 1)
        // Positives 0.9 and broken; negatives 0.5 and broken: 0.9 beats both, the broken one none.
        #expect(Metrics.auc(scores: [0.9, bad, 0.5, bad], labels: [true, true, false, false]) == 0.5)
        let c = Metrics.classification(scores: [0.9, bad, 0.1, bad], labels: [true, true, false, false])
        #expect(c.truePositives == 1 && c.falseNegatives == 1 && c.trueNegatives == 1 && c.falsePositives == 1)
        #expect(c.nonFinite == 2)
    }
    // Finite scores are ranked as before.
    #expect(Metrics.auc(scores: [0.5, 0.5], labels: [true, false]) == 0.5)
    #expect(Metrics.rank(of: 0.5, among: [0.9, 0.1, 0.5, 0.7]) == 3)
}
