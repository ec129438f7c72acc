/// Per-user sorted sets of item indices in compressed sparse row form.
///
/// Used as negative-sampling exclusions and for "already interacted" filters in evaluation.
/// Which positives an exclusion holds depends on what the negatives are for: training
/// negatives avoid only the user's training positives (`TrainingData.exclusion`), while
/// validation and test negatives avoid the positives of every split.
public struct ItemSets: Sendable {
    public let userCount: Int
    /// `offsets[u]..<offsets[u+1]` indexes `items` for user `u`.
    public let offsets: [Int]
    /// Sorted, duplicate-free within each user.
    public let items: [Int32]

    /// Builds the sets from parallel `users`/`items` arrays (any order, duplicates allowed).
    public init(userCount: Int, users: [Int32], items: [Int32]) throws(NeuMFError) {
        guard users.count == items.count else {
            throw .invalidData("users (\(users.count)) and items (\(items.count)) differ in length")
        }
        for u in users where u < 0 || Int(u) >= userCount {
            throw .invalidData("user index \(u) outside 0..<\(userCount)")
        }
        self.init(checkedUserCount: userCount, users: users, items: items)
    }

    /// `init(userCount:users:items:)` once the arrays are known to agree in length and every
    /// user to lie in `0..<userCount`.
    init(checkedUserCount userCount: Int, users: [Int32], items: [Int32]) {
        var counts = [Int](repeating: 0, count: userCount + 1)
        for u in users { counts[Int(u) + 1] += 1 }
        for u in 0..<userCount { counts[u + 1] += counts[u] }
        var fill = counts
        var flat = [Int32](repeating: 0, count: users.count)
        for idx in 0..<users.count {
            let u = Int(users[idx])
            flat[fill[u]] = items[idx]
            fill[u] += 1
        }
        // Sort and deduplicate each user's slice, then compact.
        var out = [Int32]()
        out.reserveCapacity(flat.count)
        var newOffsets = [Int](repeating: 0, count: userCount + 1)
        for u in 0..<userCount {
            let lo = counts[u], hi = counts[u + 1]
            flat[lo..<hi].sort()
            var last: Int32 = -1
            for idx in lo..<hi where flat[idx] != last {
                out.append(flat[idx])
                last = flat[idx]
            }
            newOffsets[u + 1] = out.count
        }
        self.userCount = userCount
        self.offsets = newOffsets
        self.items = out
    }

    /// Sets built from several pair lists at once (for example train, validation and test).
    public init(userCount: Int, pairs: [(users: [Int32], items: [Int32])]) throws(NeuMFError) {
        var us: [Int32] = [], its: [Int32] = []
        for p in pairs {
            us += p.users
            its += p.items
        }
        try self.init(userCount: userCount, users: us, items: its)
    }

    /// These sets plus the given pairs (for example a split's positives joining the training
    /// exclusion). Pairs whose user lies outside `0..<userCount` are left out (the trainer
    /// reports such pairs when it checks its data), as are pairs with unequal array lengths.
    public func adding(users newUsers: [Int32], items newItems: [Int32]) -> ItemSets {
        var us: [Int32] = [], its = items
        us.reserveCapacity(items.count + newUsers.count)
        its.reserveCapacity(items.count + newUsers.count)
        for u in 0..<userCount {
            us += repeatElement(Int32(u), count: offsets[u + 1] - offsets[u])
        }
        for k in 0..<min(newUsers.count, newItems.count) where newUsers[k] >= 0 && Int(newUsers[k]) < userCount {
            us.append(newUsers[k])
            its.append(newItems[k])
        }
        return ItemSets(checkedUserCount: userCount, users: us, items: its)
    }

    public var totalCount: Int { items.count }
    public func count(of user: Int32) -> Int { offsets[Int(user) + 1] - offsets[Int(user)] }
    public func items(of user: Int32) -> ArraySlice<Int32> { items[offsets[Int(user)]..<offsets[Int(user) + 1]] }

    public func contains(user: Int32, item: Int32) -> Bool {
        guard user >= 0 && Int(user) < userCount else { return false }
        return withView { $0.contains(user: user, item: item) }
    }

    /// Index into `items` of `item` in `user`'s set, or nil when the set does not hold it.
    func position(user: Int32, item: Int32) -> Int? {
        guard user >= 0 && Int(user) < userCount else { return nil }
        var lo = offsets[Int(user)], hi = offsets[Int(user) + 1]
        while lo < hi {
            let mid = (lo + hi) >> 1
            if items[mid] < item { lo = mid + 1 } else { hi = mid }
        }
        return lo < offsets[Int(user) + 1] && items[lo] == item ? lo : nil
    }

