import NeuMF
import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

@Suite(.testThreads) struct FilterTests {
    /// A network where user 0 could reach every other user through every source, and users 2–6 are
    /// each kept out by one rule. None of them may appear, through any source or the blend.
    static func fixture() -> (Snapshot, FakeScorer) {
        var net = Net(users: 12)
        // 0 follows 1 and 6; 1 follows everyone; everyone follows 1 too (co-followers).
        net.follows = [(0, 1), (0, 6)] + (2..<12).map { (1, Int32($0)) } + (2..<12).map { (Int32($0), 1) }
            + (2..<12).map { (Int32($0), 6) } + [(7, 0), (3, 0), (5, 0)]
        net.flags = [2: .blacklisted, 3: .reported, 4: .inactive]
        net.blocks = [(0, 5)]
        net.postAuthors = Array(0..<12)
        // 0 engaged with everyone's posts, flagged and blocked users included.
        net.interactions = (1..<12).map { (user: 0, post: Int32($0), kind: Interaction.Kind.authorClick, t: Int64(100)) }
            + (1..<12).flatMap { p in (0..<12).map { (user: Int32($0), post: Int32(p), kind: Interaction.Kind.like, t: Int64(9_000)) } }
        let scorer = FakeScorer(knownUsers: 12, score: { _, v in 1 - Float(v) / 100 })  // filtered users score highest
        return (net.snapshot, scorer)
    }

    static let forbidden: Set<Int32> = [0, 1, 2, 3, 4, 5, 6]

    @Test func noSourceLetsAFilteredUserThrough() {
        let (s, scorer) = Self.fixture()
        let now = Leaderboards.latestEvent(in: s)
        let boards = Leaderboards(snapshot: s, now: now)
        let r = request(s, 0)
        let sources: [any CandidateSource] = [
            PopularSource(leaderboards: boards), PopularSource(leaderboards: boards, recent: true),
            HotAuthorsSource(leaderboards: boards), EngagedAuthorsSource(), FolloweesOfFolloweesSource(),
            CoFollowersSource(), FollowsYouSource(), ModelSimpleSource(scorer: scorer, snapshot: s),
            ModelGraphSource(scorer: scorer, leaderboards: boards),
            ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 50),
        ]
        for src in sources {
            var filtered = FilterCounts()
            let got = Set(src.candidates(for: r, limit: 50, filtered: &filtered).map(\.user))
            #expect(got.isDisjoint(with: Self.forbidden), "\(src.kind) leaked \(got.intersection(Self.forbidden))")
            #expect(!got.isEmpty, "\(src.kind) found nobody")
            #expect(filtered.total > 0, "\(src.kind) counted no filtered user")
        }
        var filtered = FilterCounts()
        let simple = ModelSimpleSource(scorer: scorer, snapshot: s).candidates(for: r, limit: 50, filtered: &filtered)
        #expect(Set(simple.map(\.user)) == [7, 8, 9, 10, 11])
        for reason in [FilterReason.selfUser, .alreadyFollowed, .blocked, .blacklisted, .reported, .inactive] {
            #expect(filtered[reason] >= 1, "\(reason) not counted")
        }
    }

    @Test func theBlendNeverLetsAFilteredUserThroughWhateverTheLogic() {
        let (s, scorer) = Self.fixture()
        let now = Leaderboards.latestEvent(in: s)
        let view = LiveView(snapshot: s)
        let rec = FollowRecommender(
            view: view, leaderboards: Leaderboards(snapshot: s, now: now), now: now, scorer: scorer,
            edgeIndex: ExactEdgeIndex(snapshot: s, scorer: scorer))
        var fused = rec
        fused.config.fusion = FusionWeights(model: 1, coFollowers: 1, followeesOfFollowees: 1, followsYou: 1)
        for (logic, r) in ModelLogic.allCases.map({ ($0, rec) }) + [(.graph, fused)] {
            let answer = r.recommend(user: 0, k: 20, logic: logic)
            let users = answer.items.map(\.user)
            #expect(Set(users).isDisjoint(with: Self.forbidden), "\(logic) leaked")
            #expect(Set(users).count == users.count, "\(logic) repeated a user")
            #expect(Set(users) == [7, 8, 9, 10, 11], "\(logic) should find every eligible user")
        }
    }
}

@Suite(.testThreads) struct BlendTests {
    @Test func newUserGetsLeaderboardsAtOnce() {
        var net = Net(users: 8)
        net.follows = [(1, 2), (3, 2), (4, 2), (1, 3), (4, 3), (5, 7)]
        net.flags = [2: .inactive]
        let s = net.snapshot
        let now = Leaderboards.latestEvent(in: s)
        let rec = FollowRecommender(view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now)
        let a = rec.recommend(user: 0, k: 3)
        #expect(a.coldStart)
        #expect(a.items.first?.user == 3, "3 is the most followed eligible user (2 is inactive)")
        #expect(!a.items.contains { $0.user == 2 || $0.user == 0 })
        #expect(a.items.count == 3)
    }

