import OrbitCore

/// Which model-based logic fills the slots after the engaged authors.
public enum ModelLogic: String, CaseIterable, Sendable, Codable {
    /// Score every eligible user (SPEC §2.3 simple logic).
    case simple
    /// Nearest relation vectors plus graph expansion (SPEC §2.3 complex logic).
    case complex
    /// Score a bounded graph neighbourhood: fast at any scale.
    case graph
    /// No model: graph expansion and popularity only.
    case none
}

/// How the blender fills `k` slots; chosen on validation data by `orbit evaluate --task follow`.
public struct BlendConfig: Sendable, Codable, Equatable {
    /// At most this many slots go to engaged authors (SPEC §2.2); nil lets them take all they can.
    public var engagedQuota: Int? = nil
    /// At most this many of those slots go to authors the user only viewed (the last tier of the
    /// SPEC §2.2 key); nil lets them take all they can. Views are a weak signal next to the graph.
    public var viewedOnlyQuota: Int? = 3
    public var logic: ModelLogic = .graph
    /// Slots the model may take before graph expansion; nil means all that remain.
    public var modelQuota: Int? = nil
    /// Users scored per request by the bounded (graph) logic.
    public var graphBudget = 2_000
    /// Similar edges per followee for the complex logic.
    public var complexNeighbours = 20
    /// When set, the model, co-followers and followees-of-followees lists are merged by weighted
    /// reciprocal-rank fusion (`Σ weight / (60 + rank)`) instead of filling slots one source after
    /// the other. Weights are chosen on validation data.
    public var fusion: FusionWeights? = nil
    /// Bounds on the graph walks of every expansion source (latency against reach).
    public var expansion = ExpansionLimits()
    public init() {}
}

/// Weights of the sources merged by reciprocal-rank fusion in the blender.
public struct FusionWeights: Sendable, Codable, Equatable, CustomStringConvertible {
    public var model: Double
    public var coFollowers: Double
    public var followeesOfFollowees: Double
    public var followsYou: Double

    public init(model: Double, coFollowers: Double, followeesOfFollowees: Double, followsYou: Double = 0) {
        self.model = model
        self.coFollowers = coFollowers
        self.followeesOfFollowees = followeesOfFollowees
        self.followsYou = followsYou
    }

    public var description: String {
        "fusion model \(model) co-followers \(coFollowers) followees-of-followees \(followeesOfFollowees) follows-you \(followsYou)"
    }

    /// Merges ranked lists: each list's item at rank r (0-based) adds `weight / (60 + r)`; an item
    /// keeps the source that contributed most. The constant 60 is the usual one of Cormack et al.
    public static func fuse(_ lists: [(weight: Double, items: [Candidate])]) -> [Candidate] {
        var score: [UserIndex: (total: Double, best: Double, candidate: Candidate)] = [:]
        for (w, items) in lists where w > 0 {
            for (r, c) in items.enumerated() {
                let add = w / (60 + Double(r))
                if let e = score[c.user] {
                    score[c.user] = (e.total + add, max(e.best, add), add > e.best ? c : e.candidate)
                } else {
                    score[c.user] = (add, add, c)
                }
            }
        }
        return score.sorted { ($0.value.total, -Int($0.key)) > ($1.value.total, -Int($1.key)) }.map { $0.value.candidate }
    }
}

/// The answer to one who-to-follow request.
public struct FollowAnswer: Sendable {
    public var items: [UserRecommendation]
    public var coldStart: Bool
    /// Users each filter kept out, over all sources consulted.
    public var filtered: FilterCounts
    /// Slots each source filled.
    public var sources: [SourceKind: Int]
}

/// Fills `k` who-to-follow slots in SPEC §2's order: leaderboards for a user with no behaviour;
/// otherwise engaged authors, then the model, then graph expansion, then popular users; de-duplicated
/// and filtered, each item with its source and reason.
public struct FollowRecommender: Sendable {
    public private(set) var view: LiveView
    public let leaderboards: Leaderboards
    public let now: Timestamp
    public var config: BlendConfig
    public let scorer: (any PairScorer)?
    public let edgeIndex: (any EdgeIndex)?
    private let simple: ModelSimpleSource?
    private let scratch: ScratchPool

    public init(
        view: LiveView, leaderboards: Leaderboards, now: Timestamp, config: BlendConfig = BlendConfig(),
        scorer: (any PairScorer)? = nil, edgeIndex: (any EdgeIndex)? = nil
    ) {
        self.view = view
        self.leaderboards = leaderboards
        self.now = now
        self.config = config
        self.scorer = scorer
        self.edgeIndex = edgeIndex
        simple = scorer.map { ModelSimpleSource(scorer: $0, snapshot: view.snapshot) }
        scratch = ScratchPool(users: view.snapshot.userCount)
    }

    /// A recommender over a new view (same models and leaderboards): how live events reach requests.
    /// The simple logic's eligible pool and the expansion scratch pool are kept: they depend on the
    /// snapshot only, and rebuilding the first walks every user (milliseconds at a million users).
    public func with(view: LiveView) -> FollowRecommender {
        // A real check even in -Ounchecked builds: the scratch pool is sized for this snapshot.
        guard view.snapshot.userCount == self.view.snapshot.userCount else {
            fatalError("with(view:) keeps the snapshot; build a new recommender for a new one")
        }
        var r = self
        r.view = view
        return r
    }

