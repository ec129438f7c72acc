import OrbitCore

/// SPEC §2.1: the most-followed users (all time, or within the leaderboards' recent window).
public struct PopularSource: CandidateSource {
    public let leaderboards: Leaderboards
    public let recent: Bool
    public var kind: SourceKind { recent ? .popularRecent : .popular }

    public init(leaderboards: Leaderboards, recent: Bool = false) {
        self.leaderboards = leaderboards
        self.recent = recent
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        var out: [Candidate] = []
        let list: [(UserIndex, Int)] = recent
            ? leaderboards.recentlyFollowed.map { ($0.user, $0.newFollowers) }
            : leaderboards.mostFollowed.map { ($0.user, $0.followers) }
        for (u, n) in list {
            if out.count >= limit { break }
            if let why = r.eligibility.reason(u) { filtered.add(why); continue }
            let evidence: Evidence = recent ? .popularRecent(newFollowers: n, days: leaderboards.recentDays) : .popular(followers: n)
            out.append(Candidate(user: u, score: Float(n), source: kind, evidence: evidence))
        }
        return out
    }
}

/// SPEC §2.1: authors of hot posts.
public struct HotAuthorsSource: CandidateSource {
    public let leaderboards: Leaderboards
    public var kind: SourceKind { .hotAuthors }
    public init(leaderboards: Leaderboards) { self.leaderboards = leaderboards }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        var out: [Candidate] = []
        for a in leaderboards.hotAuthors {
            if out.count >= limit { break }
            if let why = r.eligibility.reason(a.user) { filtered.add(why); continue }
            out.append(Candidate(user: a.user, score: a.score, source: .hotAuthors, evidence: .hotAuthor(posts: a.hotPosts)))
        }
        return out
    }
}

/// SPEC §2.2: authors of posts the user engaged with, by the 4-bit key `A·8 + C·4 + R·2 + L`,
/// then more interactions, then most recent. Reads the live view, so a new engagement counts at once.
public struct EngagedAuthorsSource: CandidateSource {
    public var kind: SourceKind { .engagedAuthors }
    public init() {}

    /// The SPEC §2.2 order: true when `a` ranks before `b`.
    public static func ranksBefore(_ a: AuthorEngagement, _ b: AuthorEngagement) -> Bool {
        if a.signals.priorityKey != b.signals.priorityKey { return a.signals.priorityKey > b.signals.priorityKey }
        if a.count != b.count { return a.count > b.count }
        if a.lastTime != b.lastTime { return a.lastTime > b.lastTime }
        return a.author < b.author
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        var ok: [AuthorEngagement] = []
        for e in r.view.engagements(of: r.user) {
            if let why = r.eligibility.reason(e.author) { filtered.add(why) } else { ok.append(e) }
        }
        ok.sort(by: Self.ranksBefore)
        return ok.prefix(limit).map { e in
            // The score keeps the order readable: key first, then the count.
            Candidate(
                user: e.author, score: Float(e.signals.priorityKey) * 1_000_000 + Float(min(e.count, 999_999)),
                source: .engagedAuthors, evidence: .engaged(signals: e.signals, interactions: Int(e.count), lastTime: e.lastTime))
        }
    }
}

/// Bounds on graph walks, so a user who follows thousands stays fast.
public struct ExpansionLimits: Sendable, Codable, Equatable {
    /// Followees of the user that are expanded (the most recent ones are not known here, so the first ones by index).
    public var followees = 300
    /// Neighbours read per expanded user.
    public var perUser = 500
    /// Co-followers whose followees are counted.
    public var coFollowers = 100
    /// Edges read in one expansion step at most, shared evenly by the rows it reads: caps the
    /// work for users who follow hundreds of accounts (the tail of request latency). Counting is
    /// cheap now that sources filter and sort only the best of what they reach, so the default
    /// bounds only the heaviest users (300 followees × 500 = 150,000 edges unbounded); 10,000 cost
    /// wiki-Vote's co-followers 9% of its HR@10 for no measurable latency gain (BENCHMARKS.md).
    public var edgesPerStep = 100_000
    public init() {}

