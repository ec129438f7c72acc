import Foundation
import OrbitCore

/// Why a user was kept out of a list (SPEC §2.4).
public enum FilterReason: String, CaseIterable, Sendable, Codable {
    case selfUser = "self"
    case alreadyFollowed = "already_followed"
    case blocked = "blocked"
    case blacklisted = "blacklisted"
    case reported = "reported"
    case inactive = "inactive"
    /// The candidate opted out of being suggested (the `unlisted` flag).
    case unlisted = "unlisted"
    /// The user dismissed this suggestion.
    case dismissed = "dismissed"
    /// The user was shown this suggestion too often without following (impression discounting).
    case shownTooOften = "shown_too_often"
    case unknown = "unknown"

    /// The reason a user with flags `f` (not empty) is kept out of everyone's lists.
    public init(flags f: UserFlags) {
        self = f.contains(.blacklisted) ? .blacklisted : f.contains(.reported) ? .reported : f.contains(.inactive) ? .inactive : .unlisted
    }
}

/// Impression discounting (LinkedIn's People You May Know, KDD 2014): a suggestion shown again and
/// again without a follow is demoted, then filtered. Each showing within `windowDays` counts with
/// weight `0.5^(age / halfLifeDays)`; at a weighted count `w ≥ demoteAfter` the item's place in the
/// list is divided by `penalty^(1 + w − demoteAfter)` (0.5 and w = demoteAfter: its place number
/// doubles), and at `w ≥ filterAfter` it is not suggested at all until old showings decay.
public struct ImpressionDiscount: Sendable, Codable, Equatable {
    public var enabled = true
    /// Showings older than this are ignored (at most 90 days: older ones are not loaded).
    public var windowDays = 28
    public var halfLifeDays = 7.0
    public var demoteAfter = 2.0
    public var filterAfter = 6.0
    /// Multiplier in (0, 1] per weighted showing past `demoteAfter`.
    public var penalty = 0.5
    public init() {}

    /// Keys absent from a configuration keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ImpressionDiscount()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        windowDays = try c.decodeIfPresent(Int.self, forKey: .windowDays) ?? d.windowDays
        halfLifeDays = try c.decodeIfPresent(Double.self, forKey: .halfLifeDays) ?? d.halfLifeDays
        demoteAfter = try c.decodeIfPresent(Double.self, forKey: .demoteAfter) ?? d.demoteAfter
        filterAfter = try c.decodeIfPresent(Double.self, forKey: .filterAfter) ?? d.filterAfter
        penalty = try c.decodeIfPresent(Double.self, forKey: .penalty) ?? d.penalty
    }

    /// Checks the values; the message says which one is wrong and why.
    public func validate() throws(ImpressionDiscountError) {
        guard windowDays >= 1, Int64(windowDays) * 86_400 <= ImpressionHistory.maxAge else {
            throw ImpressionDiscountError("impressions.windowDays must be in 1…\(ImpressionHistory.maxAge / 86_400), found \(windowDays)")
        }
        guard halfLifeDays > 0, halfLifeDays.isFinite else { throw ImpressionDiscountError("impressions.halfLifeDays must be positive, found \(halfLifeDays)") }
        guard demoteAfter > 0, demoteAfter.isFinite else { throw ImpressionDiscountError("impressions.demoteAfter must be positive, found \(demoteAfter)") }
        guard filterAfter >= demoteAfter, filterAfter.isFinite else {
            throw ImpressionDiscountError("impressions.filterAfter must be at least demoteAfter (\(demoteAfter)), found \(filterAfter)")
        }
        guard penalty > 0, penalty <= 1 else { throw ImpressionDiscountError("impressions.penalty must be in (0, 1], found \(penalty)") }
    }

    /// The weighted count of `times` at `now`.
    public func weight(_ times: some Sequence<Timestamp>, now: Timestamp) -> Double {
        let window = Int64(windowDays) * 86_400
        var w = 0.0
        for t in times {
            let age = max(0, now - t)
            if age <= window { w += pow(0.5, Double(age) / (halfLifeDays * 86_400)) }
        }
        return w
    }

    /// The multiplier of a demoted item's place weight: 1 below `demoteAfter`.
    public func multiplier(weight w: Double) -> Double {
        w < demoteAfter ? 1 : pow(penalty, 1 + w - demoteAfter)
    }
}

/// An impression-discounting value out of range.
public struct ImpressionDiscountError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
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
    /// Suggestions `user` dismissed, sorted (snapshot and overlay).
    public let dismissed: [UserIndex]
    /// Suggestions shown to `user` often enough to be filtered (impression discounting), sorted.
    public let shownTooOften: [UserIndex]
    /// Place multipliers (< 1) of the suggestions shown often enough to be demoted.
    public let demotion: [UserIndex: Double]

    public init(user: UserIndex, view: LiveView, now: Timestamp = 0, impressions: ImpressionDiscount? = nil) {
        self.user = user
        self.view = view
        followees = view.followees(of: user)
        blocked = view.blocks(of: user)
        blockedSet = Set(blocked)
        dismissed = view.dismissals(of: user)
        var filtered: [UserIndex] = [], demotion: [UserIndex: Double] = [:]
        if let policy = impressions, policy.enabled {
            for (c, times) in view.impressions(of: user) {
                let w = policy.weight(times, now: now)
                if w >= policy.filterAfter { filtered.append(c) } else if w >= policy.demoteAfter { demotion[c] = policy.multiplier(weight: w) }
            }
        }
        shownTooOften = filtered.sorted()
        self.demotion = demotion
    }

    /// The reason `v` is filtered, or nil when `v` may be recommended.
    public func reason(_ v: UserIndex) -> FilterReason? {
        if v == user { return .selfUser }
        if v < 0 || Int(v) >= view.userCount { return .unknown }
        if followees.binarySearchContains(v) { return .alreadyFollowed }
        if let personal = personalReason(v) { return personal }
        let f = view.flags(of: v)
        if !f.isEmpty { return FilterReason(flags: f) }
        return nil
    }

    /// Filters that only this user's request applies (blocks, dismissals, impressions) and that a
    /// per-snapshot pool has not applied: the reason for `v`, if any.
    public func personalReason(_ v: UserIndex) -> FilterReason? {
        if !blocked.isEmpty, blocked.binarySearchContains(v) { return .blocked }
        if !dismissed.isEmpty, dismissed.binarySearchContains(v) { return .dismissed }
        if !shownTooOften.isEmpty, shownTooOften.binarySearchContains(v) { return .shownTooOften }
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