    /// The model-based source for a logic, or nil when there is no model (or no index for complex).
    public func modelSource(_ logic: ModelLogic) -> (any CandidateSource)? {
        guard let scorer else { return nil }
        switch logic {
        case .simple: return simple
        case .graph:
            return ModelGraphSource(scorer: scorer, leaderboards: leaderboards, budget: config.graphBudget, limits: config.expansion)
        case .complex:
            guard let edgeIndex else { return nil }
            return ModelComplexSource(scorer: scorer, index: edgeIndex, neighbours: config.complexNeighbours, limits: config.expansion)
        case .none: return nil
        }
    }

    public func recommend(user: UserIndex, k: Int, logic: ModelLogic? = nil) -> FollowAnswer {
        let request = FollowRequest(user: user, view: view, now: now, scratch: scratch)
        var filtered = FilterCounts()
        var items: [UserRecommendation] = []
        var taken = Set<UserIndex>()
        var sources: [SourceKind: Int] = [:]

        func add(_ cands: [Candidate], max: Int) {
            var n = 0
            for c in cands where items.count < k && n < max {
                guard taken.insert(c.user).inserted else { continue }
                items.append(UserRecommendation(user: c.user, score: c.score, source: c.source, evidence: c.evidence))
                sources[c.source, default: 0] += 1
                n += 1
            }
        }

        let coldStart = !view.hasBehaviour(user)
        if coldStart {
            // Interleave the three leaderboards so a newcomer sees a mix.
            let lists = [
                PopularSource(leaderboards: leaderboards).candidates(for: request, limit: k, filtered: &filtered),
                PopularSource(leaderboards: leaderboards, recent: true).candidates(for: request, limit: k, filtered: &filtered),
                HotAuthorsSource(leaderboards: leaderboards).candidates(for: request, limit: k, filtered: &filtered),
            ]
            var i = 0
            while items.count < k, i < k {
                for l in lists where i < l.count { add([l[i]], max: 1) }
                i += 1
            }
            return FollowAnswer(items: items, coldStart: true, filtered: filtered, sources: sources)
        }

        var engaged = EngagedAuthorsSource().candidates(for: request, limit: k, filtered: &filtered)
        if let cap = config.viewedOnlyQuota {
            var viewed = 0
            engaged.removeAll { c in
                guard case .engaged(let signals, _, _) = c.evidence, signals.priorityKey == 0 else { return false }
                viewed += 1
                return viewed > cap
            }
        }
        add(engaged, max: config.engagedQuota ?? k)
        // Graph lists are computed once: the bounded model logic scores them, and they fill what
        // the model leaves.
        let budget = config.graphBudget
        let expansion = FolloweesOfFolloweesSource(limits: config.expansion).candidates(for: request, limit: budget * 3 / 4, filtered: &filtered)
        let coFollowed = CoFollowersSource(limits: config.expansion).candidates(for: request, limit: budget / 4, filtered: &filtered)
        let popular = PopularSource(leaderboards: leaderboards).candidates(for: request, limit: k + 100, filtered: &filtered)
        let chosen = logic ?? config.logic
        var model: [Candidate] = []
        // A user the model has not seen but who follows someone is folded in for this request.
        var scorer = self.scorer
        var folded = false
        if let s = scorer, !s.canScore(user: user), !request.eligibility.followees.isEmpty {
            scorer = s.foldingIn(user: user, followees: request.eligibility.followees)
            folded = scorer != nil
        }
        if items.count < k, let scorer {
            switch chosen {
            case .graph:
                model = ModelGraphSource(scorer: scorer, leaderboards: leaderboards, budget: budget)
                    .candidates(for: request, limit: max(k, 100), neighbourhood: [expansion, coFollowed, Array(popular.prefix(100))])
            case .simple:
                let source = folded ? simple.map { ModelSimpleSource(scorer: scorer, pool: $0.pool) } : simple
                model = source?.candidates(for: request, limit: max(k, 100), filtered: &filtered) ?? []
            case .complex:
                if let edgeIndex {
                    model = ModelComplexSource(scorer: scorer, index: edgeIndex, neighbours: config.complexNeighbours, limits: config.expansion)
                        .candidates(for: request, limit: max(k, 100), filtered: &filtered)
                }
            case .none:
                break
            }
        }
        if let w = config.fusion {
            let followsYou = w.followsYou > 0 ? FollowsYouSource().candidates(for: request, limit: 100, filtered: &filtered) : []
            add(FusionWeights.fuse([(w.model, model), (w.coFollowers, coFollowed), (w.followeesOfFollowees, expansion),
                                    (w.followsYou, followsYou)]), max: k)
        } else {
            add(model, max: config.modelQuota ?? k)
        }
        add(expansion, max: k)
        add(coFollowed, max: k)
        add(popular, max: k)
        return FollowAnswer(items: items, coldStart: false, filtered: filtered, sources: sources)
    }
}