    /// The sets as a dense bit matrix (`userCount x itemCount` bits), or nil when that would
    /// exceed `maxBytes`.
    func bitMatrix(itemCount: Int, maxBytes: Int = 64 << 20) -> [UInt64]? {
        let bitsNeeded = userCount * itemCount
        guard bitsNeeded / 8 <= maxBytes else { return nil }
        var bits = [UInt64](repeating: 0, count: bitsNeeded / 64 + 1)
        for u in 0..<userCount {
            for k in offsets[u]..<offsets[u + 1] where Int(items[k]) < itemCount {
                let b = u * itemCount + Int(items[k])
                bits[b >> 6] |= 1 << UInt64(b & 63)
            }
        }
        return bits
    }

    /// Runs `body` with a pointer view valid for the duration of the call.
    func withView<R>(_ body: (ExclusionView) throws -> R) rethrows -> R {
        try items.withUnsafeBufferPointer { ib in
            try offsets.withUnsafeBufferPointer { ob in
                // An empty `items` may have no storage; the view never reads it then
                // because every user's range is empty.
                let ip = ib.baseAddress ?? UnsafePointer<Int32>(bitPattern: MemoryLayout<Int32>.alignment)!
                return try body(ExclusionView(offsets: ob.baseAddress!, items: ip))
            }
        }
    }
}

/// Pointer view of `ItemSets` for hot loops (no reference counting, no bounds checks).
struct ExclusionView {
    let offsets: UnsafePointer<Int>
    let items: UnsafePointer<Int32>
    /// Optional dense bit matrix `users x bitStride` of the same sets (small problems only):
    /// one load instead of a binary search with unpredictable branches.
    var bits: UnsafePointer<UInt64>? = nil
    var bitStride = 0

    @inline(__always)
    func contains(user: Int32, item: Int32) -> Bool {
        if let bits {
            let k = Int(user) * bitStride + Int(item)
            return bits[k >> 6] & (1 << UInt64(k & 63)) != 0
        }
        // Branch-free lower bound: the comparison feeds a conditional move.
        var base = offsets[Int(user)]
        var len = offsets[Int(user) + 1] - base
        if len == 0 { return false }
        while len > 1 {
            let half = len >> 1
            base = items[base + half] <= item ? base + half : base
            len -= half
        }
        return items[base] == item
    }

    @inline(__always)
    func count(_ user: Int32) -> Int { offsets[Int(user) + 1] - offsets[Int(user)] }

    /// A uniform item not in the user's set, or -1 if the set covers every item.
    @inline(__always)
    func sampleNegative(user: Int32, itemCount: Int, rng: inout SplitMix64) -> Int32 {
        let excluded = count(user)
        if excluded >= itemCount { return -1 }
        if excluded * 2 <= itemCount {
            // Rejection: expected tries below 2.
            while true {
                let c = Int32(truncatingIfNeeded: rng.below(itemCount))
                if !contains(user: user, item: c) { return c }
            }
        }
        // Dense user: draw the r-th allowed item directly, walking the sorted exclusions.
        var r = rng.below(itemCount - excluded)
        let lo = offsets[Int(user)], hi = offsets[Int(user) + 1]
        // Allowed items before exclusion index k: items[k] - (k - lo). Binary search the k
        // with items[k] - (k - lo) > r; the answer is r + (k - lo).
        var a = lo, b = hi
        while a < b {
            let mid = (a + b) >> 1
            if Int(items[mid]) - (mid - lo) <= r { a = mid + 1 } else { b = mid }
        }
        r += a - lo
        return Int32(truncatingIfNeeded: r)
    }
}

/// Draws negatives uniformly from the items outside a user's exclusion set: every split's
/// positives for validation and test negatives, the training positives for training ones.
public struct NegativeSampler: Sendable {
    public let exclusion: ItemSets
    public let itemCount: Int

    public init(itemCount: Int, exclusion: ItemSets) {
        self.itemCount = itemCount
        self.exclusion = exclusion
    }

    /// One negative for `user`, or nil when the user's exclusion set covers every item.
    public func sample(for user: Int32, using rng: inout SplitMix64) -> Int32? {
        let r = exclusion.withView { $0.sampleNegative(user: user, itemCount: itemCount, rng: &rng) }
        return r < 0 ? nil : r
    }

    /// `count` negatives for `user`, with replacement, none of them excluded.
    public func sample(_ count: Int, for user: Int32, using rng: inout SplitMix64) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard let x = sample(for: user, using: &rng) else { break }
            out.append(x)
        }
        return out
    }
}
