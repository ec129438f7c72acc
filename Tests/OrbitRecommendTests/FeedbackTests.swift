import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

/// Dismissals, impression discounting, the unlisted flag, similar accounts and the
/// recently-followed-by-your-network source, on hand-made graphs with known answers.
@Suite(.testThreads) struct FeedbackTests {
    /// Every source of FilterTests' network, over `view`.
    static func sources(_ s: Snapshot, _ scorer: FakeScorer, now: Timestamp) -> [any CandidateSource] {
        let boards = Leaderboards(snapshot: s, now: now)
        return [
            PopularSource(leaderboards: boards), PopularSource(leaderboards: boards, recent: true),
            HotAuthorsSource(leaderboards: boards), EngagedAuthorsSource(), FolloweesOfFolloweesSource(),
            CoFollowersSource(), FollowsYouSource(), PersonalizedPageRankSource(), ModelSimpleSource(scorer: scorer, snapshot: s),
            ModelGraphSource(scorer: scorer, leaderboards: boards),
            ModelComplexSource(scorer: scorer, index: ExactEdgeIndex(snapshot: s, scorer: scorer), neighbours: 50),
            SimilarToRecentFollowsSource(scorer: scorer),
            NetworkRecentFollowsSource(recent: RecentFollows(snapshot: s, now: now, days: 7)),
        ]
    }

    static func recommenders(_ view: LiveView, _ scorer: FakeScorer) -> [(String, FollowRecommender)] {
        let s = view.snapshot
        let now = Leaderboards.latestEvent(in: s)
        let rec = FollowRecommender(
            view: view, leaderboards: Leaderboards(snapshot: s, now: now), now: now, scorer: scorer,
            edgeIndex: ExactEdgeIndex(snapshot: s, scorer: scorer))
        var fused = rec
        fused.config.fusion = FusionWeights(model: 1, coFollowers: 1, followeesOfFollowees: 1, followsYou: 1, similarToRecent: 1, networkRecent: 1)
        return ModelLogic.allCases.map { ($0.rawValue, rec) } + [("fusion", fused)]
    }

    /// Users 7…11 are the only eligible suggestions for user 0 in FilterTests' network.
    func suggestions(_ view: LiveView, _ scorer: FakeScorer) -> [String: Set<Int32>] {
        var out: [String: Set<Int32>] = [:]
        let now = Leaderboards.latestEvent(in: view.snapshot)
        for src in Self.sources(view.snapshot, scorer, now: now) {
            var f = FilterCounts()
            let r = FollowRequest(user: 0, view: view, now: now)
            out["source \(src.kind)"] = Set(src.candidates(for: r, limit: 50, filtered: &f).map(\.user))
        }
        for (name, rec) in Self.recommenders(view, scorer) {
            let logic = ModelLogic(rawValue: name)
            out["blend \(name)"] = Set(rec.recommend(user: 0, k: 20, logic: logic).items.map(\.user))
            var f = FilterCounts()
            let r = FollowRequest(user: 0, view: view, now: rec.now)
            out["ranking union \(name)"] = Set(rec.rankingCandidates(r, perSource: 50, filtered: &f).union.map(\.user))
        }
        return out
    }

    @Test func aDismissedCandidateNeverComesBackThroughAnySourceOrLogicAndUndoRestoresIt() {
        var (s, scorer) = FilterTests.fixture()
        let before = suggestions(LiveView(snapshot: s), scorer)
        #expect(before["blend graph"] == [7, 8, 9, 10, 11])
        let reaching = before.filter { $0.value.contains(7) }.keys.sorted()
        #expect(reaching.count >= 8, "too few sources reach user 7 for the test to mean much: \(reaching)")

        // Dismissed after the snapshot (the overlay), then in the snapshot itself (after a rebuild).
        var overlay = Overlay(snapshot: s)
        overlay.dismiss(0, 7)
        for (when, view) in [("overlay", LiveView(snapshot: s, overlay: overlay)), ("snapshot", LiveView(snapshot: Self.withDismissal(s)))] {
            for (name, got) in suggestions(view, scorer) {
                #expect(!got.contains(7), "\(name) suggested a dismissed account (dismissed in the \(when))")
            }
            #expect(suggestions(view, scorer)["blend graph"] == [8, 9, 10, 11])
            var f = FilterCounts()
            _ = FolloweesOfFolloweesSource().candidates(for: FollowRequest(user: 0, view: view, now: 10_000), limit: 50, filtered: &f)
            #expect(f[.dismissed] == 1)
        }
        // Undo, in the overlay over a snapshot that holds the dismissal: 7 is back everywhere it was.
        s = Self.withDismissal(s)
        var undo = Overlay(snapshot: s)
        undo.undismiss(0, 7)
        let after = suggestions(LiveView(snapshot: s, overlay: undo), scorer)
        #expect(after == before)
    }

