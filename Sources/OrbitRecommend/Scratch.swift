import OrbitCore
import Synchronization

/// Per-user counters for graph expansion: dense buffers indexed by user plus the list of users
/// touched, so counting is an increment instead of a hash lookup, and clearing costs only what
/// was touched. The buffers are raw memory because the counting loops are the hottest code of a
/// who-to-follow request (arrays behind a class property cost a uniqueness check per write). One
/// request owns a set at a time (taken from a `ScratchPool`).
public final class ExpansionScratch: @unchecked Sendable {
    let users: Int
    /// Paths that led to each user.
    let count: UnsafeMutablePointer<Int32>
    /// A summed weight per user, for sources that weight paths.
    let weight: UnsafeMutablePointer<Float>
    /// Users with a non-zero count, in the order first touched (`touchedCount` of them).
    let touchedStorage: UnsafeMutablePointer<UserIndex>
    private(set) var touchedCount = 0
    private var weighted = false
    /// Personalised PageRank's mass and residual per user, allocated at the first push (8 bytes
    /// each per user: only servers that run the ranking stage's PageRank source pay for them).
    private var massStorage: UnsafeMutablePointer<Double>?
    private var residualStorage: UnsafeMutablePointer<Double>?
    private var pushed = false

    init(users: Int) {
        self.users = users
        count = .allocate(capacity: max(users, 1))
        count.initialize(repeating: 0, count: max(users, 1))
        weight = .allocate(capacity: max(users, 1))
        weight.initialize(repeating: 0, count: max(users, 1))
        touchedStorage = .allocate(capacity: max(users, 1))
    }

    deinit {
        count.deallocate()
        weight.deallocate()
        touchedStorage.deallocate()
        massStorage?.deallocate()
        residualStorage?.deallocate()
    }

    private func doubles() -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(users, 1))
        p.initialize(repeating: 0, count: max(users, 1))
        return p
    }

    /// PageRank's mass and residual per user, zero for users not touched; the caller marks
    /// (`insert`) every user it writes, so that `clear` finds them.
    func pushBuffers() -> (mass: UnsafeMutablePointer<Double>, residual: UnsafeMutablePointer<Double>) {
        pushed = true
        if let m = massStorage, let r = residualStorage { return (m, r) }
        let m = doubles(), r = doubles()
        massStorage = m
        residualStorage = r
        return (m, r)
    }

    var touched: UnsafeBufferPointer<UserIndex> { UnsafeBufferPointer(start: touchedStorage, count: touchedCount) }

    /// One path to every user of `row` except `skip`.
    func add(row: ArraySlice<UserIndex>, skipping skip: UserIndex = -1) {
        var n = touchedCount
        let c = count, t = touchedStorage
        row.withUnsafeBufferPointer { row in
            for u in row where u != skip {
                let i = Int(u)
                assert(i < users, "user \(i) beyond the scratch set's \(users): size the set by the live view")
                if c[i] == 0 { t[n] = u; n &+= 1 }
                c[i] &+= 1
            }
        }
        touchedCount = n
    }

    /// One path of weight `w` to every user of `row`.
    func add(row: ArraySlice<UserIndex>, weight w: Float) {
        weighted = true
        var n = touchedCount
        let c = count, wt = weight, t = touchedStorage
        row.withUnsafeBufferPointer { row in
            for u in row {
                let i = Int(u)
                assert(i < users, "user \(i) beyond the scratch set's \(users): size the set by the live view")
                if c[i] == 0 { t[n] = u; n &+= 1 }
                c[i] &+= 1
                wt[i] += w
            }
        }
        touchedCount = n
    }

    /// Marks `u`; true when it was not marked (nor counted) before: a set membership test.
    @inline(__always)
    func insert(_ u: UserIndex) -> Bool {
        let i = Int(u)
        assert(i < users, "user \(i) beyond the scratch set's \(users): size the set by the live view")
        guard count[i] == 0 else { return false }
        count[i] = 1
        touchedStorage[touchedCount] = u
        touchedCount += 1
        return true
    }

    /// The touched users as `Ranked` items (position: the user), ranked by `score(user, count, weight)`,
    /// ties to the lower index.
    func ranked(by score: (UserIndex, Int32, Float) -> Float) -> [Ranked] {
        touched.map { u in
            let i = Int(u)
            return Ranked(score: score(u, count[i], weight[i]), tie: i, position: i)
        }
    }

    /// The best `limit` touched users that the request allows, best first by
    /// `score(user, count, weight)`. Users are examined in rank order and only until `limit` are
    /// found, so the filter runs on the few best instead of on every touched user; `filtered`
    /// counts the refused users among those examined.
    func bestEligible(
        limit: Int, for r: FollowRequest, filtered: inout FilterCounts, by score: (UserIndex, Int32, Float) -> Float
    ) -> [UserIndex] {
        guard limit > 0 else { return [] }
        var ranked = ranked(by: score)
        var out: [UserIndex] = []
        out.reserveCapacity(min(limit, ranked.count))
        // Most refusals near the top are the user's own followees, so the first chunk allows for them.
        let firstChunk = limit + limit / 4 + min(r.eligibility.followees.count, 2 * limit)
        visitBestFirst(&ranked, firstChunk: firstChunk) { item in
            let u = UserIndex(Int32(truncatingIfNeeded: item.position))
            if let why = r.eligibility.reason(u) { filtered.add(why) } else { out.append(u) }
            return out.count < limit
        }
        return out
    }

    func clear() {
        let c = count, wt = weight
        if weighted {
            for u in touched { c[Int(u)] = 0; wt[Int(u)] = 0 }
        } else {
            for u in touched { c[Int(u)] = 0 }
        }
        if pushed, let m = massStorage, let r = residualStorage {
            for u in touched { m[Int(u)] = 0; r[Int(u)] = 0 }
        }
        touchedCount = 0
        weighted = false
        pushed = false
    }
}

/// Hands out cleared `ExpansionScratch` sets and takes them back, so a busy server reuses a few
/// sets instead of allocating megabytes per request. A set covers every user index the request
/// can meet: the overlay adds users above the snapshot's, so each call says how many there are
/// now, and a set too small for that is replaced (with headroom, so a growing overlay does not
/// reallocate per request).
public final class ScratchPool: Sendable {
    private let users: Int
    private let free = Mutex<[ExpansionScratch]>([])

    /// Sets for at least `users` users (the snapshot's count).
    public init(users: Int) { self.users = users }

    /// Runs `body` with a cleared scratch set of its own covering user indices below `needed`
    /// (the live view's `userCount`).
    func with<R>(users needed: Int, _ body: (ExpansionScratch) -> R) -> R {
        let pooled = free.withLock { $0.popLast() }
        let s = pooled.flatMap { $0.users >= needed ? $0 : nil }
            ?? ExpansionScratch(users: max(users, needed + needed / 16 + 64))
        defer {
            s.clear()
            free.withLock { if $0.count < 16 { $0.append(s) } }
        }
        return body(s)
    }
}
