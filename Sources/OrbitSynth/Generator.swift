import OrbitCore

/// Knobs of the synthetic social network; the defaults give a plausible small platform.
public struct SynthConfig: Sendable {
    public var users = 1_000
    /// Mean number of followees per user (log-normal, heavy-tailed).
    public var meanFollows = 11.0
    /// Number of latent interest communities; 0 picks about one per 2,000 users (at least 4).
    public var communities = 0
    /// Share of follows that stay inside the follower's main community.
    public var inCommunity = 0.8
    /// Share of follow targets picked by preferential attachment (in-degree) rather than fitness.
    public var preferential = 0.5
    /// Chance that a followed user follows back (doubled inside a community, capped at 0.9).
    public var reciprocity = 0.15
    public var meanPosts = 3.0
    public var meanViews = 30.0
    /// Funnel: P(click | view) at affinity 1, and the rates of stronger signals given a click.
    public var clickRate = 0.03
    public var likeRate = 0.35
    public var repostRate = 0.08
    public var commentRate = 0.06
    public var authorClickRate = 0.12
    /// Chance that an author-click or comment on a non-followed author leads to a follow later.
    public var followAfterEngagement = 0.3
    public var inactiveRate = 0.02
    public var blacklistedRate = 0.005
    public var reportedRate = 0.01
    public var blockerRate = 0.01
    /// Start of the platform and length of its history (seconds).
    public var start: Timestamp = 1_704_067_200  // 2024-01-01
    public var span: Timestamp = 365 * 86_400
    public var seed: UInt64 = 42

    public init() {}

    public var communityCount: Int { communities > 0 ? communities : max(4, users / 2_000) }
}

/// A generated network with its ground truth, in dense indices (user `i` is named `u<i>`).
public struct SyntheticNetwork: Sendable {
    public var config: SynthConfig
    public var community: [Int32]
    public var joinedAt: [Timestamp]
    public var flags: [UserFlags]
    public var follows: [Follow]
    public var blocks: [Block]
    public var posts: [Post]
    public var interactions: [Interaction]

    public var userCount: Int { community.count }
    public static func userID(_ i: Int32) -> String { "u\(i)" }
    public static func postID(_ i: Int32) -> String { "p\(i)" }

    /// The network as snapshot columns (for tests and benchmarks that skip the store).
    public func columns() -> Snapshot.Columns {
        var c = Snapshot.Columns()
        c.userCount = userCount
        c.userFlags = flags
        c.userCreatedAt = joinedAt
        for f in follows { c.append(f) }
        for b in blocks {
            c.blockUser.append(b.user)
            c.blockBlocked.append(b.blocked)
        }
        c.postAuthor = posts.map(\.author)
        c.postCreatedAt = posts.map(\.createdAt)
        for i in interactions { c.append(i) }
        return c
    }
}

/// Generates a synthetic social network: communities, heavy-tailed followers, reciprocity,
/// posts, an interest-driven interaction funnel, flags, blocks and time. Deterministic per seed.
public struct Generator {
    public var config: SynthConfig
    /// Called with (stage, fraction done).
    public var progress: ((String, Double) -> Void)?

    public init(config: SynthConfig, progress: ((String, Double) -> Void)? = nil) {
        self.config = config
        self.progress = progress
    }

