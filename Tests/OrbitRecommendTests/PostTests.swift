import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

@Suite(.testThreads) struct BrowsePoolTests {
    /// User 0 follows 1, 2 and 3; 2 is blocked by 0 and 3 is reported. 0 already saw post 1.
    static func fixture() -> Snapshot {
        var net = Net(users: 6)
        net.follows = [(0, 1), (0, 2), (0, 3), (4, 1)]
        net.blocks = [(0, 2)]
        net.flags = [3: .reported]
        net.postAuthors = [1, 1, 2, 3, 4, 0, 5]
        net.interactions = [(user: 0, post: 1, kind: .view, t: 600), (user: 4, post: 6, kind: .like, t: 600),
                            (user: 4, post: 4, kind: .like, t: 600)]
        return net.snapshot
    }

    @Test func poolExcludesSeenOwnBlockedAndFlaggedAuthorsPosts() {
        let s = Self.fixture()
        let hot = HotPosts(snapshot: s, now: 1_000)
        let rec = PostRecommender(view: LiveView(snapshot: s), hot: hot, now: 1_000)
        let pool = rec.pool(for: 0)
        let posts = Set(pool.map(\.post))
        #expect(posts.contains(0), "unseen post of followee 1")
        #expect(!posts.contains(1), "already seen")
        #expect(!posts.contains(2), "author blocked")
        #expect(!posts.contains(3), "author reported")
        #expect(!posts.contains(5), "own post")
        #expect(posts.contains(6) && posts.contains(4), "hot posts of others")
        #expect(pool.first { $0.post == 0 }?.source == .followee)
        #expect(pool.first { $0.post == 6 }?.source == .hot)
    }

    @Test func aPostSeenThroughTheOverlayLeavesThePoolAtOnce() {
        let s = Self.fixture()
        var overlay = Overlay(snapshot: s)
        overlay.interact(0, post: 0, author: 1, kind: .view, at: 900)
        let rec = PostRecommender(view: LiveView(snapshot: s, overlay: overlay), hot: HotPosts(snapshot: s, now: 1_000), now: 1_000)
        #expect(!rec.pool(for: 0).contains { $0.post == 0 })
    }

    @Test func diversityRuleBreaksRunsOfOneAuthor() {
        let ranked = [(1, 9), (1, 8), (1, 7), (2, 6), (1, 5), (3, 4)].enumerated().map { i, x in
            PostRecommendation(post: Int32(i), author: Int32(x.0), score: Float(x.1), source: .hot, signals: [])
        }
        let out = PostRecommender.diversify(ranked, k: 6, maxRun: 2)
        #expect(out.map(\.author) == [1, 1, 2, 1, 1, 3])
        let strict = PostRecommender.diversify(ranked, k: 6, maxRun: 1)
        #expect(strict.map(\.author) == [1, 2, 1, 3, 1])
    }

    @Test func mixedFeedFillsExactlyKSlotsWithoutDuplicates() {
        var net = Net(users: 30)
        net.follows = (1..<30).map { (Int32($0), Int32(($0 % 5) + 1)) } + [(0, 1), (0, 2)]
        net.postAuthors = (0..<40).map { Int32($0 % 6) }
        let s = net.snapshot
        let now: Int64 = 1_000
        let boards = Leaderboards(snapshot: s, now: now)
        let posts = PostRecommender(view: LiveView(snapshot: s), hot: boards.hot, now: now)
        let users = FollowRecommender(view: LiveView(snapshot: s), leaderboards: boards, now: now)
        for (k, p) in [(10, 3), (5, 5), (12, 0), (20, 8)] {
            let feed = mixedFeed(user: 0, k: k, posts: p, postRecommender: posts, followRecommender: users)
            #expect(feed.count == k, "k=\(k) p=\(p)")
            #expect(Set(feed).count == feed.count)
            let postCount = feed.filter { if case .post = $0 { true } else { false } }.count
            #expect(postCount <= p)
            // Posts come first, then users.
            if let firstUser = feed.firstIndex(where: { if case .user = $0 { true } else { false } }) {
                #expect(feed[firstUser...].allSatisfy { if case .user = $0 { true } else { false } })
            }
        }
    }
}