    /// Neighbours to read from each of `rows` rows so that the step stays within `edgesPerStep`.
    func perRow(_ rows: Int) -> Int { rows == 0 ? 0 : max(10, min(perUser, edgesPerStep / rows)) }
}

/// Graph expansion: followees of the user's followees, ranked by how many followees follow them.
public struct FolloweesOfFolloweesSource: CandidateSource {
    public var limits = ExpansionLimits()
    public var kind: SourceKind { .followeesOfFollowees }
    public init(limits: ExpansionLimits = ExpansionLimits()) { self.limits = limits }

    /// Each reached user with the number of followees that follow it, in no particular order.
    public func counts(for r: FollowRequest) -> [(user: UserIndex, count: Int)] {
        r.scratch.with(users: r.view.userCount) { c in
            count(r, into: c)
            return c.touched.map { ($0, Int(c.count[Int($0)])) }
        }
    }

    private func count(_ r: FollowRequest, into c: ExpansionScratch) {
        let s = r.view.snapshot
        let followees = r.eligibility.followees.prefix(max(0, limits.followees))
        let perRow = limits.perRow(followees.count)
        for f in followees { c.add(row: s.followees.row(f).prefix(perRow)) }
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let s = r.view.snapshot
        return r.scratch.with(users: r.view.userCount) { c in
            count(r, into: c)
            // Ties go to the more followed user (a common, cheap prior), then to the lower index.
            let best = c.bestEligible(limit: limit, for: r, filtered: &filtered) { u, n, _ in
                Float(n) + Float(min(s.followers.degree(u), 999_999)) * 1e-6
            }
            return best.map { u in
                let n = Int(c.count[Int(u)])
                return Candidate(user: u, score: Float(n), source: .followeesOfFollowees, evidence: .followedByFollowees(count: n))
            }
        }
    }
}

/// Graph expansion: followees of co-followers (users who follow the same accounts as the user),
/// weighted by how many accounts each co-follower shares with the user.
public struct CoFollowersSource: CandidateSource {
    public var limits = ExpansionLimits()
    public var kind: SourceKind { .coFollowers }
    public init(limits: ExpansionLimits = ExpansionLimits()) { self.limits = limits }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let s = r.view.snapshot
        // Co-followers, by how many of the user's followees they also follow.
        let top: [(UserIndex, Int32)] = r.scratch.with(users: r.view.userCount) { shared in
            let followees = r.eligibility.followees.prefix(max(0, limits.followees))
            let perRow = limits.perRow(followees.count)
            for f in followees { shared.add(row: s.followers.row(f).prefix(perRow), skipping: r.user) }
            var ranked = shared.ranked { _, n, _ in Float(n) }
            selectBest(&ranked, k: max(0, limits.coFollowers))
            return ranked.prefix(max(0, limits.coFollowers)).map {
                let w = UserIndex(Int32(truncatingIfNeeded: $0.position))
                return (w, shared.count[Int(w)])
            }
        }
        // Their followees, weighted by the co-followers' shared counts.
        return r.scratch.with(users: r.view.userCount) { c in
            let perRow = limits.perRow(top.count)
            for (w, n) in top { c.add(row: s.followees.row(w).prefix(perRow), weight: Float(n)) }
            let best = c.bestEligible(limit: limit, for: r, filtered: &filtered) { _, _, weight in weight }
            return best.map { v in
                Candidate(user: v, score: c.weight[Int(v)], source: .coFollowers, evidence: .coFollowed(count: Int(c.count[Int(v)])))
            }
        }
    }
}

/// Users who follow the user and whom the user does not follow back, most followed first:
/// reciprocity is the strongest single signal on many social graphs.
public struct FollowsYouSource: CandidateSource {
    public var kind: SourceKind { .followsYou }
    public init() {}

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let s = r.view.snapshot
        var ok: [UserIndex] = []
        for f in s.followers.row(r.user) {
            if let why = r.eligibility.reason(f) { filtered.add(why) } else { ok.append(f) }
        }
        return topK(ok, k: limit) { Float(s.followers.degree($0)) }.map {
            Candidate(user: $0, score: Float(s.followers.degree($0)), source: .followsYou, evidence: .followsYou)
        }
    }
}
