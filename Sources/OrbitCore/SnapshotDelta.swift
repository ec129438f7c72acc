/// An ordered pair of dense user indices: follower and followee, blocker and blocked, user and
/// dismissed candidate.
public struct UserPair: Hashable, Comparable, Sendable {
    public var a: UserIndex
    public var b: UserIndex

    public init(_ a: UserIndex, _ b: UserIndex) {
        self.a = a
        self.b = b
    }

    public static func < (l: UserPair, r: UserPair) -> Bool { (l.a, l.b) < (r.a, r.b) }
}

/// What changed in a store after a snapshot's version, in the form `Snapshot.applying(_:)` folds
/// in: the final state of every pair touched, and the rows that were only ever added. A store's
/// change log is turned into one (OrbitStore's `SnapshotDelta(changes:after:)`); a rebuild then
/// costs the changes and a copy of the arrays, not a build over every follow and interaction.
public struct SnapshotDelta: Sendable {
    /// The store version the delta brings a snapshot to (its last change's).
    public var version: Int64
    /// Creation times of the users added, in index order from the snapshot's user count.
    public var newUsers: [Timestamp] = []
    /// Each user's flags as last set.
    public var flags: [UserIndex: UserFlags] = [:]
    /// Each follow touched: when it was made if it is there now, nil when it is not.
    public var follows: [UserPair: Timestamp?] = [:]
    /// Each block touched: whether it is there now.
    public var blocks: [UserPair: Bool] = [:]
    /// Each dismissal touched: whether it is there now.
    public var dismissals: [UserPair: Bool] = [:]
    /// Posts added, in index order from the snapshot's post count.
    public var newPosts: [(author: UserIndex, createdAt: Timestamp)] = []
    /// Interactions added (they are never removed); `kind` is `Interaction.Kind`'s raw value.
    public var interactions: [(user: UserIndex, post: PostIndex, kind: UInt8, time: Timestamp)] = []
    /// Suggestions shown.
    public var impressions: [(user: UserIndex, candidate: UserIndex, time: Timestamp)] = []

    public init(version: Int64) {
        self.version = version
    }
}

/// One pair's final state in a row-patch of a CSR: kept (with `time` beside it where the rows
/// carry times) or dropped.
struct RowEdit {
    var row: Int32
    var target: Int32
    var keep: Bool
    var time: Timestamp

    /// Edits sorted by (row, target), one per pair.
    static func sorted(_ edits: [RowEdit]) -> [RowEdit] {
        edits.sorted { ($0.row, $0.target) < ($1.row, $1.target) }
    }
}

