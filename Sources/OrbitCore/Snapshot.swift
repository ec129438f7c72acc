/// What one user did towards one author, aggregated over the author's posts (SPEC §2.2).
public struct AuthorEngagement: Hashable, Sendable {
    public var author: UserIndex
    public var signals: EngagementSignals
    /// Number of interactions of any kind with the author's posts.
    public var count: Int32
    /// Time of the latest of those interactions.
    public var lastTime: Timestamp

    public init(author: UserIndex, signals: EngagementSignals, count: Int32, lastTime: Timestamp) {
        self.author = author
        self.signals = signals
        self.count = count
        self.lastTime = lastTime
    }

    /// Merges another interaction (or aggregate) into this one.
    public mutating func absorb(_ signals: EngagementSignals, count: Int32 = 1, at time: Timestamp) {
        self.signals.formUnion(signals)
        self.count += count
        self.lastTime = max(lastTime, time)
    }
}

/// The immutable in-memory view of the store that every request reads.
///
/// Holds the follow graph in CSR form in both directions, blocks, user flags, posts, per-post
/// engagement counts and the per-(user, author) engagement aggregate. Built in O(events) by
/// `Snapshot.build`; shared by all readers without locks.
public struct Snapshot: Sendable {
    /// The store version this snapshot reflects; changes after it live in an overlay.
    public let version: Int64
    public let userCount: Int
    public let postCount: Int

    /// followees of a user (out-edges), sorted.
    public let followees: CSR
    /// followers of a user (in-edges), sorted.
    public let followers: CSR
    /// When each follower started following, parallel to `followers.targets`.
    public let followedAt: [Timestamp]
    /// True when the follows carry times that tell them apart (not all equal): the graph can be
    /// split by time, and time features mean something. Found once at build: a ranked request
    /// asks, and on a graph without times the scan would read every follow.
    public let hasFollowTimes: Bool
    /// users each user blocked, sorted.
    public let blocks: CSR
    /// suggestions each user dismissed, sorted: never suggested to that user again.
    public let dismissals: CSR
    /// suggestions each user was shown (impressions), for impression discounting.
    public let impressions: ImpressionLog
    public let userFlags: [UserFlags]
    /// Bit `u` is set when user `u` has any flag: the filters test every candidate, and this
    /// 1/8-size copy of the question stays in cache where the byte array (1 MB per million
    /// users) misses on nearly every random lookup.
    public let flaggedBits: [UInt64]
    public let userCreatedAt: [Timestamp]

    public let postAuthor: [UserIndex]
    public let postCreatedAt: [Timestamp]
    /// posts of each author, sorted by index (which follows creation order on import).
    public let postsByAuthor: CSR
    /// Interaction counts per post and kind: `postKindCounts[post * 6 + kind.rawValue]`.
    public let postKindCounts: [Int32]
    /// posts each user interacted with in any way (sorted): the "seen" set of the browse pool.
    public let seenPosts: CSR

    /// Engagement aggregates per user, sorted by author: row `u` is `engagementOffsets[u] ..< [u+1]`.
    public let engagementOffsets: [Int]
    public let engagement: [AuthorEngagement]

    public static let kindCount = Interaction.Kind.allCases.count

    // MARK: queries

    public func follows(_ user: UserIndex, _ other: UserIndex) -> Bool { followees.contains(user, other) }
    public func hasBlocked(_ user: UserIndex, _ other: UserIndex) -> Bool { blocks.contains(user, other) }
    public func hasDismissed(_ user: UserIndex, _ other: UserIndex) -> Bool { dismissals.contains(user, other) }
    public func flags(of user: UserIndex) -> UserFlags {
        let i = Int(user)
        guard i >= 0, i < userFlags.count, flaggedBits[i >> 6] & (1 << UInt64(i & 63)) != 0 else { return [] }
        return userFlags[i]
    }

    init(
        version: Int64, userCount: Int, postCount: Int, followees: CSR, followers: CSR, followedAt: [Timestamp],
        blocks: CSR, dismissals: CSR, impressions: ImpressionLog, userFlags: [UserFlags], userCreatedAt: [Timestamp],
        postAuthor: [UserIndex], postCreatedAt: [Timestamp], postsByAuthor: CSR, postKindCounts: [Int32], seenPosts: CSR,
        engagementOffsets: [Int], engagement: [AuthorEngagement]
    ) {
        self.version = version
        self.userCount = userCount
        self.postCount = postCount
        self.followees = followees
        self.followers = followers
        self.followedAt = followedAt
        hasFollowTimes = followedAt.first.map { first in followedAt.contains { $0 != first } } ?? false
        self.blocks = blocks
        self.dismissals = dismissals
        self.impressions = impressions
        self.userFlags = userFlags
        var bits = [UInt64](repeating: 0, count: (userFlags.count + 63) / 64)
        for (u, f) in userFlags.enumerated() where !f.isEmpty { bits[u >> 6] |= 1 << UInt64(u & 63) }
        flaggedBits = bits
        self.userCreatedAt = userCreatedAt
        self.postAuthor = postAuthor
        self.postCreatedAt = postCreatedAt
        self.postsByAuthor = postsByAuthor
        self.postKindCounts = postKindCounts
        self.seenPosts = seenPosts
        self.engagementOffsets = engagementOffsets
        self.engagement = engagement
    }

