import OrbitCore

extension SnapshotDelta {
    /// The store's change log after a snapshot (`changes`, oldest first: all of those after the
    /// snapshot's version) as the delta that brings the snapshot forward, or nil at a change that
    /// cannot be replayed (a bulk import, a user or post index out of order, a version out of
    /// order): read the store in full then.
    ///
    /// The store logs a follow only when it added the row, an unfollow only when it removed one
    /// (and so for blocks and dismissals): the last change of a pair says whether it is there.
    public init?(changes: [Change], after snapshot: Snapshot) {
        self.init(version: snapshot.version)
        var users = snapshot.userCount
        var posts = snapshot.postCount
        for c in changes {
            guard c.version > version else { return nil }
            switch c.operation {
            case .user:
                guard Int(c.a) == users else { return nil }
                users += 1
                newUsers.append(c.timestamp)
            case .post:
                guard Int(c.b) == posts, c.a >= 0, Int(c.a) < users else { return nil }
                posts += 1
                newPosts.append((c.a, c.timestamp))
            case .setFlags:
                guard c.a >= 0, Int(c.a) < users else { return nil }
                flags[c.a] = UserFlags(rawValue: c.detail)
            case .follow: follows[UserPair(c.a, c.b)] = .some(c.timestamp)
            case .unfollow: follows[UserPair(c.a, c.b)] = .some(nil)
            case .block: blocks[UserPair(c.a, c.b)] = true
            case .unblock: blocks[UserPair(c.a, c.b)] = false
            case .dismiss: dismissals[UserPair(c.a, c.b)] = true
            case .undismiss: dismissals[UserPair(c.a, c.b)] = false
            case .interaction: interactions.append((c.a, c.b, c.detail, c.timestamp))
            case .impression: impressions.append((c.a, c.b, c.timestamp))
            case .bulkImport: return nil
            }
            version = c.version
        }
    }
}
