import OrbitCore

/// Why a user was kept out of a list (SPEC §2.4).
public enum FilterReason: String, CaseIterable, Sendable, Codable {
    case selfUser = "self"
    case alreadyFollowed = "already_followed"
    case blocked = "blocked"
    case blacklisted = "blacklisted"
    case reported = "reported"
    case inactive = "inactive"
    case unknown = "unknown"
}

/// Counts of filtered users per reason, returned in a response's debug data.
public struct FilterCounts: Sendable, Equatable {
    public var counts: [FilterReason: Int] = [:]
    public init() {}
    public subscript(_ r: FilterReason) -> Int { counts[r] ?? 0 }
    public mutating func add(_ r: FilterReason, _ n: Int = 1) { counts[r, default: 0] += n }
    public var total: Int { counts.values.reduce(0, +) }
}

/// Decides, once per request, which users may be recommended to `user`; every source goes
/// through it before scoring, so no source can leak a filtered user.
public struct Eligibility: Sendable {
    public let user: UserIndex
    public let view: LiveView
    /// `user`'s followees, sorted, for fast exclusion.
    public let followees: [UserIndex]
    /// Users `user` blocked (snapshot and overlay).
    public let blockedSet: Set<UserIndex>
    /// The same users, sorted: most users block no one, and a binary search of an empty or tiny
    /// array costs less than hashing every candidate.
    private let blocked: [UserIndex]

    public init(user: UserIndex, view: LiveView) {
        self.user = user
        self.view = view
        followees = view.followees(of: user)
        var blocked = Set(view.snapshot.blocks.row(user))
        if let add = view.overlay.blocksAdded[user] { blocked.formUnion(add) }
        if let rem = view.overlay.blocksRemoved[user] { blocked.subtract(rem) }
        blockedSet = blocked
        self.blocked = blocked.sorted()
    }

    /// The reason `v` is filtered, or nil when `v` may be recommended.
    public func reason(_ v: UserIndex) -> FilterReason? {
        if v == user { return .selfUser }
        if v < 0 || Int(v) >= view.userCount { return .unknown }
        if followees.binarySearchContains(v) { return .alreadyFollowed }
        if !blocked.isEmpty, blocked.binarySearchContains(v) { return .blocked }
        let f = view.flags(of: v)
        if !f.isEmpty {
            if f.contains(.blacklisted) { return .blacklisted }
            if f.contains(.reported) { return .reported }
            return .inactive
        }
        return nil
    }

    @inline(__always)
    public func allows(_ v: UserIndex) -> Bool { reason(v) == nil }

    /// Keeps the allowed users of `users`, counting the others by reason.
    public func filter(_ users: some Sequence<UserIndex>, counts: inout FilterCounts) -> [UserIndex] {
        var out: [UserIndex] = []
        for v in users {
            if let r = reason(v) { counts.add(r) } else { out.append(v) }
        }
        return out
    }
}

extension RandomAccessCollection where Element == Int32, Index == Int {
    /// Membership in a sorted array or slice.
    @inlinable
    public func binarySearchContains(_ x: Int32) -> Bool {
        var lo = startIndex, hi = endIndex
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = self[mid]
            if v == x { return true }
            if v < x { lo = mid + 1 } else { hi = mid }
        }
        return false
    }
}
