import OrbitCore
@testable import OrbitRecommend

/// A hand-made network: follows as (a, b) pairs, flags, blocks, posts and interactions.
struct Net {
    var users: Int
    var follows: [(Int32, Int32)] = []
    var flags: [Int32: UserFlags] = [:]
    var blocks: [(Int32, Int32)] = []
    var dismissals: [(Int32, Int32)] = []
    /// (user, candidate shown, time)
    var impressions: [(Int32, Int32, Int64)] = []
    var postAuthors: [Int32] = []
    var interactions: [(user: Int32, post: Int32, kind: Interaction.Kind, t: Int64)] = []

    var snapshot: Snapshot {
        var c = Snapshot.Columns()
        c.userCount = users
        c.userFlags = (0..<Int32(users)).map { flags[$0] ?? [] }
        c.userCreatedAt = Array(repeating: 0, count: users)
        for (a, b) in follows { c.append(Follow(follower: a, followee: b, createdAt: 1_000)) }
        for (a, b) in blocks { c.blockUser.append(a); c.blockBlocked.append(b) }
        for (a, b) in dismissals { c.dismissUser.append(a); c.dismissCandidate.append(b) }
        for (a, b, t) in impressions { c.impressionUser.append(a); c.impressionCandidate.append(b); c.impressionTime.append(t) }
        c.postAuthor = postAuthors
        c.postCreatedAt = postAuthors.map { _ in 500 }
        for i in interactions { c.append(Interaction(user: i.user, post: i.post, kind: i.kind, timestamp: i.t)) }
        return Snapshot.build(c)
    }
}

/// A model whose scores and relation vectors are given by closures.
struct FakeScorer: PairScorer {
    var knownUsers: Int
    var score: @Sendable (Int32, Int32) -> Float
    var relation: @Sendable (Int32, Int32) -> [Float] = { _, _ in [1, 0] }
    var relationDimension: Int = 2

    func scores(user: Int32, candidates: [Int32]) -> [Float] { candidates.map { score(user, $0) } }
    func relationVectors(user: Int32, items: [Int32]) -> [Float] { items.flatMap { relation(user, $0) } }
}

/// Exact nearest edges by cosine similarity, over all follow edges of a snapshot.
struct ExactEdgeIndex: EdgeIndex {
    var edges: [(Int32, Int32)]
    var vectors: [[Float]]

    init(snapshot s: Snapshot, scorer: FakeScorer) {
        var e: [(Int32, Int32)] = []
        for a in 0..<Int32(s.userCount) { for b in s.followees.row(a) { e.append((a, b)) } }
        edges = e
        vectors = e.map { scorer.relation($0.0, $0.1) }
    }

    func nearestEdges(to v: [Float], n: Int) -> [Int] {
        func cos(_ a: [Float], _ b: [Float]) -> Float {
            var d: Float = 0, na: Float = 0, nb: Float = 0
            for i in a.indices { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
            return d / max(1e-9, (na * nb).squareRoot())
        }
        return edges.indices.sorted { (cos(vectors[$0], v), -$0) > (cos(vectors[$1], v), -$1) }.prefix(n).map { $0 }
    }

    func edge(_ id: Int) -> (follower: Int32, followee: Int32) { edges[id] }
}

func request(_ s: Snapshot, _ u: Int32, overlay: Overlay? = nil) -> FollowRequest {
    FollowRequest(user: u, view: LiveView(snapshot: s, overlay: overlay), now: 10_000)
}