    /// The engagement aggregates of `user`, sorted by author index.
    public func engagements(of user: UserIndex) -> ArraySlice<AuthorEngagement> {
        let u = Int(user)
        guard u >= 0, u < userCount else { return [] }
        return engagement[engagementOffsets[u]..<engagementOffsets[u + 1]]
    }

    public func interactionCount(post: PostIndex, kind: Interaction.Kind) -> Int32 {
        postKindCounts[Int(post) * Self.kindCount + Int(kind.rawValue)]
    }

    /// Approximate bytes held by the snapshot's arrays.
    public var byteCount: Int {
        followees.byteCount + followers.byteCount + followedAt.count * 8 + blocks.byteCount + dismissals.byteCount
            + impressions.byteCount
            + userFlags.count + userCreatedAt.count * 8 + postAuthor.count * 4 + postCreatedAt.count * 8
            + postsByAuthor.byteCount + postKindCounts.count * 4 + seenPosts.byteCount
            + engagementOffsets.count * 8 + engagement.count * MemoryLayout<AuthorEngagement>.stride
    }

    /// The raw material of a snapshot, in columns so a store can fill it without per-row objects.
    public struct Columns: Sendable {
        public var version: Int64 = 0
        public var userCount = 0
        public var userFlags: [UserFlags] = []
        public var userCreatedAt: [Timestamp] = []
        public var followFollower: [UserIndex] = []
        public var followFollowee: [UserIndex] = []
        public var followCreatedAt: [Timestamp] = []
        public var blockUser: [UserIndex] = []
        public var blockBlocked: [UserIndex] = []
        public var dismissUser: [UserIndex] = []
        public var dismissCandidate: [UserIndex] = []
        public var impressionUser: [UserIndex] = []
        public var impressionCandidate: [UserIndex] = []
        public var impressionTime: [Timestamp] = []
        public var postAuthor: [UserIndex] = []
        public var postCreatedAt: [Timestamp] = []
        public var interactionUser: [UserIndex] = []
        public var interactionPost: [PostIndex] = []
        public var interactionKind: [UInt8] = []
        public var interactionTime: [Timestamp] = []

        public init() {}

        public mutating func append(_ f: Follow) {
            followFollower.append(f.follower)
            followFollowee.append(f.followee)
            followCreatedAt.append(f.createdAt)
        }

        public mutating func append(_ i: Interaction) {
            interactionUser.append(i.user)
            interactionPost.append(i.post)
            interactionKind.append(i.kind.rawValue)
            interactionTime.append(i.timestamp)
        }
    }

