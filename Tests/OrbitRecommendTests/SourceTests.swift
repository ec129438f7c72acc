import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

@Suite(.testThreads) struct EngagedAuthorsTests {
    /// Authors 1…6 get the signal sets below from user 0; the SPEC order decides.
    @Test func fourBitOrderThenCountThenRecency() {
        var net = Net(users: 8)
        net.postAuthors = [1, 2, 3, 4, 5, 6, 6, 7]
        func i(_ p: Int32, _ k: Interaction.Kind, _ t: Int64 = 100) -> (Int32, Int32, Interaction.Kind, Int64) { (0, p, k, t) }
        net.interactions = [
            i(0, .like), i(0, .repost),                  // author 1: RL
            i(1, .authorClick),                          // author 2: A
            i(2, .comment), i(2, .like),                 // author 3: CL
            i(3, .view), i(3, .view), i(3, .click),      // author 4: viewed only, 3 interactions
            i(4, .view, 900),                            // author 5: viewed only, 1 interaction, recent
            i(5, .like, 50), i(6, .like, 60),            // author 6: L, 2 interactions
            i(7, .like, 70),                             // author 7: L, 1 interaction
        ].map { (user: $0.0, post: $0.1, kind: $0.2, t: $0.3) }
        var filtered = FilterCounts()
        let got = EngagedAuthorsSource().candidates(for: request(net.snapshot, 0), limit: 10, filtered: &filtered).map(\.user)
        #expect(got == [2, 3, 1, 6, 7, 4, 5])
    }

    @Test func reasonNamesTheSignals() {
        let rec = UserRecommendation(user: 3, score: 1, source: .engagedAuthors,
                                     evidence: .engaged(signals: [.commented, .viewed], interactions: 2, lastTime: 0))
        #expect(rec.reason { "user\($0)" } == "you commented on posts by @user3 (2 interactions)")
        let fof = UserRecommendation(user: 3, score: 1, source: .followeesOfFollowees, evidence: .followedByFollowees(count: 4))
        #expect(fof.reason { "u\($0)" } == "followed by 4 people you follow")
    }
}

@Suite(.testThreads) struct GraphSourceTests {
    @Test func followeesOfFolloweesCountedAndRanked() {
        // 0 follows 1 and 2; 1 and 2 both follow 5; only 1 follows 6; 1 follows 2 (already followed by 0).
        var net = Net(users: 7)
        net.follows = [(0, 1), (0, 2), (1, 5), (2, 5), (1, 6), (1, 2), (2, 0)]
        var filtered = FilterCounts()
        let got = FolloweesOfFolloweesSource().candidates(for: request(net.snapshot, 0), limit: 10, filtered: &filtered)
        #expect(got.map(\.user) == [5, 6])
        #expect(got.first?.evidence == .followedByFollowees(count: 2))
        #expect(filtered[.alreadyFollowed] == 1 && filtered[.selfUser] == 1)
    }

    @Test func coFollowersFolloweesWeightedBySharedAccounts() {
        // 0 follows 1, 2. User 3 also follows 1 and 2 (shares 2); user 4 follows only 1 (shares 1).
        // 3 follows 7; 4 follows 8: 7 must rank above 8.
        var net = Net(users: 9)
        net.follows = [(0, 1), (0, 2), (3, 1), (3, 2), (4, 1), (3, 7), (4, 8)]
        var filtered = FilterCounts()
        let got = CoFollowersSource().candidates(for: request(net.snapshot, 0), limit: 10, filtered: &filtered)
        #expect(got.map(\.user) == [7, 8])
    }
}

@Suite(.testThreads) struct ModelSourceTests {
    @Test func simpleLogicScoresEveryEligibleUserAndKeepsTheBest() {
        var net = Net(users: 10)
        net.follows = [(0, 1)]
        net.flags = [9: .reported]
        let scorer = FakeScorer(knownUsers: 10) { _, v in Float(v) / 10 }  // higher index, higher score
        var filtered = FilterCounts()
        let src = ModelSimpleSource(scorer: scorer, snapshot: net.snapshot)
        let got = src.candidates(for: request(net.snapshot, 0), limit: 3, filtered: &filtered)
        #expect(got.map(\.user) == [8, 7, 6])
        #expect(filtered[.reported] == 1 && filtered[.alreadyFollowed] == 1 && filtered[.selfUser] == 1)
    }

