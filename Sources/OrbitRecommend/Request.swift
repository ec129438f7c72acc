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

    public init(user: UserIndex, view: LiveView, now: Timestamp, scratch: ScratchPool? = nil) {
        self.user = user
        self.view = view
        self.eligibility = Eligibility(user: user, view: view)
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
}

extension PairScorer {
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

/// Top-`k` selection by score without sorting everything. Ties keep input order, so callers that
/// pass deterministic input get deterministic output.
func topK<T>(_ items: [T], k: Int, by score: (T) -> Float) -> [T] {
    var position = 0
    return topK(items, k: k, by: score, tie: { _ in defer { position += 1 }; return position })
}

/// Top-`k` by score; among equal scores the lower `tie` key wins (a user index, so that input in
/// any order, such as a hash or scratch-counter walk, gives the same answer as input sorted by user).
/// `tie` is called once per item, in input order.
func topK<T>(_ items: [T], k: Int, by score: (T) -> Float, tie: (T) -> Int) -> [T] {
    guard k > 0 else { return [] }
    // Kept as (score, tie, position); the heap's root is the worst kept item.
    var heap: [(Float, Int, Int)] = []
    heap.reserveCapacity(min(k, items.count))
    func worse(_ a: (Float, Int, Int), _ b: (Float, Int, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 > b.1) }
    func siftDown(_ i0: Int) {
        var i = i0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, worse(heap[l], heap[m]) { m = l }
            if r < heap.count, worse(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
    for (idx, item) in items.enumerated() {
        let e = (score(item), tie(item), idx)
        if heap.count < k {
            heap.append(e)
            var i = heap.count - 1
            while i > 0, worse(heap[i], heap[(i - 1) / 2]) {
                heap.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        } else if worse(heap[0], e) {
            heap[0] = e
            siftDown(0)
        }
    }
    return heap.sorted { worse($1, $0) }.map { items[$0.2] }
}
