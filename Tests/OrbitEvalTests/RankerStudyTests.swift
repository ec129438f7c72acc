import OrbitCore
import OrbitRecommend
import Ranking
import Testing
@testable import OrbitEval
import TestThreads

@Suite(.testThreads) struct RankerStudyTests {
    /// The refit adds the validation slice to the test-time rankers only: every validation figure,
    /// and so every choice, is the same with and without it.
    @Test func refitAddsTheValidationSliceToTestRankersOnly() async throws {
        let s = TimeSplitTests.timedGraph(users: 40, follows: 700, seed: 5)
        let h = FollowHoldout.byTime(s, cuts: .fractions(s, test: 0.1), seed: 1, maxUsers: 1_000)
        let splits = FollowRankerStudy.trainingSplits(of: h.train, slices: 2, seed: 2, maxUsers: 1_000)
        var a = RankerParameters()
        a.trees = 10
        a.maxDepth = 3
        var b = a
        b.minChildWeight = 10
        let (ca, cb) = (a, b)
        func run(_ refit: Bool) async throws -> FollowRankerStudy.Result {
            try await offThePool { try FollowRankerStudy.run(holdout: h, splits: splits, rankerScorer: nil, scorer: nil, candidates: [ca, cb], refit: refit) }
        }
        let plain = try await run(false), refitted = try await run(true)
        #expect(plain.trainingRows > 0)
        #expect(plain.testTrainingRows == plain.trainingRows)
        // The validation slice: the union of each validation user whose later follows it holds.
        let slice = FollowRankerTraining.examples(
            recommender: FollowRecommender(view: LiveView(snapshot: h.train), leaderboards: Leaderboards(snapshot: h.train, now: Leaderboards.latestEvent(in: h.train)),
                                           now: Leaderboards.latestEvent(in: h.train)),
            labels: h.validation, perSource: 50)
        #expect(slice.labels.count > 0)
        #expect(refitted.trainingRows == plain.trainingRows)
        #expect(refitted.testTrainingRows == plain.trainingRows + slice.labels.count)
        #expect(refitted.testTrainingGroups == plain.trainingGroups + slice.groups.count)
        #expect(refitted.chosen == plain.chosen)
        #expect(refitted.rows.count == plain.rows.count)
        for (x, y) in zip(plain.rows, refitted.rows) {
            #expect(x.validation.hitRate10 == y.validation.hitRate10 && x.validation.ndcg10 == y.validation.ndcg10, "\(x.name)")
            #expect(x.test != nil && y.test != nil)
        }
        #expect(refitted.validationUnionRecall == slice.unionRecall)
    }
}