    /// Relation vectors: edges into users 1 and 2 point one way, edges into 3 and 4 another.
    static func complexFixture() -> (Net, FakeScorer) {
        var net = Net(users: 12)
        // User 0 follows 1. User 5 follows 1 (a similar edge sharing followee 1) and 6, 7.
        // User 8 follows 2 (similar direction, followee not followed by 0) and 9.
        // 10 follows 3; 11 follows 4 (other direction).
        net.follows = [(0, 1), (5, 1), (5, 6), (5, 7), (8, 2), (8, 9), (10, 3), (11, 4), (1, 10)]
        let scorer = FakeScorer(knownUsers: 12, score: { _, v in Float(v) / 100 }, relation: { _, b in
            b == 1 || b == 2 ? [1, 0.01 * Float(b)] : [0.01, 1]
        })
        return (net, scorer)
    }

    @Test func complexLogicKeepsEdgesWhoseFolloweeTheUserFollows() {
        let (net, scorer) = Self.complexFixture()
        let s = net.snapshot
        var src = ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 3)
        src.maxFollowees = 10
        var filtered = FilterCounts()
        var trace = ModelComplexSource.Trace()
        let got = src.candidates(for: request(s, 0), limit: 2, filtered: &filtered, trace: &trace)
        // Nearest edges to (0,1): (0,1) itself (skipped), (5,1) shares followee 1, (8,2) does not.
        #expect(trace.sharedFolloweeEdges == 1)
        #expect(!trace.usedNoSharedBranch)
        // Candidates are 5's followees other than 1 (already followed): 6 and 7, ranked by the model.
        #expect(got.map(\.user) == [7, 6])
        #expect(got.allSatisfy { if case .similarEdges = $0.evidence { true } else { false } })
    }

    @Test func complexLogicFallsBackToFolloweesOfFollowees() {
        let (net, scorer) = Self.complexFixture()
        let s = net.snapshot
        var src = ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 3)
        src.maxFollowees = 10
        var filtered = FilterCounts()
        var trace = ModelComplexSource.Trace()
        let got = src.candidates(for: request(s, 0), limit: 5, filtered: &filtered, trace: &trace)
        // After 7, 6: followees of followees (1 follows 10), then co-followers' followees
        // (5 also follows 1, so 5's followees … all taken already) — and nothing else is reachable.
        #expect(Array(got.map(\.user).prefix(3)) == [7, 6, 10])
        #expect(trace.fromFolloweesOfFollowees == 1)
        #expect(got[2].evidence == .followedByFollowees(count: 1))
    }

    @Test func complexLogicWithoutSharedFolloweeRanksSimilarEdgesUsers() {
        // User 0 follows 4 only. The edge nearest to (0,4) is (10,3), whose followee 3 user 0 does
        // not follow: no similar edge shares a followee, so the similar edges' users are ranked.
        var net = Net(users: 12)
        net.follows = [(0, 4), (5, 1), (8, 2), (10, 3)]
        let scorer = FakeScorer(knownUsers: 12, score: { _, v in Float(v) / 100 }, relation: { _, b in
            b == 4 ? [0, 1] : (b == 3 ? [0.1, 1] : [1, 0])
        })
        let s = net.snapshot
        var src = ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 2)
        src.maxFollowees = 10
        var filtered = FilterCounts()
        var trace = ModelComplexSource.Trace()
        let got = src.candidates(for: request(s, 0), limit: 2, filtered: &filtered, trace: &trace)
        #expect(trace.usedNoSharedBranch)
        // Similar edge (10,3): its users 10 and 3, ranked by model score (10 > 3).
        #expect(got.map(\.user) == [10, 3])
    }
}

@Suite(.testThreads) struct ComplexFallbackTests {
    /// No similar edge and no followee of a followee: only the second fallback, co-followers'
    /// followees, can find user 3 (user 2 also follows 1, and follows 3).
    @Test func complexLogicReachesTheCoFollowersFallback() {
        var net = Net(users: 5)
        net.follows = [(0, 1), (2, 1), (2, 3)]
        let scorer = FakeScorer(knownUsers: 5, score: { _, v in Float(v) / 10 }, relation: { a, b in
            a == 0 ? [1, 0] : [0, 1]  // the user's own edge is alone in its direction
        })
        let s = net.snapshot
        var src = ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 1)
        src.maxFollowees = 10
        var filtered = FilterCounts()
        var trace = ModelComplexSource.Trace()
        let got = src.candidates(for: request(s, 0), limit: 5, filtered: &filtered, trace: &trace)
        #expect(trace.similarEdges == 0 && trace.primary == 0 && trace.fromFolloweesOfFollowees == 0)
        #expect(trace.fromCoFollowers == 1)
        #expect(got.map(\.user) == [3])
        #expect(got.first?.evidence == .coFollowed(count: 1))
    }
}