    public func generate() -> SyntheticNetwork {
        let cfg = config
        let n = cfg.users
        precondition(n >= 2, "need at least two users")
        var rng = SeededRandom(seed: cfg.seed)
        let k = cfg.communityCount

        // Users: community sizes are skewed (a few big interests, many niche ones).
        let communityTable = AliasTable(weights: (0..<k).map { 1.0 / Double($0 + 1).squareRoot() })
        var community = [Int32](repeating: 0, count: n)
        var secondary = [Int32](repeating: -1, count: n)
        var joinedAt = [Timestamp](repeating: 0, count: n)
        var fitness = [Double](repeating: 1, count: n)
        var flags = [UserFlags](repeating: [], count: n)
        for u in 0..<n {
            community[u] = Int32(communityTable.sample(&rng))
            if rng.chance(0.3) { secondary[u] = Int32(communityTable.sample(&rng)) }
            // Growth: more users join later; the first ones are there from day one.
            joinedAt[u] = cfg.start + Timestamp(Double(cfg.span) * 0.7 * (Double(u) / Double(n)).squareRoot())
            fitness[u] = rng.pareto(alpha: 1.6)
            if rng.chance(cfg.inactiveRate) { flags[u].insert(.inactive) }
            if rng.chance(cfg.blacklistedRate) { flags[u].insert(.blacklisted) }
            if rng.chance(cfg.reportedRate) { flags[u].insert(.reported) }
        }
        var members = [[Int32]](repeating: [], count: k)
        for u in 0..<n { members[Int(community[u])].append(Int32(u)) }
        let fitnessTables: [AliasTable?] = members.map { m in
            m.isEmpty ? nil : AliasTable(weights: m.map { fitness[Int($0)] })
        }
        progress?("users", 1)

        // Follows: each user picks a heavy-tailed number of targets, mostly in its communities,
        // half by fitness and half by preferential attachment on the edges made so far.
        var follower: [Int32] = [], followee: [Int32] = [], followTime: [Timestamp] = []
        let expected = Int(Double(n) * cfg.meanFollows * (1 + cfg.reciprocity))
        follower.reserveCapacity(expected); followee.reserveCapacity(expected); followTime.reserveCapacity(expected)
        var attached = [[Int32]](repeating: [], count: k)  // followee endpoints per community
        let end = cfg.start + cfg.span
        func followTimeFor(_ a: Int, _ b: Int, _ rng: inout SeededRandom) -> Timestamp {
            let from = max(joinedAt[a], joinedAt[b])
            return from + Timestamp(rng.unit() * Double(end - from))
        }
        for u in 0..<n {
            let degree = min(n - 1, 5_000, Int(rng.logNormal(mean: cfg.meanFollows, sigma: 1.0).rounded()))
            for _ in 0..<degree {
                var c = Int(community[u])
                if !rng.chance(cfg.inCommunity) {
                    c = secondary[u] >= 0 && rng.chance(0.5) ? Int(secondary[u]) : communityTable.sample(&rng)
                }
                guard let table = fitnessTables[c] else { continue }
                let v: Int
                if !attached[c].isEmpty, rng.chance(cfg.preferential) {
                    v = Int(attached[c][rng.below(attached[c].count)])
                } else {
                    v = Int(members[c][table.sample(&rng)])
                }
                if v == u { continue }
                let t = followTimeFor(u, v, &rng)
                follower.append(Int32(u)); followee.append(Int32(v)); followTime.append(t)
                attached[c].append(Int32(v))
                let back = min(0.9, cfg.reciprocity * (community[u] == community[v] ? 2 : 1))
                if rng.chance(back) {
                    follower.append(Int32(v)); followee.append(Int32(u))
                    followTime.append(min(end, t + Timestamp(rng.exponential(mean: 2 * 86_400))))
                }
            }
            if u % 65_536 == 0 { progress?("follows", Double(u) / Double(n)) }
        }

        // Posts: prolific users are also the popular ones, loosely.
        var posts: [Post] = []
        posts.reserveCapacity(Int(Double(n) * cfg.meanPosts * 1.2))
        var postsOf = [[Int32]](repeating: [], count: n)
        var communityPosts = [[Int32]](repeating: [], count: k)
        var authorsInOrder: [(Timestamp, Int32)] = []
        for u in 0..<n {
            let count = Int(rng.logNormal(mean: cfg.meanPosts * min(3, fitness[u].squareRoot()), sigma: 1.0))
            for _ in 0..<count {
                authorsInOrder.append((joinedAt[u] + Timestamp(rng.unit() * Double(end - joinedAt[u])), Int32(u)))
            }
        }
        authorsInOrder.sort { $0.0 < $1.0 }  // post indices follow creation time
        for (t, a) in authorsInOrder {
            let p = Int32(posts.count)
            posts.append(Post(index: p, author: a, createdAt: t))
            postsOf[Int(a)].append(p)
            communityPosts[Int(community[Int(a)])].append(p)
        }
        progress?("posts", 1)

        // Out-adjacency for the feed: who each user follows.
        let (followCSR, _) = CSR.build(rows: n, sources: follower, targets: followee)

        // Interactions: a funnel from views to clicks to stronger signals; affinity is higher for
        // followees and for the user's own interests.
        var interactions: [Interaction] = []
        interactions.reserveCapacity(Int(Double(n) * cfg.meanViews * 1.2))
        var laterFollows: [(Int32, Int32, Timestamp)] = []
        for u in 0..<n {
            let activity = flags[u].contains(.inactive) ? 0.2 : 1.0
            let views = Int(rng.logNormal(mean: cfg.meanViews * activity, sigma: 0.8))
            let fol = followCSR.row(Int32(u))
            for _ in 0..<views {
                let r = rng.unit()
                var p: Int32 = -1
                if r < 0.55, !fol.isEmpty {
                    let a = Int(fol[fol.startIndex + rng.below(fol.count)])
                    if !postsOf[a].isEmpty { p = postsOf[a][rng.below(postsOf[a].count)] }
                } else if r < 0.9 {
                    let c = secondary[u] >= 0 && rng.chance(0.3) ? Int(secondary[u]) : Int(community[u])
                    if !communityPosts[c].isEmpty { p = communityPosts[c][rng.below(communityPosts[c].count)] }
                }
                if p < 0, !posts.isEmpty { p = Int32(rng.below(posts.count)) }
                guard p >= 0 else { continue }
                let post = posts[Int(p)]
                let a = Int(post.author)
                if a == u { continue }
                let from = max(post.createdAt, joinedAt[u])
                guard from < end else { continue }
                let t = from + Timestamp(rng.exponential(mean: 3 * 86_400))
                guard t <= end else { continue }  // would happen after the observed history
                interactions.append(Interaction(user: Int32(u), post: p, kind: .view, timestamp: t))

                let follows = followCSR.contains(Int32(u), Int32(a))
                let interest = community[a] == community[u] ? 2.0 : (community[a] == secondary[u] ? 1.5 : 1)
                let affinity = (follows ? 2.0 : 1.0) * interest * min(2, fitness[a].squareRoot().squareRoot())
                guard rng.chance(min(0.9, cfg.clickRate * affinity)) else { continue }
                let tc = t + Timestamp(rng.below(120) + 1)
                guard tc <= end else { continue }
                interactions.append(Interaction(user: Int32(u), post: p, kind: .click, timestamp: tc))
                var strong = false
                for (kind, rate) in [(Interaction.Kind.like, cfg.likeRate), (.repost, cfg.repostRate),
                                     (.comment, cfg.commentRate), (.authorClick, cfg.authorClickRate)]
                where rng.chance(min(0.95, rate * interest / 1.5)) {
                    let ts = tc + Timestamp(rng.below(600) + 1)
                    guard ts <= end else { continue }
                    interactions.append(Interaction(user: Int32(u), post: p, kind: kind, timestamp: ts))
                    if kind == .comment || kind == .authorClick { strong = true }
                }
                // Ground truth that engagement leads to following: the loop SPEC §2.2 relies on.
                if strong, !follows, rng.chance(cfg.followAfterEngagement) {
                    laterFollows.append((Int32(u), Int32(a), min(end, tc + Timestamp(rng.exponential(mean: 86_400)))))
                }
            }
            if u % 65_536 == 0 { progress?("interactions", Double(u) / Double(n)) }
        }
        // The log in time order; an event recorded twice is one event.
        interactions.sort { ($0.timestamp, $0.user, $0.post, $0.kind.rawValue) < ($1.timestamp, $1.user, $1.post, $1.kind.rawValue) }
        interactions = interactions.enumerated().filter { i, x in i == 0 || interactions[i - 1] != x }.map(\.element)
        for (u, a, t) in laterFollows {
            follower.append(u); followee.append(a); followTime.append(t)
        }

        // De-duplicate follows, keeping the earliest time of a pair.
        var order = Array(0..<follower.count)
        order.sort { (follower[$0], followee[$0], followTime[$0]) < (follower[$1], followee[$1], followTime[$1]) }
        var follows: [Follow] = []
        follows.reserveCapacity(order.count)
        for e in order {
            if let last = follows.last, last.follower == follower[e], last.followee == followee[e] { continue }
            follows.append(Follow(follower: follower[e], followee: followee[e], createdAt: followTime[e]))
        }
        progress?("follows", 1)

        // Blocks: a few users block someone they met in their community.
        var blocks: [Block] = []
        for u in 0..<n where rng.chance(cfg.blockerRate) {
            let m = members[Int(community[u])]
            for _ in 0..<(1 + rng.below(3)) {
                let v = m[rng.below(m.count)]
                if v != Int32(u) {
                    blocks.append(Block(user: Int32(u), blocked: v, createdAt: max(joinedAt[u], joinedAt[Int(v)]) + 86_400))
                }
            }
        }
        blocks.sort { ($0.user, $0.blocked, $0.createdAt) < ($1.user, $1.blocked, $1.createdAt) }
        blocks = blocks.enumerated().filter { i, b in
            i == 0 || blocks[i - 1].user != b.user || blocks[i - 1].blocked != b.blocked
        }.map(\.element)
        progress?("done", 1)

        return SyntheticNetwork(
            config: cfg, community: community, joinedAt: joinedAt, flags: flags, follows: follows,
            blocks: blocks, posts: posts, interactions: interactions)
    }
}
