import OrbitCore

/// Users that no filter of SPEC §2.4 removes for everyone (not blacklisted, reported or
/// inactive), sorted; computed once per snapshot so the full scan filters before scoring.
public struct EligiblePool: Sendable {
    public let users: [UserIndex]
    /// How many users each global flag removed, added to every request's filter counts.
    public let flaggedCounts: FilterCounts

    public init(snapshot s: Snapshot, limit: Int) {
        var users: [UserIndex] = []
        users.reserveCapacity(min(limit, s.userCount))
        var counts = FilterCounts()
        for u in 0..<min(limit, s.userCount) {
            let f = s.userFlags[u]
            if f.isEmpty { users.append(UserIndex(u)); continue }
            counts.add(FilterReason(flags: f))
        }
        self.users = users
        flaggedCounts = counts
    }
}

/// SPEC §2.3 simple logic: score every eligible user with the model and keep the best.
public struct ModelSimpleSource: CandidateSource {
    public let scorer: any PairScorer
    public let pool: EligiblePool
    public var kind: SourceKind { .modelSimple }

    public init(scorer: any PairScorer, snapshot: Snapshot) {
        self.scorer = scorer
        pool = EligiblePool(snapshot: snapshot, limit: scorer.knownUsers)
    }

    /// The same scan with another scorer (a folded-in user) over an already computed pool.
    public init(scorer: any PairScorer, pool: EligiblePool) {
        self.scorer = scorer
        self.pool = pool
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        guard scorer.canScore(user: r.user) else { return [] }
        for (reason, n) in pool.flaggedCounts.counts { filtered.add(reason, n) }
        // Filters before scoring: walk the pool and drop per-user exclusions (self, followed, blocked,
        // and flags changed since the snapshot).
        var cands: [UserIndex] = []
        cands.reserveCapacity(pool.users.count)
        let followees = r.eligibility.followees
        var fi = 0
        let e = r.eligibility
        let personal = !e.blockedSet.isEmpty || !e.dismissed.isEmpty || !e.shownTooOften.isEmpty
        let newFlags = r.view.overlay.flags  // flags changed since the snapshot (usually none)
        for v in pool.users {
            while fi < followees.count, followees[fi] < v { fi += 1 }
            if fi < followees.count, followees[fi] == v { filtered.add(.alreadyFollowed); continue }
            if v == r.user { filtered.add(.selfUser); continue }
            if personal, let why = e.personalReason(v) { filtered.add(why); continue }
            if !newFlags.isEmpty, let f = newFlags[v], !f.isEmpty, let why = r.eligibility.reason(v) { filtered.add(why); continue }
            cands.append(v)
        }
        let scores = scorer.scores(user: r.user, candidates: cands)
        let best = topK(Array(cands.indices), k: limit) { scores[$0] }
        return best.map { Candidate(user: cands[$0], score: scores[$0], source: .modelSimple, evidence: .model(probability: scores[$0])) }
    }
}

/// NeuMF over a bounded neighbourhood: graph-expansion candidates and popular users, scored by
/// the model. Keeps a request in milliseconds whatever the number of users.
public struct ModelGraphSource: CandidateSource {
    public let scorer: any PairScorer
    public let leaderboards: Leaderboards
    public var limits = ExpansionLimits()
    /// At most this many candidates are scored.
    public var budget = 2_000
    public var kind: SourceKind { .modelGraph }

    public init(scorer: any PairScorer, leaderboards: Leaderboards, budget: Int = 2_000, limits: ExpansionLimits = ExpansionLimits()) {
        self.scorer = scorer
        self.leaderboards = leaderboards
        self.budget = budget
        self.limits = limits
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let fof = FolloweesOfFolloweesSource(limits: limits).candidates(for: r, limit: budget * 3 / 4, filtered: &filtered)
        let co = CoFollowersSource(limits: limits).candidates(for: r, limit: budget / 4, filtered: &filtered)
        let popular = PopularSource(leaderboards: leaderboards).candidates(for: r, limit: 100, filtered: &filtered)
        return candidates(for: r, limit: limit, neighbourhood: [fof, co, popular])
    }

    /// Scores an already gathered neighbourhood (lists of eligible candidates, best first), so a
    /// caller that also needs the graph lists computes them once.
    public func candidates(for r: FollowRequest, limit: Int, neighbourhood: [[Candidate]]) -> [Candidate] {
        guard scorer.canScore(user: r.user) else { return [] }
        var pool: [Candidate] = []
        pool.reserveCapacity(min(budget, neighbourhood.reduce(0) { $0 + $1.count }))
        // The scratch counters mark who is in already: cheaper than hashing two thousand users.
        r.scratch.with(users: r.view.userCount) { seen in
            for list in neighbourhood {
                // Users beyond the scratch (none today: every list comes from the snapshot) could
                // not be scored by a model trained on it either.
                for c in list where pool.count < budget && c.user >= 0 && Int(c.user) < seen.users && seen.insert(c.user) {
                    pool.append(c)
                }
            }
        }
        return rescore(pool, r: r, limit: limit, source: .modelGraph)
    }

