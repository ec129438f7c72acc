/// Events that arrived after the snapshot was built, applied on top of it so that filters and
/// the engaged-authors source react at once, without rebuilding the snapshot.
///
/// Kept small by design: the service folds it into a new snapshot in the background.
public struct Overlay: Sendable {
    /// Users and posts known after the snapshot (new ones have indices ≥ the snapshot's counts).
    public private(set) var userCount: Int
    public private(set) var postCount: Int
    public private(set) var followsAdded: [UserIndex: Set<UserIndex>] = [:]
    public private(set) var followsRemoved: [UserIndex: Set<UserIndex>] = [:]
    public private(set) var blocksAdded: [UserIndex: Set<UserIndex>] = [:]
    public private(set) var blocksRemoved: [UserIndex: Set<UserIndex>] = [:]
    public private(set) var dismissalsAdded: [UserIndex: Set<UserIndex>] = [:]
    public private(set) var dismissalsRemoved: [UserIndex: Set<UserIndex>] = [:]
    /// Suggestions shown since the snapshot: per user, the candidate and the time of each showing.
    public private(set) var impressions: [UserIndex: [(candidate: UserIndex, at: Timestamp)]] = [:]
    public private(set) var flags: [UserIndex: UserFlags] = [:]
    /// Engagement since the snapshot, per user and author, to merge with the snapshot's aggregate.
    public private(set) var engagement: [UserIndex: [UserIndex: AuthorEngagement]] = [:]
    /// Posts created after the snapshot: author and creation time.
    public private(set) var newPosts: [PostIndex: (author: UserIndex, createdAt: Timestamp)] = [:]
    /// Posts each user interacted with since the snapshot.
    public private(set) var seenPosts: [UserIndex: Set<PostIndex>] = [:]
    /// Store version of the last change applied.
    public private(set) var version: Int64
    public private(set) var changeCount = 0

    public init(snapshot: Snapshot) {
        userCount = snapshot.userCount
        postCount = snapshot.postCount
        version = snapshot.version
    }

    public mutating func follow(_ a: UserIndex, _ b: UserIndex) { Self.mark(a, b, on: true, &followsAdded, &followsRemoved); growUsers(a, b) }
    public mutating func unfollow(_ a: UserIndex, _ b: UserIndex) { Self.mark(a, b, on: false, &followsAdded, &followsRemoved); growUsers(a, b) }
    public mutating func block(_ a: UserIndex, _ b: UserIndex) { Self.mark(a, b, on: true, &blocksAdded, &blocksRemoved); growUsers(a, b) }
    public mutating func unblock(_ a: UserIndex, _ b: UserIndex) { Self.mark(a, b, on: false, &blocksAdded, &blocksRemoved); growUsers(a, b) }
    public mutating func dismiss(_ a: UserIndex, _ b: UserIndex) { Self.mark(a, b, on: true, &dismissalsAdded, &dismissalsRemoved); growUsers(a, b) }
    public mutating func undismiss(_ a: UserIndex, _ b: UserIndex) {
        Self.mark(a, b, on: false, &dismissalsAdded, &dismissalsRemoved)
        growUsers(a, b)
    }
    public mutating func impression(_ a: UserIndex, shown b: UserIndex, at t: Timestamp) {
        impressions[a, default: []].append((b, t))
        growUsers(a, b)
    }

    /// Records that the edge a→b now exists (`on`) or not, whatever the snapshot says.
    private static func mark(
        _ a: UserIndex, _ b: UserIndex, on: Bool,
        _ added: inout [UserIndex: Set<UserIndex>], _ removed: inout [UserIndex: Set<UserIndex>]
    ) {
        if on {
            removed[a]?.remove(b)
            added[a, default: []].insert(b)
        } else {
            added[a]?.remove(b)
            removed[a, default: []].insert(b)
        }
    }

    public mutating func setFlags(_ u: UserIndex, _ f: UserFlags) {
        growUsers(u, u)
        flags[u] = f
    }

    public mutating func addUser(_ u: UserIndex) { growUsers(u, u) }

    public mutating func addPost(_ p: PostIndex, author: UserIndex, createdAt: Timestamp) {
        growUsers(author, author)
        newPosts[p] = (author, createdAt)
        postCount = max(postCount, Int(p) + 1)
    }

    public mutating func interact(_ u: UserIndex, post: PostIndex, author: UserIndex, kind: Interaction.Kind, at t: Timestamp) {
        growUsers(u, author)
        engagement[u, default: [:]][author, default: AuthorEngagement(author: author, signals: [], count: 0, lastTime: t)]
            .absorb(kind.signal, at: t)
        seenPosts[u, default: []].insert(post)
    }

    public mutating func markApplied(version v: Int64) { version = max(version, v) }

    private mutating func growUsers(_ a: UserIndex, _ b: UserIndex) {
        userCount = max(userCount, Int(max(a, b)) + 1)
        changeCount += 1
    }
}

