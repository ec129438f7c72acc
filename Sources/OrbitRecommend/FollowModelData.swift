import NeuMF
import OrbitCore

/// Training data for the follow-graph NeuMF model: follows as (follower, followee) positives in
/// one user index space, with a validation split for early stopping and model selection.
public struct FollowModelData: Sendable {
    public var training: TrainingData
    public var validation: ValidationSet?
    public var userCount: Int

    /// Builds the data from `graph`. Each of up to `validationUsers` users (seeded choice among
    /// those with at least two follows) has its latest follow held out for validation.
    /// `alsoExclude` holds positives of other splits (held-out test follows) that negative
    /// sampling must never return.
    /// Builds the data from `graph` with the given validation follows (already absent from `graph`).
    public init(
        graph s: Snapshot, validation pairs: [(UserIndex, UserIndex)], alsoExclude: [(UserIndex, UserIndex)] = [],
        negatives: Int = 99, seed: UInt64 = 7
    ) throws(NeuMFError) {
        userCount = s.userCount
        var users: [Int32] = [], items: [Int32] = []
        users.reserveCapacity(s.followees.edgeCount)
        items.reserveCapacity(s.followees.edgeCount)
        for u in 0..<Int32(s.userCount) {
            for b in s.followees.row(u) { users.append(u); items.append(b) }
        }
        let exclusion = try ItemSets(
            userCount: s.userCount,
            pairs: [(users, items), (pairs.map(\.0), pairs.map(\.1)), (alsoExclude.map(\.0), alsoExclude.map(\.1))])
        training = TrainingData(users: users, items: items, exclusion: exclusion)
        // One validation case per user: its first held-out follow.
        var first: [UserIndex: UserIndex] = [:]
        for (u, b) in pairs where first[u] == nil { first[u] = b }
        let vUsers = first.keys.sorted()
        let spare = s.userCount - 1 - (vUsers.map { exclusion.count(of: $0) }.max() ?? 0)
        let n = min(negatives, spare)
        validation = vUsers.isEmpty || n < 1 ? nil : try ValidationSet.sampled(
            users: vUsers, heldOut: vUsers.map { first[$0]! }, exclusion: exclusion, itemCount: s.userCount,
            negativesPerUser: n, seed: seed)
    }

    public init(
        graph s: Snapshot, alsoExclude: [(UserIndex, UserIndex)] = [], validationUsers: Int = 5_000,
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
            alsoExclude: alsoExclude, negatives: negatives, seed: seed)
    }
}