    /// Builds a snapshot in O(users + posts + events). Follows and blocks may come in any order
    /// and with duplicates; user and post arrays must be indexed by their dense index.
    public static func build(_ c: Columns) -> Snapshot {
        let n = c.userCount
        let p = c.postAuthor.count
        precondition(c.userFlags.count == n && c.userCreatedAt.count == n, "user columns must have userCount rows")

        let (out, _) = CSR.build(rows: n, sources: c.followFollower, targets: c.followFollowee)
        let (inc, inOrder) = CSR.build(rows: n, sources: c.followFollowee, targets: c.followFollower)
        let followedAt = inOrder.map { c.followCreatedAt[$0] }
        let (blocks, _) = CSR.build(rows: n, sources: c.blockUser, targets: c.blockBlocked)
        let (dismissals, _) = CSR.build(rows: n, sources: c.dismissUser, targets: c.dismissCandidate)
        let impressions = ImpressionLog(rows: n, users: c.impressionUser, candidates: c.impressionCandidate, times: c.impressionTime)
        let (byAuthor, _) = CSR.build(rows: n, sources: c.postAuthor, targets: (0..<Int32(p)).map { $0 })

        var kindCounts = [Int32](repeating: 0, count: p * kindCount)
        for e in 0..<c.interactionPost.count {
            kindCounts[Int(c.interactionPost[e]) * kindCount + Int(c.interactionKind[e])] += 1
        }
        let (seen, _) = CSR.build(rows: n, sources: c.interactionUser, targets: c.interactionPost)

        // Engagement: group interactions by user (counting sort), then by author within the row.
        let (byUser, order) = groupOrder(rows: n, keys: c.interactionUser)
        var engOffsets = [Int](repeating: 0, count: n + 1)
        var eng: [AuthorEngagement] = []
        eng.reserveCapacity(c.interactionUser.count / 2)
        var row: [AuthorEngagement] = []
        for u in 0..<n {
            row.removeAll(keepingCapacity: true)
            for k in byUser[u]..<byUser[u + 1] {
                let e = order[k]
                let kind = Interaction.Kind(rawValue: c.interactionKind[e]) ?? .view
                let author = c.postAuthor[Int(c.interactionPost[e])]
                row.append(AuthorEngagement(author: author, signals: kind.signal, count: 1, lastTime: c.interactionTime[e]))
            }
            row.sort { $0.author < $1.author }
            for item in row {
                if eng.count > engOffsets[u], eng[eng.count - 1].author == item.author {
                    eng[eng.count - 1].absorb(item.signals, count: item.count, at: item.lastTime)
                } else {
                    eng.append(item)
                }
            }
            engOffsets[u + 1] = eng.count
        }

        return Snapshot(
            version: c.version, userCount: n, postCount: p,
            followees: out, followers: inc, followedAt: followedAt, blocks: blocks,
            dismissals: dismissals, impressions: impressions, userFlags: c.userFlags, userCreatedAt: c.userCreatedAt,
            postAuthor: c.postAuthor, postCreatedAt: c.postCreatedAt, postsByAuthor: byAuthor,
            postKindCounts: kindCounts, seenPosts: seen,
            engagementOffsets: engOffsets, engagement: eng)
    }

    /// A stable counting sort of positions by key: positions of key `r` are
    /// `order[offsets[r] ..< offsets[r + 1]]`.
    static func groupOrder(rows: Int, keys: [Int32]) -> (offsets: [Int], order: [Int]) {
        var offsets = [Int](repeating: 0, count: rows + 1)
        for k in keys { offsets[Int(k) + 1] += 1 }
        for i in 0..<rows { offsets[i + 1] += offsets[i] }
        var cursor = offsets
        var order = [Int](repeating: 0, count: keys.count)
        for (e, k) in keys.enumerated() {
            order[cursor[Int(k)]] = e
            cursor[Int(k)] += 1
        }
        return (offsets, order)
    }
}

extension Snapshot {
    /// This snapshot with only the follows that `keep(follower, followee)` accepts: a training
    /// graph with held-out follows removed. Everything else (engagement, posts, blocks) is shared.
    public func keepingFollows(_ keep: (UserIndex, UserIndex) -> Bool) -> Snapshot {
        keepingFollows { a, b, _ in keep(a, b) }
    }

    /// The same snapshot with only the follows `keep(follower, followee, followedAt)` accepts.
    public func keepingFollows(_ keep: (UserIndex, UserIndex, Timestamp) -> Bool) -> Snapshot {
        var src: [UserIndex] = [], dst: [UserIndex] = [], times: [Timestamp] = []
        src.reserveCapacity(followers.edgeCount)
        dst.reserveCapacity(followers.edgeCount)
        times.reserveCapacity(followers.edgeCount)
        // The followers' side carries the times: row b lists the users following b.
        for b in 0..<Int32(userCount) {
            for e in followers.range(b) where keep(followers.targets[e], b, followedAt[e]) {
                src.append(followers.targets[e])
                dst.append(b)
                times.append(followedAt[e])
            }
        }
        let (out, _) = CSR.build(rows: userCount, sources: src, targets: dst)
        let (inc, order) = CSR.build(rows: userCount, sources: dst, targets: src)
        return Snapshot(
            version: version, userCount: userCount, postCount: postCount,
            followees: out, followers: inc, followedAt: order.map { times[$0] }, blocks: blocks,
            dismissals: dismissals, impressions: impressions, userFlags: userFlags, userCreatedAt: userCreatedAt,
            postAuthor: postAuthor, postCreatedAt: postCreatedAt, postsByAuthor: postsByAuthor,
            postKindCounts: postKindCounts, seenPosts: seenPosts,
            engagementOffsets: engagementOffsets, engagement: engagement)
    }
}

