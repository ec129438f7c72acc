import Foundation
import OrbitCore

/// An account like another one ("accounts like @x"), with the evidence behind it.
public struct SimilarAccount: Sendable, Hashable {
    public var user: UserIndex
    /// The blended score: reciprocal-rank fusion of the follower-overlap and embedding orderings.
    public var score: Float
    /// Cosine of the two accounts' follower sets, estimated from the sampled followers of the anchor.
    public var followerCosine: Float
    /// Sampled followers of the anchor who also follow this account.
    public var sharedFollowers: Int
    /// Followers of the anchor that were read (the sample `sharedFollowers` is out of).
    public var sampledFollowers: Int
    /// Cosine of the follow model's followee embeddings; nil without a model (or for a user it lacks).
    public var embeddingCosine: Float?
}

/// Bounds and weights of the similar-accounts search; defaults keep one search under about
/// 60,000 edge reads whatever the anchor's degree.
public struct SimilarAccountsConfig: Sendable, Codable, Equatable {
    /// Followers of the anchor read at most (the newest: the highest indices).
    public var followers = 300
    /// Followees read per sampled follower at most.
    public var perFollower = 200
    /// Edges read in all at most; shared evenly by the sampled followers.
    public var edges = 60_000
    /// Accounts followed by fewer sampled followers are left out (noise), unless too few remain.
    public var minShared = 2
    /// Weight of the embedding ordering in the fusion (0: follower overlap only).
    public var embeddingWeight = 1.0
    /// Accounts rescored by embeddings: the best this many by follower overlap.
    public var rescored = 200
    /// The who-to-follow source: how many of the user's latest follows are anchors.
    public var recentAnchors = 3
    public init() {}

    /// Keys absent from a configuration keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimilarAccountsConfig()
        followers = try c.decodeIfPresent(Int.self, forKey: .followers) ?? d.followers
        perFollower = try c.decodeIfPresent(Int.self, forKey: .perFollower) ?? d.perFollower
        edges = try c.decodeIfPresent(Int.self, forKey: .edges) ?? d.edges
        minShared = try c.decodeIfPresent(Int.self, forKey: .minShared) ?? d.minShared
        embeddingWeight = try c.decodeIfPresent(Double.self, forKey: .embeddingWeight) ?? d.embeddingWeight
        rescored = try c.decodeIfPresent(Int.self, forKey: .rescored) ?? d.rescored
        recentAnchors = try c.decodeIfPresent(Int.self, forKey: .recentAnchors) ?? d.recentAnchors
    }
}

/// "Accounts like @x": the accounts whose followers overlap most with @x's (cosine over follower
/// sets, from a bounded sample of @x's followers), reordered with the follow model's followee
/// embeddings when there is a model. Work is bounded by `SimilarAccountsConfig`, so a hub with a
/// million followers costs what a small account costs.
public struct SimilarAccounts: Sendable {
    public var config: SimilarAccountsConfig
    public init(config: SimilarAccountsConfig = SimilarAccountsConfig()) { self.config = config }

    /// The `k` accounts most like `anchor` that `allow` accepts (the anchor itself never).
    func similar(
        to anchor: UserIndex, k: Int, view: LiveView, scorer: (any PairScorer)?, scratch: ScratchPool,
        allow: (UserIndex) -> Bool
    ) -> [SimilarAccount] {
        let s = view.snapshot
        guard k > 0, anchor >= 0, Int(anchor) < s.userCount else { return [] }
        let followers = s.followers.row(anchor).suffix(max(0, config.followers))
        guard !followers.isEmpty else { return [] }
        let perRow = max(1, min(config.perFollower, config.edges / followers.count))
        let sampled = followers.count
        // Follower overlap: how many sampled followers follow each account.
        let overlap: [(user: UserIndex, shared: Int, cosine: Float)] = scratch.with(users: view.userCount) { c in
            for f in followers { c.add(row: s.followees.row(f).suffix(perRow), skipping: anchor) }
            var all: [(UserIndex, Int, Float)] = []
            all.reserveCapacity(c.touched.count)
            for u in c.touched {
                let n = Int(c.count[Int(u)])
                let cosine = Float(Double(n) / (Double(sampled) * Double(max(1, s.followers.degree(u)))).squareRoot())
                all.append((u, n, cosine))
            }
            let strong = all.filter { $0.1 >= config.minShared }
            let pool = strong.count >= k ? strong : all
            return topK(pool.filter { allow($0.0) }, k: max(k, config.rescored)) { $0.2 }.map { (user: $0.0, shared: $0.1, cosine: $0.2) }
        }
        guard !overlap.isEmpty else { return [] }
        // Embeddings reorder the overlap neighbourhood; the fusion keeps the overlap's evidence.
        var embedding = [Float?](repeating: nil, count: overlap.count)
        if config.embeddingWeight > 0, let scorer, let ea = scorer.followeeEmbedding(anchor) {
            let na = Self.norm(ea)
            for (i, o) in overlap.enumerated() {
                guard let eb = scorer.followeeEmbedding(o.user) else { continue }
                let d = Self.dot(ea, eb), nb = Self.norm(eb)
                embedding[i] = na > 0 && nb > 0 ? d / (na * nb) : 0
            }
        }
        var fused = [Double](repeating: 0, count: overlap.count)
        for i in overlap.indices { fused[i] = 1 / (60 + Double(i)) }
        let byEmbedding = overlap.indices.filter { embedding[$0] != nil }.sorted { (embedding[$0]!, -$0) > (embedding[$1]!, -$1) }
        for (r, i) in byEmbedding.enumerated() { fused[i] += config.embeddingWeight / (60 + Double(r)) }
        let order = overlap.indices.sorted { (fused[$0], -$0) > (fused[$1], -$1) }
        return order.prefix(k).map { i in
            SimilarAccount(user: overlap[i].user, score: Float(fused[i]), followerCosine: overlap[i].cosine,
                           sharedFollowers: overlap[i].shared, sampledFollowers: sampled, embeddingCosine: embedding[i])
        }
    }