extension Snapshot {
    /// This snapshot with `delta` folded in: equal, field for field, to `Snapshot.build` of the
    /// store's rows at `delta.version`. Rows the delta does not touch are copied in runs, so the
    /// cost is one pass of copying over the arrays plus the changes, against a counting sort of
    /// every follow and a grouping of every interaction for a build. Nil when the delta names a
    /// user, post or interaction kind out of range: read the store in full then.
    public func applying(_ delta: SnapshotDelta) -> Snapshot? {
        let n = userCount + delta.newUsers.count
        let p = postCount + delta.newPosts.count
        func isUser(_ u: UserIndex) -> Bool { u >= 0 && Int(u) < n }
        guard delta.flags.keys.allSatisfy(isUser),
              delta.follows.keys.allSatisfy({ isUser($0.a) && isUser($0.b) }),
              delta.blocks.keys.allSatisfy({ isUser($0.a) && isUser($0.b) }),
              delta.dismissals.keys.allSatisfy({ isUser($0.a) && isUser($0.b) }),
              delta.newPosts.allSatisfy({ isUser($0.author) }),
              delta.interactions.allSatisfy({ isUser($0.user) && $0.post >= 0 && Int($0.post) < p && Int($0.kind) < Self.kindCount }),
              delta.impressions.allSatisfy({ isUser($0.user) && isUser($0.candidate) })
        else { return nil }

        var flags = userFlags
        flags.append(contentsOf: repeatElement([], count: delta.newUsers.count))
        for (u, f) in delta.flags { flags[Int(u)] = f }

        var out = followees, inc = followers, times = followedAt
        if !delta.follows.isEmpty || n > userCount {
            out = followees.patched(rows: n, edits: RowEdit.sorted(delta.follows.map { RowEdit(row: $0.key.a, target: $0.key.b, keep: $0.value != nil, time: 0) }))
            (inc, times) = followers.patched(
                rows: n, edits: RowEdit.sorted(delta.follows.map { RowEdit(row: $0.key.b, target: $0.key.a, keep: $0.value != nil, time: $0.value ?? 0) }),
                times: followedAt)
        }
        func pairs(_ csr: CSR, _ touched: [UserPair: Bool]) -> CSR {
            guard !touched.isEmpty || n > userCount else { return csr }
            return csr.patched(rows: n, edits: RowEdit.sorted(touched.map { RowEdit(row: $0.key.a, target: $0.key.b, keep: $0.value, time: 0) }))
        }

        var authors = postAuthor, created = postCreatedAt
        authors.append(contentsOf: delta.newPosts.map(\.author))
        created.append(contentsOf: delta.newPosts.map(\.createdAt))
        var byAuthor = postsByAuthor
        if !delta.newPosts.isEmpty || n > userCount {
            byAuthor = postsByAuthor.patched(
                rows: n, edits: RowEdit.sorted(delta.newPosts.enumerated().map { RowEdit(row: $0.element.author, target: Int32(postCount + $0.offset), keep: true, time: 0) }))
        }

        var kindCounts = postKindCounts
        kindCounts.append(contentsOf: repeatElement(0, count: delta.newPosts.count * Self.kindCount))
        for i in delta.interactions { kindCounts[Int(i.post) * Self.kindCount + Int(i.kind)] += 1 }
        var seen = seenPosts
        if !delta.interactions.isEmpty || n > userCount {
            let userPosts = Set(delta.interactions.map { UserPair($0.user, $0.post) })
            seen = seenPosts.patched(rows: n, edits: RowEdit.sorted(userPosts.map { RowEdit(row: $0.a, target: $0.b, keep: true, time: 0) }))
        }
        let (engOffsets, eng) = patchedEngagement(rows: n, added: delta.interactions, authors: authors)

        return Snapshot(
            version: delta.version, userCount: n, postCount: p,
            followees: out, followers: inc, followedAt: times, blocks: pairs(blocks, delta.blocks),
            dismissals: pairs(dismissals, delta.dismissals), impressions: impressions.adding(delta.impressions, rows: n),
            userFlags: flags, userCreatedAt: userCreatedAt + delta.newUsers,
            postAuthor: authors, postCreatedAt: created, postsByAuthor: byAuthor,
            postKindCounts: kindCounts, seenPosts: seen, engagementOffsets: engOffsets, engagement: eng)
    }

    /// The engagement rows with `added` interactions absorbed: a user's new interactions are
    /// aggregated by author and merged into the user's row, which stays sorted by author.
    private func patchedEngagement(
        rows n: Int, added: [(user: UserIndex, post: PostIndex, kind: UInt8, time: Timestamp)], authors: [UserIndex]
    ) -> (offsets: [Int], values: [AuthorEngagement]) {
        guard !added.isEmpty || n > userCount else { return (engagementOffsets, engagement) }
        let items = added.map { i in
            (user: i.user, item: AuthorEngagement(
                author: authors[Int(i.post)], signals: (Interaction.Kind(rawValue: i.kind) ?? .view).signal, count: 1, lastTime: i.time))
        }.sorted { ($0.user, $0.item.author) < ($1.user, $1.item.author) }
        var values: [AuthorEngagement] = []
        values.reserveCapacity(engagement.count + items.count)
        var next = 0
        let offsets = RowLayout.patch(
            offsets: engagementOffsets, rows: n, editedRows: RowLayout.distinct(items.lazy.map(\.user)),
            copy: { values.append(contentsOf: engagement[$0]) },
            rewrite: { row, old in
                let rowStart = values.count
                var i = old.lowerBound
                while next < items.count, items[next].user == row {
                    let new = items[next].item
                    next += 1
                    while i < old.upperBound, engagement[i].author < new.author {
                        values.append(engagement[i])
                        i += 1
                    }
                    if values.count > rowStart, values[values.count - 1].author == new.author {
                        values[values.count - 1].absorb(new.signals, count: new.count, at: new.lastTime)
                    } else if i < old.upperBound, engagement[i].author == new.author {
                        var merged = engagement[i]
                        merged.absorb(new.signals, count: new.count, at: new.lastTime)
                        values.append(merged)
                        i += 1
                    } else {
                        values.append(new)
                    }
                }
                values.append(contentsOf: engagement[i..<old.upperBound])
            },
            written: { values.count })
        return (offsets, values)
    }
}