    @Test func engagedAuthorsComeFirstThenTheModelThenTheGraph() {
        var net = Net(users: 10)
        net.follows = [(0, 1), (1, 2), (1, 3)]
        net.postAuthors = [8]
        net.interactions = [(user: 0, post: 0, kind: .comment, t: 50)]
        let s = net.snapshot
        let now = Leaderboards.latestEvent(in: s)
        let scorer = FakeScorer(knownUsers: 10, score: { _, v in v == 9 ? 0.9 : 0.1 })
        let rec = FollowRecommender(
            view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now,
            config: { var c = BlendConfig(); c.logic = .simple; c.modelQuota = 1; return c }(), scorer: scorer)
        let a = rec.recommend(user: 0, k: 4)
        #expect(a.items.map(\.source) == [.engagedAuthors, .modelSimple, .followeesOfFollowees, .followeesOfFollowees])
        #expect(a.items.map(\.user) == [8, 9, 2, 3])
        #expect(a.sources[.engagedAuthors] == 1)
    }

    /// The loop: an engagement event in the overlay changes the next answer, with no retraining.
    @Test func overlayEngagementAndFollowChangeTheNextAnswerAtOnce() {
        var net = Net(users: 6)
        net.follows = [(0, 1), (1, 2)]
        net.postAuthors = [5]
        let s = net.snapshot
        let now = Leaderboards.latestEvent(in: s)
        let boards = Leaderboards(snapshot: s, now: now)
        let before = FollowRecommender(view: LiveView(snapshot: s), leaderboards: boards, now: now).recommend(user: 0, k: 3)
        #expect(before.items.first?.user == 2)
        var overlay = Overlay(snapshot: s)
        overlay.interact(0, post: 0, author: 5, kind: .authorClick, at: now)
        overlay.follow(0, 2)
        let after = FollowRecommender(view: LiveView(snapshot: s, overlay: overlay), leaderboards: boards, now: now).recommend(user: 0, k: 3)
        #expect(after.items.first?.user == 5)
        #expect(after.items.first?.source == .engagedAuthors)
        #expect(!after.items.contains { $0.user == 2 }, "a follow in the overlay is filtered at once")
        overlay.block(0, 5)
        let blocked = FollowRecommender(view: LiveView(snapshot: s, overlay: overlay), leaderboards: boards, now: now).recommend(user: 0, k: 3)
        #expect(!blocked.items.contains { $0.user == 5 })
    }

    @Test func hotPostScoreHalvesEachHalfLife() {
        var cfg = HotConfig()
        cfg.halfLife = 3_600
        let fresh = HotPosts.score(engagement: 8, createdAt: 10_000, now: 10_000, config: cfg)
        let hourOld = HotPosts.score(engagement: 8, createdAt: 10_000, now: 13_600, config: cfg)
        let dayOld = HotPosts.score(engagement: 8, createdAt: 10_000, now: 10_000 + 86_400, config: cfg)
        #expect(fresh == 8)
        #expect(abs(hourOld - 4) < 1e-4)
        #expect(dayOld < 1e-6)
    }
}

@Suite(.testThreads) struct FoldInBlendTests {
    /// A user who joined after training (index beyond the model) but follows people gets
    /// model-based recommendations through fold-in, without retraining.
    @Test func unseenUserIsServedByTheModelThroughFoldIn() throws {
        var net = Net(users: 30)
        // Two communities: 0–14 and 15–29, dense inside.
        for a in 0..<30 {
            for b in 0..<30 where a != b && (a < 15) == (b < 15) && (a + b) % 3 != 0 {
                net.follows.append((Int32(a), Int32(b)))
            }
        }
        let s = net.snapshot
        // The model knows users 0–27 only (trained on an older snapshot).
        var users: [Int32] = [], items: [Int32] = []
        for (a, b) in net.follows where a < 28 && b < 28 { users.append(a); items.append(b) }
        let exclusion = try ItemSets(userCount: 28, users: users, items: items)
        let config = NeuMFConfiguration(kind: .neumf, factors: 8, layers: [16, 8], userCount: 28, itemCount: 28)
        var o = TrainingOptions()
        o.epochs = 30
        o.threads = 1
        o.learningRate = 0.02
        let model = try NeuMFTrainer.train(NeuMFModel(configuration: config, seed: 2),
                                           data: TrainingData(users: users, items: items, exclusion: exclusion), options: o).model
        let scorer = NeuMFPairScorer(model: model, threads: 1)
        #expect(!scorer.canScore(user: 29))
        let now = Leaderboards.latestEvent(in: s)
        var config2 = BlendConfig()
        config2.logic = .simple
        let rec = FollowRecommender(view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now,
                                    config: config2, scorer: scorer)
        let answer = rec.recommend(user: 29, k: 5)
        #expect(answer.sources[.modelSimple, default: 0] > 0, "fold-in should let the model serve user 29: \(answer.sources)")
        // The folded-in user belongs to the second community: the folded-in scores must prefer it.
        let folded = try #require(scorer.foldingIn(user: 29, followees: LiveView(snapshot: s).followees(of: 29)))
        let inside = folded.scores(user: 29, candidates: Array(15..<28)), outside = folded.scores(user: 29, candidates: Array(0..<15))
        let meanInside: Float = inside.reduce(0, +) / Float(inside.count)
        let meanOutside: Float = outside.reduce(0, +) / Float(outside.count)
        #expect(meanInside > meanOutside, "mean folded-in score inside \(meanInside) vs outside \(meanOutside)")
    }
}