    static func withDismissal(_ s: Snapshot) -> Snapshot { rebuilt(s, dismissing: [(0, 7)]) }
    static func flagging(_ s: Snapshot, _ u: Int32, _ f: UserFlags) -> Snapshot { rebuilt(s, flag: (u, f)) }

    /// The same network rebuilt from columns (as a snapshot rebuild does), with dismissals or a flag added.
    static func rebuilt(_ s: Snapshot, dismissing: [(Int32, Int32)] = [], flag: (Int32, UserFlags)? = nil) -> Snapshot {
        var c = Snapshot.Columns()
        c.userCount = s.userCount
        c.userFlags = s.userFlags
        if let (u, f) = flag { c.userFlags[Int(u)] = f }
        c.userCreatedAt = s.userCreatedAt
        for b in 0..<Int32(s.userCount) {
            for e in s.followers.range(b) { c.append(Follow(follower: s.followers.targets[e], followee: b, createdAt: s.followedAt[e])) }
        }
        for u in 0..<Int32(s.userCount) { for v in s.blocks.row(u) { c.blockUser.append(u); c.blockBlocked.append(v) } }
        c.dismissUser = dismissing.map(\.0)
        c.dismissCandidate = dismissing.map(\.1)
        c.postAuthor = s.postAuthor
        c.postCreatedAt = s.postCreatedAt
        for u in 0..<Int32(s.userCount) {
            for e in s.engagements(of: u) {
                for p in s.postsByAuthor.row(e.author) {
                    c.append(Interaction(user: u, post: p, kind: e.signals.contains(.authorClicked) ? .authorClick : .like, timestamp: e.lastTime))
                }
            }
        }
        return Snapshot.build(c)
    }

    @Test func impressionsDemoteThenFilterAsConfigured() {
        let (s, scorer) = FilterTests.fixture()
        let now = Leaderboards.latestEvent(in: s)
        var rec = FollowRecommender(view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now, scorer: scorer)
        let plain = rec.recommend(user: 0, k: 5).items.map(\.user)
        #expect(plain.count == 5)
        let top = plain[0]
        func shown(_ n: Int, daysAgo: Double = 0) -> FollowRecommender {
            var o = Overlay(snapshot: s)
            for _ in 0..<n { o.impression(0, shown: top, at: now - Timestamp(daysAgo * 86_400)) }
            return rec.with(view: LiveView(snapshot: s, overlay: o))
        }
        // Once: below demoteAfter (2), nothing changes.
        #expect(shown(1).recommend(user: 0, k: 5).items.map(\.user) == plain)
        // Twice: demoted to a later place (place weight halved), still suggested.
        let twice = shown(2).recommend(user: 0, k: 5).items
        let at = try? #require(twice.firstIndex { $0.user == top })
        #expect(at != nil && at! > 0, "a suggestion shown twice kept its first place")
        #expect(twice.first { $0.user == top }?.demotion == 0.5)
        // Six times: filtered, and the filter is counted.
        let six = shown(6).recommend(user: 0, k: 5)
        #expect(!six.items.map(\.user).contains(top))
        #expect(six.filtered[.shownTooOften] >= 1)
        // Six showings a month ago are outside the 28-day window; two weeks ago they weigh 6/4 = 1.5 < 2.
        #expect(shown(6, daysAgo: 30).recommend(user: 0, k: 5).items.map(\.user) == plain)
        #expect(shown(6, daysAgo: 14).recommend(user: 0, k: 5).items.map(\.user) == plain)
        // Configuration: filter at the first showing; disabled: nothing happens.
        rec.config.impressions.demoteAfter = 1
        rec.config.impressions.filterAfter = 1
        #expect(!shown(1).recommend(user: 0, k: 5).items.map(\.user).contains(top))
        rec.config.impressions.enabled = false
        #expect(shown(6).recommend(user: 0, k: 5).items.map(\.user) == plain)
    }