@Suite(.testThreads) struct ClickModelTests {
    /// Impressions where clicks go to authors the user engages with: the fitted model must score a
    /// brand-new post (no interactions at all) by such an author above one by a stranger.
    @Test func aNewPostIsScoredThroughItsAuthor() {
        var net = Net(users: 6)
        net.follows = [(0, 1)]
        net.postAuthors = [1, 1, 2, 2]
        net.interactions = [(user: 0, post: 0, kind: .comment, t: 100), (user: 0, post: 1, kind: .like, t: 110)]
        let s = net.snapshot
        let view = LiveView(snapshot: s)
        // Synthetic impressions: clicked when the author is followed and engaged with.
        var x: [[Double]] = [], y: [Bool] = []
        for k in 0..<400 {
            let engaged = k % 2 == 0
            var f = ClickModel.features(user: 0, post: engaged ? 0 : 2, view: view, now: 1_000, affinity: engaged ? 0.8 : 0.2)
            f[5] = Double(k % 7) / 7  // post engagement varies and carries no signal
            x.append(f)
            y.append(engaged ? k % 10 != 0 : k % 10 == 1)
        }
        let model = ClickModel.fit(features: x, labels: y)
        var overlay = Overlay(snapshot: s)
        overlay.addPost(4, author: 1, createdAt: 990)
        overlay.addPost(5, author: 2, createdAt: 990)
        let scorer = ClickModelScorer(model: model, affinity: nil, now: 1_000)
        let p = scorer.clickProbabilities(user: 0, posts: [4, 5], view: LiveView(snapshot: s, overlay: overlay))
        #expect(p[0] > p[1], "new post by an engaged, followed author \(p[0]) vs a stranger's \(p[1])")
        #expect(p.allSatisfy { $0 > 0 && $0 < 1 })
    }
}

@Suite(.testThreads) struct ClickTrainingTests {
    @Test func impressionsAreViewsLabelledByAnyStrongerSignalAndSplitByTime() {
        var net = Net(users: 4)
        net.postAuthors = [1, 2, 3]
        net.follows = [(0, 1)]
        net.interactions = [
            (user: 0, post: 0, kind: .view, t: 10), (user: 0, post: 0, kind: .click, t: 11),  // before the split
            (user: 0, post: 1, kind: .view, t: 30),  // viewed, not clicked
            (user: 0, post: 2, kind: .view, t: 31), (user: 0, post: 2, kind: .like, t: 32),  // liked: positive
        ]
        var c = Snapshot.Columns()
        c.userCount = 4
        c.userFlags = Array(repeating: [], count: 4)
        c.userCreatedAt = Array(repeating: 0, count: 4)
        c.postAuthor = net.postAuthors
        c.postCreatedAt = [0, 0, 0]
        c.append(Follow(follower: 0, followee: 1, createdAt: 5))
        c.append(Follow(follower: 0, followee: 2, createdAt: 40))
        for i in net.interactions { c.append(Interaction(user: i.user, post: i.post, kind: i.kind, timestamp: i.t)) }
        let after = ClickModelTraining.impressions(c, from: 20, to: .max)
        #expect(after.map(\.1) == [1, 2] && after.map(\.2) == [false, true])
        let s = ClickModelTraining.snapshot(c, at: 20)
        #expect(s.follows(0, 1) && !s.follows(0, 2), "the follow made at 40 is not known at 20")
        #expect(s.engagements(of: 0).map(\.author) == [1], "only interactions before 20")
    }
}

@Suite(.testThreads) struct SampledNegativeTests {
    @Test func usersWithClicksButNoViewsGetSampledNegatives() {
        let imps: [(Int32, Int32, Bool)] = [(0, 1, true), (0, 2, true), (1, 3, true), (1, 4, false)]
        let out = ClickModelTraining.addingSampledNegatives(imps, postCreatedAt: Array(repeating: 0, count: 50), until: 10)
        let added = out.dropFirst(imps.count)
        #expect(added.count == 4 && added.allSatisfy { $0.0 == 0 && !$0.2 && ![1, 2].contains($0.1) })
        #expect(Set(added.map(\.1)).count == 4, "no post twice")
    }
}