    static func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        var s: Float = 0
        for (x, y) in zip(a, b) { s += x * y }
        return s
    }

    static func norm(_ a: ArraySlice<Float>) -> Float { dot(a, a).squareRoot() }
}

/// Who to follow, "because you recently followed @x": accounts similar to the user's latest
/// follows (Twitter's user-user graph idea), each anchor's list fused by reciprocal rank.
public struct SimilarToRecentFollowsSource: CandidateSource {
    public let similar: SimilarAccounts
    public let scorer: (any PairScorer)?
    public var kind: SourceKind { .similarToRecentFollows }

    public init(config: SimilarAccountsConfig = SimilarAccountsConfig(), scorer: (any PairScorer)?) {
        similar = SimilarAccounts(config: config)
        self.scorer = scorer
    }

    /// The user's latest follows, newest first: the overlay's (made after the snapshot) first, then
    /// the snapshot's by follow time.
    static func latestFollows(of u: UserIndex, view: LiveView, n: Int) -> [UserIndex] {
        guard n > 0 else { return [] }
        var out = (view.overlay.followsAdded[u] ?? []).sorted()
        if out.count >= n { return Array(out.prefix(n)) }
        let s = view.snapshot
        let removed = view.overlay.followsRemoved[u] ?? []
        let timed = s.followees.row(u).filter { !removed.contains($0) && !out.contains($0) }
            .map { ($0, s.followedAt(follower: u, followee: $0) ?? 0) }
        out += topK(timed, k: n - out.count) { Float($0.1) }.map(\.0)
        return out
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let anchors = Self.latestFollows(of: r.user, view: r.view, n: similar.config.recentAnchors)
        var score: [UserIndex: (total: Double, best: Double, anchor: UserIndex, shared: Int)] = [:]
        var refused = FilterCounts()
        for a in anchors {
            let list = similar.similar(to: a, k: limit, view: r.view, scorer: scorer, scratch: r.scratch) { v in
                if let why = r.eligibility.reason(v) { refused.add(why); return false }
                return true
            }
            for (rank, item) in list.enumerated() {
                let add = 1 / (60 + Double(rank))
                if let e = score[item.user] {
                    score[item.user] = (e.total + add, max(e.best, add), add > e.best ? a : e.anchor, add > e.best ? item.sharedFollowers : e.shared)
                } else {
                    score[item.user] = (add, add, a, item.sharedFollowers)
                }
            }
        }
        for (reason, n) in refused.counts { filtered.add(reason, n) }
        let ranked = score.sorted { ($0.value.total, -Int($0.key)) > ($1.value.total, -Int($1.key)) }.prefix(limit)
        return ranked.map { u, v in
            Candidate(user: u, score: Float(v.total), source: .similarToRecentFollows, evidence: .similarTo(account: v.anchor, sharedFollowers: v.shared))
        }
    }
}

/// The follows each user made in the last `days` before `now`, by follower: built once per
/// snapshot (one pass over the follow times) for the recently-followed-by-your-network source.
public struct RecentFollows: Sendable {
    public let days: Int
    /// Row `f`: the accounts `f` followed within the window, sorted.
    public let byFollower: CSR

    public init(snapshot s: Snapshot, now: Timestamp, days: Int) {
        self.days = days
        let since = now - Timestamp(days) * 86_400
        var src: [UserIndex] = [], dst: [UserIndex] = []
        for v in 0..<Int32(s.userCount) {
            for e in s.followers.range(v) where s.followedAt[e] >= since && s.followedAt[e] <= now {
                src.append(s.followers.targets[e])
                dst.append(v)
            }
        }
        byFollower = CSR.build(rows: s.userCount, sources: src, targets: dst).csr
    }
}

/// Who to follow: accounts the user's followees followed in the last days ("3 people you follow
/// followed @y this week"), by how many of them did; follows since the snapshot count as recent.
public struct NetworkRecentFollowsSource: CandidateSource {
    public let recent: RecentFollows
    public var limits = ExpansionLimits()
    public var kind: SourceKind { .networkRecentFollows }

    public init(recent: RecentFollows, limits: ExpansionLimits = ExpansionLimits()) {
        self.recent = recent
        self.limits = limits
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let s = r.view.snapshot
        return r.scratch.with(users: r.view.userCount) { c in
            for f in r.eligibility.followees.prefix(max(0, limits.followees)) {
                c.add(row: recent.byFollower.row(f), skipping: r.user)
                if let added = r.view.overlay.followsAdded[f], !added.isEmpty { c.add(row: ArraySlice(added.sorted()), skipping: r.user) }
            }
            let best = c.bestEligible(limit: limit, for: r, filtered: &filtered) { u, n, _ in
                Float(n) + Float(min(s.followers.degree(u), 999_999)) * 1e-6
            }
            return best.map { u in
                let n = Int(c.count[Int(u)])
                return Candidate(user: u, score: Float(n), source: .networkRecentFollows,
                                 evidence: .followedRecentlyByFollowees(count: n, days: recent.days))
            }
        }
    }
}