    @Test func theDecayIsTheDocumentedOne() throws {
        let p = ImpressionDiscount()
        #expect(p.weight([1_000], now: 1_000) == 1)
        #expect(abs(p.weight([1_000], now: 1_000 + 7 * 86_400) - 0.5) < 1e-12)
        #expect(p.weight([1_000], now: 1_000 + 29 * 86_400) == 0)
        #expect(p.multiplier(weight: 1.9) == 1 && p.multiplier(weight: 2) == 0.5 && p.multiplier(weight: 3) == 0.25)
        var bad = p
        bad.filterAfter = 1
        #expect(throws: ImpressionDiscountError.self) { try bad.validate() }
        bad = p
        bad.windowDays = 91
        #expect(throws: ImpressionDiscountError.self) { try bad.validate() }
    }

    @Test func anUnlistedUserIsInNoOneElsesSuggestionsOrLeaderboardsButGetsTheirOwn() {
        var (s, scorer) = FilterTests.fixture()
        let before = suggestions(LiveView(snapshot: s), scorer)
        #expect(before["blend graph"]?.contains(8) == true)
        // Unlisted after the snapshot (overlay), and in the snapshot.
        var o = Overlay(snapshot: s)
        o.setFlags(8, .unlisted)
        for view in [LiveView(snapshot: s, overlay: o), LiveView(snapshot: Self.flagging(s, 8, .unlisted))] {
            for (name, got) in suggestions(view, scorer) {
                #expect(!got.contains(8), "\(name) suggested an unlisted account")
            }
            // User 8's own suggestions keep working.
            let rec = Self.recommenders(view, scorer)[0].1
            #expect(!rec.recommend(user: 8, k: 5).items.isEmpty)
        }
        s = Self.flagging(s, 8, .unlisted)
        let boards = Leaderboards(snapshot: s, now: Leaderboards.latestEvent(in: s))
        #expect(!boards.mostFollowed.map(\.user).contains(8) && !boards.hotAuthors.map(\.user).contains(8))
        #expect(!boards.mostFollowed.isEmpty)
        #expect(FilterReason(flags: .unlisted) == .unlisted && FilterReason(flags: [.unlisted, .reported]) == .reported)
    }

