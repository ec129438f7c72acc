import OrbitCore

/// An ordered pair of dense indices (follower and followee, blocker and blocked, …).
private struct Pair: Hashable, Comparable {
    var a: Int32
    var b: Int32
    static func < (l: Pair, r: Pair) -> Bool { (l.a, l.b) < (r.a, r.b) }
}

extension Snapshot.Columns {
    /// Brings columns read at `version` forward by the store's change log (`changes`, oldest
    /// first, all of those after `version`), to what a full read at the last change's version
    /// gives: the same rows, and, for a store that reads each table in its key order (SQLite), in
    /// the same order. A rebuild then costs the changes since the last one, not a read of every
    /// table. Returns false, leaving the columns unusable, at a change it cannot replay (a bulk
    /// import, an index out of order): read the store again.
    public mutating func replay(_ changes: [Change]) -> Bool {
        var follows: [Pair: Timestamp?] = [:]  // final state: a time when followed, nil when not
        var blocks: [Pair: Bool] = [:]
        var dismissals: [Pair: Bool] = [:]
        var interactions: [(user: Int32, post: Int32, kind: UInt8, time: Timestamp)] = []
        var shown: [(user: Int32, candidate: Int32, time: Timestamp)] = []
        for c in changes {
            switch c.operation {
            case .user:
                guard Int(c.a) == userCount else { return false }
                userCount += 1
                userFlags.append([])
                userCreatedAt.append(c.timestamp)
            case .post:
                guard Int(c.b) == postAuthor.count, Int(c.a) < userCount else { return false }
                postAuthor.append(c.a)
                postCreatedAt.append(c.timestamp)
            case .setFlags:
                guard Int(c.a) < userCount else { return false }
                userFlags[Int(c.a)] = UserFlags(rawValue: c.detail)
            // The store logs a follow only when it added the row, an unfollow only when it
            // removed one (and so for blocks and dismissals): the last change of a pair says
            // whether it is there.
            case .follow: follows[Pair(a: c.a, b: c.b)] = .some(c.timestamp)
            case .unfollow: follows[Pair(a: c.a, b: c.b)] = .some(nil)
            case .block: blocks[Pair(a: c.a, b: c.b)] = true
            case .unblock: blocks[Pair(a: c.a, b: c.b)] = false
            case .dismiss: dismissals[Pair(a: c.a, b: c.b)] = true
            case .undismiss: dismissals[Pair(a: c.a, b: c.b)] = false
            case .interaction: interactions.append((c.a, c.b, c.detail, c.timestamp))
            case .impression: shown.append((c.a, c.b, c.timestamp))
            case .bulkImport: return false
            }
            version = c.version
        }
        if !follows.isEmpty {
            var times: [Pair: Timestamp] = [:]
            for (p, t) in follows { if let t { times[p] = t } }
            let added = times.keys.sorted()
            Self.merge(&followFollower, &followFollowee, extra: &followCreatedAt, touched: { follows[$0] != nil },
                       added: added, extraOf: { times[$0]! })
        }
        if !blocks.isEmpty {
            var none: [Timestamp] = []
            Self.merge(&blockUser, &blockBlocked, extra: &none, touched: { blocks[$0] != nil },
                       added: blocks.filter(\.value).keys.sorted(), extraOf: nil)
        }
        if !dismissals.isEmpty {
            var none: [Timestamp] = []
            Self.merge(&dismissUser, &dismissCandidate, extra: &none, touched: { dismissals[$0] != nil },
                       added: dismissals.filter(\.value).keys.sorted(), extraOf: nil)
        }
        if !interactions.isEmpty { mergeInteractions(interactions.sorted { ($0.user, $0.post, $0.kind, $0.time) < ($1.user, $1.post, $1.kind, $1.time) }) }
        if !shown.isEmpty { replayImpressions(shown) }
        return true
    }

    /// Rewrites a pair table sorted by its key: the untouched rows in place, the touched ones
    /// dropped, `added` (sorted) merged in; `extra` is a column beside the pairs (times), if any.
    private static func merge(
        _ a: inout [Int32], _ b: inout [Int32], extra: inout [Timestamp], touched: (Pair) -> Bool, added: [Pair],
        extraOf: ((Pair) -> Timestamp)?
    ) {
        let n = a.count
        var na: [Int32] = [], nb: [Int32] = [], ne: [Timestamp] = []
        na.reserveCapacity(n + added.count); nb.reserveCapacity(n + added.count)
        if extraOf != nil { ne.reserveCapacity(n + added.count) }
        var j = 0
        for i in 0..<n {
            let p = Pair(a: a[i], b: b[i])
            while j < added.count, added[j] < p {
                na.append(added[j].a); nb.append(added[j].b)
                if let extraOf { ne.append(extraOf(added[j])) }
                j += 1
            }
            if touched(p) { continue }
            na.append(p.a); nb.append(p.b)
            if extraOf != nil { ne.append(extra[i]) }
        }
        for p in added[j...] {
            na.append(p.a); nb.append(p.b)
            if let extraOf { ne.append(extraOf(p)) }
        }
        a = na
        b = nb
        if extraOf != nil { extra = ne }
    }

    /// Interactions are only ever added (their key is the whole row): merged in key order.
    private mutating func mergeInteractions(_ added: [(user: Int32, post: Int32, kind: UInt8, time: Timestamp)]) {
        let n = interactionUser.count
        var u: [Int32] = [], p: [Int32] = [], k: [UInt8] = [], t: [Timestamp] = []
        u.reserveCapacity(n + added.count); p.reserveCapacity(n + added.count)
        k.reserveCapacity(n + added.count); t.reserveCapacity(n + added.count)
        var j = 0
        for i in 0..<n {
            let row = (interactionUser[i], interactionPost[i], interactionKind[i], interactionTime[i])
            while j < added.count, (added[j].user, added[j].post, added[j].kind, added[j].time) < row {
                u.append(added[j].user); p.append(added[j].post); k.append(added[j].kind); t.append(added[j].time)
                j += 1
            }
            u.append(row.0); p.append(row.1); k.append(row.2); t.append(row.3)
        }
        for x in added[j...] { u.append(x.user); p.append(x.post); k.append(x.kind); t.append(x.time) }
        (interactionUser, interactionPost, interactionKind, interactionTime) = (u, p, k, t)
    }

    /// Impressions are a log read in time order (then the order they were written) within the
    /// discounting window of the latest one: the new ones merged by time after equal old ones,
    /// then the window applied again.
    private mutating func replayImpressions(_ added: [(user: Int32, candidate: Int32, time: Timestamp)]) {
        let new = added.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        let latest = max(impressionTime.max() ?? 0, new.map(\.time).max() ?? 0)
        let since = latest - ImpressionHistory.maxAge
        var u: [Int32] = [], c: [Int32] = [], t: [Timestamp] = []
        var j = 0
        for i in impressionTime.indices {
            while j < new.count, new[j].time < impressionTime[i] {
                if new[j].time >= since { u.append(new[j].user); c.append(new[j].candidate); t.append(new[j].time) }
                j += 1
            }
            if impressionTime[i] >= since { u.append(impressionUser[i]); c.append(impressionCandidate[i]); t.append(impressionTime[i]) }
        }
        for x in new[j...] where x.time >= since { u.append(x.user); c.append(x.candidate); t.append(x.time) }
        (impressionUser, impressionCandidate, impressionTime) = (u, c, t)
    }
}