/// The snapshot seen through its overlay: what every recommendation reads.
public struct LiveView: Sendable {
    public let snapshot: Snapshot
    public let overlay: Overlay

    public init(snapshot: Snapshot, overlay: Overlay? = nil) {
        self.snapshot = snapshot
        self.overlay = overlay ?? Overlay(snapshot: snapshot)
    }

    public var userCount: Int { overlay.userCount }
    public var postCount: Int { overlay.postCount }

    public func follows(_ a: UserIndex, _ b: UserIndex) -> Bool {
        if overlay.followsAdded[a]?.contains(b) == true { return true }
        if overlay.followsRemoved[a]?.contains(b) == true { return false }
        return snapshot.followees.contains(a, b)
    }

    public func hasBlocked(_ a: UserIndex, _ b: UserIndex) -> Bool {
        if overlay.blocksAdded[a]?.contains(b) == true { return true }
        if overlay.blocksRemoved[a]?.contains(b) == true { return false }
        return snapshot.blocks.contains(a, b)
    }

    /// The suggestions `u` dismissed (snapshot and overlay), sorted.
    public func dismissals(of u: UserIndex) -> [UserIndex] {
        Self.merged(snapshot.dismissals.row(u), added: overlay.dismissalsAdded[u], removed: overlay.dismissalsRemoved[u])
    }

    /// The users `u` blocked (snapshot and overlay), sorted.
    public func blocks(of u: UserIndex) -> [UserIndex] {
        Self.merged(snapshot.blocks.row(u), added: overlay.blocksAdded[u], removed: overlay.blocksRemoved[u])
    }

    /// A snapshot row with the overlay's additions and removals applied, sorted; the row itself
    /// when the overlay does not touch it.
    static func merged(_ base: ArraySlice<UserIndex>, added: Set<UserIndex>?, removed: Set<UserIndex>?) -> [UserIndex] {
        if (added?.isEmpty ?? true) && (removed?.isEmpty ?? true) { return Array(base) }
        var set = Set(base)
        if let removed { set.subtract(removed) }
        if let added { set.formUnion(added) }
        return set.sorted()
    }

    /// Every time `u` was shown each candidate (snapshot and overlay), grouped by candidate.
    public func impressions(of u: UserIndex) -> [UserIndex: [Timestamp]] {
        var out: [UserIndex: [Timestamp]] = [:]
        for (c, t) in snapshot.impressions.row(u) { out[c, default: []].append(t) }
        for (c, t) in overlay.impressions[u] ?? [] { out[c, default: []].append(t) }
        return out
    }

    /// Called for every candidate of every request; flag changes are rare, so skip the hash when none.
    public func flags(of u: UserIndex) -> UserFlags {
        overlay.flags.isEmpty ? snapshot.flags(of: u) : overlay.flags[u] ?? snapshot.flags(of: u)
    }

    /// Followees of `u`, sorted, with the overlay's follows and unfollows applied.
    public func followees(of u: UserIndex) -> [UserIndex] {
        Self.merged(snapshot.followees.row(u), added: overlay.followsAdded[u], removed: overlay.followsRemoved[u])
    }

    /// Followee count without materialising the list when the overlay does not touch `u`.
    public func followeeCount(of u: UserIndex) -> Int {
        if overlay.followsAdded[u] == nil && overlay.followsRemoved[u] == nil { return snapshot.followees.degree(u) }
        return followees(of: u).count
    }

    /// Engagement aggregates of `u` (snapshot merged with overlay), sorted by author.
    public func engagements(of u: UserIndex) -> [AuthorEngagement] {
        let base = snapshot.engagements(of: u)
        guard let extra = overlay.engagement[u], !extra.isEmpty else { return Array(base) }
        var merged: [UserIndex: AuthorEngagement] = [:]
        for e in base { merged[e.author] = e }
        for (a, e) in extra {
            if var m = merged[a] {
                m.absorb(e.signals, count: e.count, at: e.lastTime)
                merged[a] = m
            } else {
                merged[a] = e
            }
        }
        return merged.values.sorted { $0.author < $1.author }
    }

    /// Whether `u` has any behaviour at all (follows or interactions); cold start when not.
    public func hasBehaviour(_ u: UserIndex) -> Bool {
        followeeCount(of: u) > 0 || !snapshot.engagements(of: u).isEmpty || overlay.engagement[u] != nil
    }

    public func hasSeen(_ u: UserIndex, post: PostIndex) -> Bool {
        overlay.seenPosts[u]?.contains(post) == true || snapshot.seenPosts.contains(u, post)
    }

    public func author(of post: PostIndex) -> UserIndex? {
        if Int(post) < snapshot.postCount { return snapshot.postAuthor[Int(post)] }
        return overlay.newPosts[post]?.author
    }
}
