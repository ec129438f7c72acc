import OrbitCore

/// One who-to-follow request as the sources see it: the user, the live view and its filter.
public struct FollowRequest: Sendable {
    public let user: UserIndex
    public let view: LiveView
    public let eligibility: Eligibility
    /// "Now" for recency windows; defaults to the latest event the snapshot holds, so replayed
    /// or historical data behaves like live data.
    public let now: Timestamp
    /// Counters for graph expansion, reused across requests when the caller keeps a pool.
    public let scratch: ScratchPool

    public init(user: UserIndex, view: LiveView, now: Timestamp, scratch: ScratchPool? = nil, impressions: ImpressionDiscount? = nil) {
        self.user = user
        self.view = view
        self.eligibility = Eligibility(user: user, view: view, now: now, impressions: impressions)
        self.now = now
        self.scratch = scratch ?? ScratchPool(users: view.snapshot.userCount)
    }
}

/// A way of proposing users to follow. Each source returns only users the request's
/// `Eligibility` allows, best first, and counts the ones it filtered.
public protocol CandidateSource: Sendable {
    var kind: SourceKind { get }
    func candidates(for request: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate]
}

/// Scores (user, candidate) pairs with a trained model: what the model-based sources need,
/// whatever the model is.
public protocol PairScorer: Sendable {
    /// Users the model was trained on (indices below this can be scored as the asking user).
    var knownUsers: Int { get }
    /// Probabilities that `user` follows each of `candidates` (all < knownUsers).
    func scores(user: UserIndex, candidates: [UserIndex]) -> [Float]
    /// Dimension of a relation vector.
    var relationDimension: Int { get }
    /// Relation vectors (GMF product ++ last MLP layer) of `(user, item)` for each item, concatenated.
    func relationVectors(user: UserIndex, items: [UserIndex]) -> [Float]
    /// Whether `user` can be the asking user (known to the model, or folded in).
    func canScore(user: UserIndex) -> Bool
    /// A scorer that also knows `user`, a user the model has not seen, from its followees
    /// (fold-in); nil when the model cannot fold users in.
    func foldingIn(user: UserIndex, followees: [UserIndex]) -> (any PairScorer)?
    /// The model's embedding of `v` as a followee, or nil when the model has none for `v`.
    func followeeEmbedding(_ v: UserIndex) -> ArraySlice<Float>?
}

extension PairScorer {
    public func followeeEmbedding(_ v: UserIndex) -> ArraySlice<Float>? { nil }
    public func canScore(user: UserIndex) -> Bool { user >= 0 && Int(user) < knownUsers }
    public func foldingIn(user: UserIndex, followees: [UserIndex]) -> (any PairScorer)? { nil }
}

/// Nearest follow edges by relation vector (the complex logic's vector index).
public protocol EdgeIndex: Sendable {
    /// Ids of the `n` edges whose relation vectors are most similar to `vector`.
    func nearestEdges(to vector: [Float], n: Int) -> [Int]
    /// The (follower, followee) of an edge id.
    func edge(_ id: Int) -> (follower: UserIndex, followee: UserIndex)
}
