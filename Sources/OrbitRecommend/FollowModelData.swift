import NeuMF
import OrbitCore

/// Training data for the follow-graph NeuMF model: follows as (follower, followee) positives in
/// one user index space, with a validation split for early stopping and model selection.
///
/// Training negatives avoid only the training graph's follows (see `TrainingData`): validation
/// and held-out test followees stay eligible, so training cannot learn which follows are held
/// out. Validation negatives avoid every follow this type is told about: the training graph's,
/// the validation follows and `heldOut`.
public struct FollowModelData: Sendable {
    public var training: TrainingData
    public var validation: ValidationSet?
    public var userCount: Int

    /// Builds the data from `graph` with the given validation follows (already absent from
    /// `graph`); each validation user's first listed follow becomes its validation case.
    ///
    /// `heldOut` holds follows of other splits (held-out test follows) that validation
    /// negatives must never return. It does **not** reach training negatives: those avoid only
    /// the follows of `graph`, and a held-out followee stays eligible as one.
    public init(
        graph s: Snapshot, validation pairs: [(UserIndex, UserIndex)], heldOut: [(UserIndex, UserIndex)] = [],
        negatives: Int = 99, seed: UInt64 = 7
    ) throws(NeuMFError) {
        userCount = s.userCount
        var users: [Int32] = [], items: [Int32] = []
        users.reserveCapacity(s.followees.edgeCount)
        items.reserveCapacity(s.followees.edgeCount)
        for u in 0..<Int32(s.userCount) {
            for b in s.followees.row(u) { users.append(u); items.append(b) }
        }
        training = try TrainingData(users: users, items: items, userCount: s.userCount)
        let everySplit = try ItemSets(
            userCount: s.userCount,
            pairs: [(users, items), (pairs.map(\.0), pairs.map(\.1)), (heldOut.map(\.0), heldOut.map(\.1))])
        // One validation case per user: its first held-out follow.
        var first: [UserIndex: UserIndex] = [:]
        for (u, b) in pairs where first[u] == nil { first[u] = b }
        let vUsers = first.keys.sorted()
        let spare = s.userCount - 1 - (vUsers.map { everySplit.count(of: $0) }.max() ?? 0)
        let n = min(negatives, spare)
        validation = vUsers.isEmpty || n < 1 ? nil : try ValidationSet.sampled(
            users: vUsers, heldOut: vUsers.map { first[$0]! }, exclusion: everySplit, itemCount: s.userCount,
            negativesPerUser: n, seed: seed)
    }

    /// Builds the data from `graph`, holding out for validation the latest follow of each of up
    /// to `validationUsers` users (a seeded choice among those with at least two follows).
    /// `heldOut` is as in `init(graph:validation:heldOut:negatives:seed:)`: other splits'
    /// follows kept out of validation negatives only, never out of training negatives.
    public init(
        graph s: Snapshot, heldOut: [(UserIndex, UserIndex)] = [], validationUsers: Int = 5_000,
        negatives: Int = 99, seed: UInt64 = 7
    ) throws(NeuMFError) {
        var rng = SplitMix64(seed: seed, stream: 0x666F6C)
        var candidates = (0..<Int32(s.userCount)).filter { s.followees.degree($0) >= 2 }
        // Partial Fisher–Yates: a seeded sample of validation users.
        let take = min(validationUsers, candidates.count)
        for i in 0..<take {
            let j = i + rng.below(candidates.count - i)
            candidates.swapAt(i, j)
        }
        var heldOutOf: [Int32: Int32] = [:]
        for u in candidates.prefix(take) {
            let range = s.followees.range(u)
            // The latest follow by time (ties: the larger index).
            var best = range.lowerBound
            var bestTime = Int64.min
            for e in range {
                let b = s.followees.targets[e]
                let t = s.followedAt(follower: u, followee: b) ?? 0
                if t >= bestTime { bestTime = t; best = e }
            }
            heldOutOf[u] = s.followees.targets[best]
        }
        // Training on the graph without the validation follows.
        try self.init(
            graph: s.keepingFollows { a, b in heldOutOf[a] != b }, validation: heldOutOf.map { ($0.key, $0.value) },
            heldOut: heldOut, negatives: negatives, seed: seed)
    }
}