extension Snapshot {
    /// When `follower` started following `followee`, if it does.
    public func followedAt(follower: UserIndex, followee: UserIndex) -> Timestamp? {
        let r = followers.range(followee)
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = followers.targets[mid]
            if v == follower { return followedAt[mid] }
            if v < follower { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }
}

/// How far back impressions of suggestions are kept in a snapshot: the longest discounting window.
public enum ImpressionHistory {
    /// 90 days, in seconds.
    public static let maxAge: Int64 = 90 * 86_400
}

/// The suggestions each user was shown, grouped by user and sorted by (candidate, time), with
/// duplicates kept: every showing counts towards impression discounting.
public struct ImpressionLog: Sendable, Equatable {
    /// Row `u` is `offsets[u] ..< offsets[u + 1]` of `candidates` and `times`.
    public let offsets: [Int]
    public let candidates: [UserIndex]
    public let times: [Timestamp]

    public init(rows: Int, users: [UserIndex], candidates: [UserIndex], times: [Timestamp]) {
        precondition(users.count == candidates.count && users.count == times.count, "impression columns must have equal lengths")
        let (offsets, order) = Snapshot.groupOrder(rows: rows, keys: users)
        var c = [UserIndex](repeating: 0, count: users.count), t = [Timestamp](repeating: 0, count: users.count)
        for r in 0..<rows {
            let row = order[offsets[r]..<offsets[r + 1]].sorted { (candidates[$0], times[$0]) < (candidates[$1], times[$1]) }
            for (k, e) in row.enumerated() {
                c[offsets[r] + k] = candidates[e]
                t[offsets[r] + k] = times[e]
            }
        }
        self.offsets = offsets
        self.candidates = c
        self.times = t
    }

    public var count: Int { candidates.count }
    public var byteCount: Int { offsets.count * 8 + candidates.count * 12 }

    /// This log over `rows` rows (at least its own) with `added` showings, within the discounting
    /// window of the latest showing, as a full read at the same point gives it. One pass over the
    /// log: rows keep their (candidate, time) order when old showings drop out of the window, and
    /// only the rows with new showings merge them in.
    func adding(_ added: [(user: UserIndex, candidate: UserIndex, time: Timestamp)], rows: Int) -> ImpressionLog {
        let oldRows = offsets.count - 1
        if added.isEmpty {
            guard rows > oldRows else { return self }
            let end = offsets.last ?? 0
            return ImpressionLog(offsets: offsets + repeatElement(end, count: rows - oldRows), candidates: candidates, times: times)
        }
        let latest = max(times.max() ?? 0, added.map(\.time).max() ?? 0)
        let since = latest - ImpressionHistory.maxAge
        let new = added.filter { $0.time >= since }.sorted { ($0.user, $0.candidate, $0.time) < ($1.user, $1.candidate, $1.time) }
        var o = [Int](repeating: 0, count: rows + 1), c: [UserIndex] = [], t: [Timestamp] = []
        c.reserveCapacity(candidates.count + new.count)
        t.reserveCapacity(candidates.count + new.count)
        var j = 0
        for r in 0..<rows {
            var k = r < oldRows ? offsets[r] : 0
            let end = r < oldRows ? offsets[r + 1] : 0
            while j < new.count, Int(new[j].user) == r {
                let x = new[j]
                while k < end, (candidates[k], times[k]) <= (x.candidate, x.time) {
                    if times[k] >= since { c.append(candidates[k]); t.append(times[k]) }
                    k += 1
                }
                c.append(x.candidate)
                t.append(x.time)
                j += 1
            }
            while k < end {
                if times[k] >= since { c.append(candidates[k]); t.append(times[k]) }
                k += 1
            }
            o[r + 1] = c.count
        }
        return ImpressionLog(offsets: o, candidates: c, times: t)
    }

    private init(offsets: [Int], candidates: [UserIndex], times: [Timestamp]) {
        self.offsets = offsets
        self.candidates = candidates
        self.times = times
    }

    /// The times `user` was shown `candidate`, oldest first.
    public func times(_ user: UserIndex, _ candidate: UserIndex) -> ArraySlice<Timestamp> {
        let u = Int(user)
        guard u >= 0, u + 1 < offsets.count else { return [] }
        var lo = offsets[u], hi = offsets[u + 1]
        while lo < hi {
            let mid = (lo + hi) >> 1
            if candidates[mid] < candidate { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < offsets[u + 1], candidates[end] == candidate { end += 1 }
        return times[lo..<end]
    }

    /// Every (candidate, time) shown to `user`, sorted by candidate then time.
    public func row(_ user: UserIndex) -> Zip2Sequence<ArraySlice<UserIndex>, ArraySlice<Timestamp>> {
        let u = Int(user)
        guard u >= 0, u + 1 < offsets.count else { return zip(candidates[0..<0], times[0..<0]) }
        let r = offsets[u]..<offsets[u + 1]
        return zip(candidates[r], times[r])
    }
}