    func rescore(_ pool: [Candidate], r: FollowRequest, limit: Int, source: SourceKind) -> [Candidate] {
        let known = pool.filter { Int($0.user) < scorer.knownUsers }
        let scores = scorer.scores(user: r.user, candidates: known.map(\.user))
        let best = topK(Array(known.indices), k: limit) { scores[$0] }
        return best.map { i in
            var c = known[i]
            c.score = scores[i]
            c.source = source
            if case .popular = c.evidence { c.evidence = .model(probability: scores[i]) }
            return c
        }
    }
}

/// SPEC §2.3 complex logic: relation vectors of the user's follow edges, their nearest edges in
/// the vector index, the followees of similar edges' followers where the similar edge's followee
/// is one the user also follows, scored by the model; then followees of followees and co-followers'
/// followees as fallbacks; and, when no similar edge shares a followee, the similar edges' users.
public struct ModelComplexSource: CandidateSource {
    public let scorer: any PairScorer
    public let index: any EdgeIndex
    /// Similar edges looked up per followee (SPEC's `n`).
    public var neighbours = 20
    /// Followees whose edges are looked up.
    public var maxFollowees = 50
    /// At most this many candidates are scored per step.
    public var budget = 2_000
    public var limits = ExpansionLimits()
    public var kind: SourceKind { .modelComplex }

    public init(scorer: any PairScorer, index: any EdgeIndex, neighbours: Int = 20, limits: ExpansionLimits = ExpansionLimits()) {
        self.scorer = scorer
        self.index = index
        self.neighbours = neighbours
        self.limits = limits
    }

    /// What the complex logic found for a user, step by step (for tests and debug output).
    public struct Trace: Sendable {
        public var similarEdges = 0
        public var sharedFolloweeEdges = 0
        public var primary = 0
        public var fromFolloweesOfFollowees = 0
        public var fromCoFollowers = 0
        public var usedNoSharedBranch = false
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        var trace = Trace()
        return candidates(for: r, limit: limit, filtered: &filtered, trace: &trace)
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts, trace: inout Trace) -> [Candidate] {
        guard scorer.canScore(user: r.user) else { return [] }
        let s = r.view.snapshot
        let followees = r.eligibility.followees.filter { Int($0) < scorer.knownUsers }.prefix(maxFollowees)
        guard !followees.isEmpty else { return [] }
        let dim = scorer.relationDimension
        let vectors = scorer.relationVectors(user: r.user, items: Array(followees))

        var viaShared: [UserIndex: Int] = [:]  // candidate → similar edges that led to it
        var similarUsers: [UserIndex: Int] = [:]
        for k in followees.indices {
            let offset = (k - followees.startIndex) * dim
            let v = Array(vectors[offset..<(offset + dim)])
            for e in index.nearestEdges(to: v, n: neighbours) {
                let (a, b2) = index.edge(e)
                if a == r.user { continue }
                trace.similarEdges += 1
                if r.eligibility.followees.binarySearchContains(b2) {
                    trace.sharedFolloweeEdges += 1
                    for c in s.followees.row(a).prefix(limits.perUser) { viaShared[c, default: 0] += 1 }
                } else {
                    similarUsers[a, default: 0] += 1
                    similarUsers[b2, default: 0] += 1
                }
            }
        }

        var taken = Set<UserIndex>()
        var out: [Candidate] = []
        func take(_ pool: [(UserIndex, Int)], evidence: (Int, Float) -> Evidence) -> Int {
            var ok: [(UserIndex, Int)] = []
            for (c, n) in pool.sorted(by: { $0.0 < $1.0 }) where !taken.contains(c) {
                if let why = r.eligibility.reason(c) { filtered.add(why) } else if Int(c) < scorer.knownUsers { ok.append((c, n)) }
            }
            ok = topK(ok, k: budget) { Float($0.1) }
            let scores = scorer.scores(user: r.user, candidates: ok.map(\.0))
            let best = topK(Array(ok.indices), k: limit - out.count) { scores[$0] }
            for i in best {
                taken.insert(ok[i].0)
                out.append(Candidate(user: ok[i].0, score: scores[i], source: .modelComplex, evidence: evidence(ok[i].1, scores[i])))
            }
            return best.count
        }

        if trace.sharedFolloweeEdges > 0 {
            trace.primary = take(viaShared.map { ($0.key, $0.value) }) { .similarEdges(edges: $0, probability: $1) }
        } else {
            trace.usedNoSharedBranch = true
            trace.primary = take(similarUsers.map { ($0.key, $0.value) }) { .similarEdges(edges: $0, probability: $1) }
        }
        if out.count < limit {
            let fof = FolloweesOfFolloweesSource(limits: limits).counts(for: r)
            trace.fromFolloweesOfFollowees = take(fof.map { ($0.user, $0.count) }) { n, _ in .followedByFollowees(count: n) }
        }
        if out.count < limit {
            let co = CoFollowersSource(limits: limits).candidates(for: r, limit: budget, filtered: &filtered)
            trace.fromCoFollowers = take(co.map { ($0.user, Int($0.score)) }) { _, _ in .coFollowed(count: 0) }
            // Restore the co-follower counts in the evidence.
            let counts = Dictionary(co.map { ($0.user, $0.evidence) }, uniquingKeysWith: { a, _ in a })
            for i in out.indices where out[i].evidence == .coFollowed(count: 0) {
                if let e = counts[out[i].user] { out[i].evidence = e }
            }
        }
        return out
    }
}
