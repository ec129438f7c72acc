import Foundation
import OrbitCore
import Ranking
import Testing
@testable import OrbitRecommend
import TestThreads

@Suite(.testThreads) struct RankingFeatureTests {
    /// 0 follows 1 and 2; 1, 2 and 4 follow 3 (at 100, 200, 300); 3 and 4 follow 0; 0 liked and
    /// commented on a post by 5 twice.
    static func network() -> Snapshot {
        var c = Snapshot.Columns()
        c.userCount = 6
        c.userFlags = Array(repeating: [], count: 6)
        c.userCreatedAt = Array(repeating: 0, count: 6)
        for (a, b, t) in [(0, 1, 10), (0, 2, 20), (1, 3, 100), (2, 3, 200), (4, 3, 300), (3, 0, 50), (4, 0, 60)] as [(Int32, Int32, Int64)] {
            c.append(Follow(follower: a, followee: b, createdAt: t))
        }
        c.postAuthor = [5]
        c.postCreatedAt = [5]
        c.append(Interaction(user: 0, post: 0, kind: .like, timestamp: 400))
        c.append(Interaction(user: 0, post: 0, kind: .comment, timestamp: 500))
        return Snapshot.build(c)
    }

    static func value(_ m: FeatureMatrix, row: Int, _ name: String) -> Float { m.values[row * m.names.count + FollowFeatures.index(name)] }

    @Test func featuresMatchHandComputedValues() {
        let s = Self.network()
        let now: Timestamp = 86_400 + 200
        let r = FollowRequest(user: 0, view: LiveView(snapshot: s), now: now)
        let lists: [SourceKind: [Candidate]] = [
            .followeesOfFollowees: [Candidate(user: 3, score: 2, source: .followeesOfFollowees, evidence: .followedByFollowees(count: 2))],
            .popular: [Candidate(user: 4, score: 9, source: .popular, evidence: .popular(followers: 0)),
                       Candidate(user: 3, score: 3, source: .popular, evidence: .popular(followers: 3))],
        ]
        let boards = Leaderboards(snapshot: s, now: now)
        let m = FollowFeatures.matrix(for: r, candidates: [3, 5], lists: lists, scorer: nil, newFollowers: boards.newFollowers)
        #expect(m.names == FollowFeatures.names && m.rows == 2)
        let v = { (name: String) in Self.value(m, row: 0, name) }
        #expect(v("source.followees_of_followees.rank") == 1 && v("source.followees_of_followees.score") == 2)
        #expect(v("source.popular.rank") == 2 && v("source.popular.score") == 3)
        #expect(v("source.co_followers.rank").isNaN && v("source.count") == 2)
        #expect(v("graph.common_followees") == 2)  // 1 and 2 follow 3
        // 1 and 2 each have degree 2 (one follower, one followee): 2 / log(4).
        #expect(abs(v("graph.adamic_adar") - Float(2 / log(4.0))) < 1e-5)
        #expect(v("graph.shared_followers") == 1)  // 4 follows both 0 and 3
        #expect(v("graph.same_followees") == 0)
        #expect(v("graph.follows_you") == 1)  // 3 follows 0
        #expect(v("graph.mutuals_following") == 0)  // 0 has no mutual follows
        #expect(v("degree.candidate_followers") == 3 && v("degree.candidate_followees") == 1)
        #expect(v("degree.user_followees") == 2 && v("degree.user_followers") == 2)
        #expect(v("degree.candidate_new_followers_7d") == 3)  // all three within the week before now
        // The newest follow of 3 by one of 0's followees: 2 → 3 at 200, one day before now.
        #expect(abs(v("time.shared_edge_age_days") - 1) < 1e-6)
        #expect(v("model.neumf_logit").isNaN && v("model.relation_cosine").isNaN)  // no model: missing, not 0
        #expect(v("engagement.key").isNaN)
        // Candidate 5: the liked and commented author.
        let w = { (name: String) in Self.value(m, row: 1, name) }
        #expect(w("engagement.key") == Float(EngagementSignals([.liked, .commented]).priorityKey) && w("engagement.count") == 2)
        #expect(abs(w("engagement.age_days") - Float(Double(now - 500) / 86_400)) < 1e-6)
        #expect(w("graph.common_followees") == 0 && w("time.shared_edge_age_days").isNaN && w("source.count") == 0)
    }

    @Test func modelFeaturesAreTheLogitAndTheCosineToTheUsersFollows() {
        let s = Self.network()
        let scorer = FakeScorer(knownUsers: 6, score: { _, c in c == 3 ? 0.75 : 0.5 },
                                relation: { _, b in b == 3 ? [1, 1] : [1, 0] })
        let r = FollowRequest(user: 0, view: LiveView(snapshot: s), now: 1_000)
        let m = FollowFeatures.matrix(for: r, candidates: [3], lists: [:], scorer: scorer, newFollowers: nil)
        #expect(abs(Self.value(m, row: 0, "model.neumf_logit") - Float(log(3.0))) < 1e-5)
        // The user's follows 1 and 2 have relation [1, 0]; 3's is [1, 1]: cosine 1/√2.
        #expect(abs(Self.value(m, row: 0, "model.relation_cosine") - Float(1 / 2.0.squareRoot())) < 1e-5)
    }

    @Test func aRankerForAnotherFeatureSetIsRefused() throws {
        var m = FeatureMatrix(names: ["graph.common_followees", "something.else"])
        for i in 0..<40 { m.append([Float(i % 7), Float(i % 3)]) }
        var p = RankerParameters()
        p.trees = 3
        let model = try GradientBoostedRanker.train(m, labels: (0..<40).map { $0 % 7 > 4 ? 1 : 0 }, groups: [20, 20], parameters: p)
        #expect(throws: RankerError.self) { try FollowRanker(model: model) }
        // A subset of the features, in order, is an ablation and is accepted.
        let sub = FeatureMatrix(names: ["graph.common_followees", "degree.user_followers"], values: m.values)
        let ok = try GradientBoostedRanker.train(sub, labels: (0..<40).map { $0 % 7 > 4 ? 1 : 0 }, groups: [20, 20], parameters: p)
        #expect(throws: Never.self) { try FollowRanker(model: ok) }
    }
}