    @Test func similarAccountsOnASmallGraphWithAKnownAnswer() {
        // Account 10 is followed by 1–4; 11 by 1–3 (3 shared of 3 followers); 13 by 1–9 (4 shared
        // of 9); 12 by 4 alone (1 shared of 1). Follower cosines: 11 0.866, 13 0.667, 12 0.5.
        var net = Net(users: 20)
        net.follows = (1...4).map { (Int32($0), 10) } + (1...3).map { (Int32($0), 11) } + (1...9).map { (Int32($0), 13) } + [(4, 12)]
        let s = net.snapshot
        let rec = FollowRecommender(view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: 2_000), now: 2_000)
        let two = rec.similarAccounts(to: 10, k: 2)
        #expect(two.map(\.user) == [11, 13])
        #expect(abs(two[0].followerCosine - 0.8660254) < 1e-5 && two[0].sharedFollowers == 3 && two[0].sampledFollowers == 4)
        #expect(abs(two[1].followerCosine - 0.6666667) < 1e-5)
        // Too few accounts are shared by two followers: the single-follower overlap fills in.
        #expect(rec.similarAccounts(to: 10, k: 3).map(\.user) == [11, 13, 12])
        // For viewer 4, who follows 12 and now 13, those are left out; flagged accounts for everyone.
        var o = Overlay(snapshot: s)
        o.follow(4, 13)
        o.setFlags(11, .unlisted)
        let live = rec.with(view: LiveView(snapshot: s, overlay: o))
        #expect(live.similarAccounts(to: 10, k: 3, for: 4).map(\.user) == [])
        #expect(live.similarAccounts(to: 10, k: 3).map(\.user) == [13, 12])
        // Embeddings reorder: a model that puts 13 next to 10 moves it up (at equal weights the two
        // orderings tie and the overlap's order stands, so the embeddings weigh double here).
        var embedded = FollowRecommender(
            view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: 2_000), now: 2_000,
            scorer: EmbeddingScorer(knownUsers: 20) { v in v == 10 || v == 13 ? [1, 0] : [0, 1] })
        #expect(embedded.similarAccounts(to: 10, k: 2).map(\.user) == [11, 13])
        embedded.config.similar.embeddingWeight = 2
        #expect(embedded.similarAccounts(to: 10, k: 2).map(\.user) == [13, 11])
        #expect(embedded.similarAccounts(to: 10, k: 2)[0].embeddingCosine == 1)
        // An account nobody follows has no similar accounts (bounded work: no global scan).
        #expect(rec.similarAccounts(to: 19, k: 5).isEmpty)
    }

    @Test func recentlyFollowedByYourNetworkCountsOnlyTheWindow() {
        // 0 follows 1 and 2. Within the week: 1 and 2 followed 7, 1 followed 8; long ago 1 and 2 followed 9.
        var c = Snapshot.Columns()
        c.userCount = 10
        c.userFlags = Array(repeating: [], count: 10)
        c.userCreatedAt = Array(repeating: 0, count: 10)
        let now: Timestamp = 100 * 86_400
        for (a, b, t) in [(0, 1, 1), (0, 2, 1), (1, 7, now - 86_400), (2, 7, now - 2 * 86_400), (1, 8, now - 3 * 86_400),
                          (1, 9, 86_400), (2, 9, 86_400)] as [(Int32, Int32, Timestamp)] {
            c.append(Follow(follower: a, followee: b, createdAt: t))
        }
        let s = Snapshot.build(c)
        let source = NetworkRecentFollowsSource(recent: RecentFollows(snapshot: s, now: now, days: 7))
        var f = FilterCounts()
        let got = source.candidates(for: FollowRequest(user: 0, view: LiveView(snapshot: s), now: now), limit: 10, filtered: &f)
        #expect(got.map(\.user) == [7, 8])
        #expect(got.first?.evidence == .followedRecentlyByFollowees(count: 2, days: 7))
        let reason = UserRecommendation(user: 7, score: 2, source: .networkRecentFollows, evidence: got[0].evidence).reason { "u\($0)" }
        #expect(reason == "2 people you follow followed @u7 this week")
        // A follow after the snapshot counts as recent.
        var o = Overlay(snapshot: s)
        o.follow(2, 8)
        let live = source.candidates(for: FollowRequest(user: 0, view: LiveView(snapshot: s, overlay: o), now: now), limit: 10, filtered: &f)
        #expect(live.first { $0.user == 8 }?.score == 2)
    }

    @Test func similarToRecentFollowsAnchorsOnTheLatestFollows() {
        // 0 followed 10 long ago and 20 recently; 20's followers also follow 21, 10's follow 11.
        var c = Snapshot.Columns()
        c.userCount = 30
        c.userFlags = Array(repeating: [], count: 30)
        c.userCreatedAt = Array(repeating: 0, count: 30)
        c.append(Follow(follower: 0, followee: 10, createdAt: 100))
        c.append(Follow(follower: 0, followee: 20, createdAt: 900))
        for f in Int32(1)...4 {
            c.append(Follow(follower: f, followee: 10, createdAt: 100)); c.append(Follow(follower: f, followee: 11, createdAt: 100))
        }
        for f in Int32(5)...8 {
            c.append(Follow(follower: f, followee: 20, createdAt: 100)); c.append(Follow(follower: f, followee: 21, createdAt: 100))
        }
        let s = Snapshot.build(c)
        var config = SimilarAccountsConfig()
        config.recentAnchors = 1
        var f = FilterCounts()
        let got = SimilarToRecentFollowsSource(config: config, scorer: nil)
            .candidates(for: FollowRequest(user: 0, view: LiveView(snapshot: s), now: 1_000), limit: 5, filtered: &f)
        #expect(got.map(\.user) == [21])
        #expect(got.first?.evidence == .similarTo(account: 20, sharedFollowers: 4))
        #expect(SimilarToRecentFollowsSource.latestFollows(of: 0, view: LiveView(snapshot: s), n: 2) == [20, 10])
    }
}

/// A model that only has followee embeddings (for the similar-accounts reordering).
struct EmbeddingScorer: PairScorer {
    var knownUsers: Int
    var embedding: @Sendable (Int32) -> [Float]
    var relationDimension: Int { 2 }
    func scores(user: Int32, candidates: [Int32]) -> [Float] { candidates.map { _ in 0.5 } }
    func relationVectors(user: Int32, items: [Int32]) -> [Float] { items.flatMap { _ in [Float(1), 0] } }
    func followeeEmbedding(_ v: Int32) -> ArraySlice<Float>? { ArraySlice(embedding(v)) }
}
