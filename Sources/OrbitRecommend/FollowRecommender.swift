import OrbitCore
import Ranking

/// The learned ranking stage (SPEC §2.5): a gradient-boosted ranker that orders the union of every
/// source's top lists by per-candidate features (`FollowFeatures`).
public struct FollowRanker: Sendable {
    public let model: GradientBoostedRanker
    /// Candidates taken from each source's list.
    public var perSource: Int
    /// Engaged authors keep their SPEC §2.2 places in front (true) or join the union (false).
    public var engagedFirst: Bool
    /// Feature contributions kept per item for explanations.
    public var explainTop = 5
    /// Whether the model reads every feature (else a subset: an ablation).
    let allFeatures: Bool

    /// Refuses a model whose features are not `FollowFeatures.names` or a subset of them in order.
    public init(model: GradientBoostedRanker, perSource: Int = 100, engagedFirst: Bool = true) throws(RankerError) {
        let known = FollowFeatures.names
        var i = known.startIndex
        for f in model.featureNames {
            guard let at = known[i...].firstIndex(of: f) else {
                throw RankerError(operation: "loading the ranker", message: "feature \(f) is not one this build computes (in order); retrain the ranker")
            }
            i = at + 1
        }
        self.model = model
        self.perSource = perSource
        self.engagedFirst = engagedFirst
        allFeatures = model.featureNames == known
    }

    /// The model's columns of a full feature matrix.
    func columns(_ m: FeatureMatrix) -> FeatureMatrix {
        if allFeatures { return m }
        let keep = Set(model.featureNames)
        return m.dropping { !keep.contains($0) }
    }
}

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
    /// Pushes of the personalised PageRank source per request (the ranking stage's union).
    public var pageRankPushes = 5_000
    /// Demotion and filtering of suggestions shown repeatedly without a follow.
    public var impressions = ImpressionDiscount()
    /// Bounds of the similar-accounts search (the `similar` route and its source).
    public var similar = SimilarAccountsConfig()
    /// The window of the recently-followed-by-your-network source, in days.
    public var networkRecentDays = 7
    public init() {}
}

/// Weights of the sources merged by reciprocal-rank fusion in the blender.
public struct FusionWeights: Sendable, Codable, Equatable, CustomStringConvertible {
    public var model: Double
    public var coFollowers: Double
    public var followeesOfFollowees: Double
    public var followsYou: Double
    /// Accounts like the user's latest follows.
    public var similarToRecent: Double
    /// Accounts the user's followees followed in the last days.
    public var networkRecent: Double

    public init(model: Double, coFollowers: Double, followeesOfFollowees: Double, followsYou: Double = 0,
                similarToRecent: Double = 0, networkRecent: Double = 0) {
        self.model = model
        self.coFollowers = coFollowers
        self.followeesOfFollowees = followeesOfFollowees
        self.followsYou = followsYou
        self.similarToRecent = similarToRecent
        self.networkRecent = networkRecent
    }

    /// Keys absent from a configuration weigh 0 (the sources added later).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(Double.self, forKey: .model)
        coFollowers = try c.decode(Double.self, forKey: .coFollowers)
        followeesOfFollowees = try c.decode(Double.self, forKey: .followeesOfFollowees)
        followsYou = try c.decodeIfPresent(Double.self, forKey: .followsYou) ?? 0
        similarToRecent = try c.decodeIfPresent(Double.self, forKey: .similarToRecent) ?? 0
        networkRecent = try c.decodeIfPresent(Double.self, forKey: .networkRecent) ?? 0
    }

    public var description: String {
        "fusion model \(model) co-followers \(coFollowers) followees-of-followees \(followeesOfFollowees) follows-you \(followsYou)"
            + " similar-to-recent \(similarToRecent) network-recent \(networkRecent)"
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
    /// The learned ranking stage; nil: the blend of `config`.
    public var ranker: FollowRanker?
    /// The snapshot's follows within `config.networkRecentDays` of `now`.
    public let recentFollows: RecentFollows
    private let simple: ModelSimpleSource?
    private let scratch: ScratchPool

    public init(
        view: LiveView, leaderboards: Leaderboards, now: Timestamp, config: BlendConfig = BlendConfig(),
        scorer: (any PairScorer)? = nil, edgeIndex: (any EdgeIndex)? = nil, ranker: FollowRanker? = nil
    ) {
        self.view = view
        self.leaderboards = leaderboards
        self.now = now
        self.config = config
        self.scorer = scorer
        self.edgeIndex = edgeIndex
        self.ranker = ranker
        simple = scorer.map { ModelSimpleSource(scorer: $0, snapshot: view.snapshot) }
        scratch = ScratchPool(users: view.snapshot.userCount)
        recentFollows = RecentFollows(snapshot: view.snapshot, now: now, days: config.networkRecentDays)
    }

    /// "Accounts like @x": the `k` accounts most like `account`, without flagged (or unlisted)
    /// accounts; for `viewer`, also without the viewer, the viewer's follows, blocks and dismissals.
    public func similarAccounts(to account: UserIndex, k: Int, for viewer: UserIndex? = nil) -> [SimilarAccount] {
        let view = self.view
        let eligibility = viewer.map { Eligibility(user: $0, view: view, now: now, impressions: config.impressions) }
        return SimilarAccounts(config: config.similar).similar(to: account, k: k, view: view, scorer: scorer, scratch: scratch) { v in
            if let eligibility { return eligibility.allows(v) }
            return Int(v) < view.userCount && view.flags(of: v).isEmpty
        }
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

    /// The scorer for a request: the model's, folded in for a user it has not seen who follows someone.
    func scorerFor(_ r: FollowRequest) -> (any PairScorer)? {
        guard let s = scorer else { return nil }
        if !s.canScore(user: r.user), !r.eligibility.followees.isEmpty { return s.foldingIn(user: r.user, followees: r.eligibility.followees) }
        return s
    }

    /// The ranking stage's candidates: the union of every source's top `perSource` (eligible
    /// users only), each once, with the list of the source that ranked it best; and the lists.
    public func rankingCandidates(
        _ r: FollowRequest, perSource n: Int, filtered: inout FilterCounts
    ) -> (union: [Candidate], lists: [SourceKind: [Candidate]]) {
        var lists: [SourceKind: [Candidate]] = [:]
        lists[.engagedAuthors] = EngagedAuthorsSource().candidates(for: r, limit: n, filtered: &filtered)
        let fof = FolloweesOfFolloweesSource(limits: config.expansion).candidates(for: r, limit: max(n, config.graphBudget * 3 / 4), filtered: &filtered)
        let co = CoFollowersSource(limits: config.expansion).candidates(for: r, limit: max(n, config.graphBudget / 4), filtered: &filtered)
        lists[.followeesOfFollowees] = Array(fof.prefix(n))
        lists[.coFollowers] = Array(co.prefix(n))
        lists[.followsYou] = FollowsYouSource().candidates(for: r, limit: n, filtered: &filtered)
        lists[.personalizedPageRank] = PersonalizedPageRankSource(maxPushes: config.pageRankPushes).candidates(for: r, limit: n, filtered: &filtered)
        let popular = PopularSource(leaderboards: leaderboards).candidates(for: r, limit: n, filtered: &filtered)
        lists[.popular] = popular
        lists[.similarToRecentFollows] = SimilarToRecentFollowsSource(config: config.similar, scorer: scorerFor(r))
            .candidates(for: r, limit: n, filtered: &filtered)
        lists[.networkRecentFollows] = NetworkRecentFollowsSource(recent: recentFollows, limits: config.expansion)
            .candidates(for: r, limit: n, filtered: &filtered)
        if let s = scorerFor(r) {
            lists[.modelGraph] = ModelGraphSource(scorer: s, leaderboards: leaderboards, budget: config.graphBudget)
                .candidates(for: r, limit: n, neighbourhood: [fof, co, popular])
            if let edgeIndex {
                lists[.modelComplex] = ModelComplexSource(scorer: s, index: edgeIndex, neighbours: config.complexNeighbours, limits: config.expansion)
                    .candidates(for: r, limit: n, filtered: &filtered)
            }
        }
        var best: [UserIndex: (rank: Int, candidate: Candidate)] = [:]
        var order: [UserIndex] = []
        for k in rankedSources {
            for (i, c) in (lists[k] ?? []).enumerated() {
                if let b = best[c.user] {
                    if i < b.rank { best[c.user] = (i, c) }
                } else {
                    best[c.user] = (i, c)
                    order.append(c.user)
                }
            }
        }
        return (order.map { best[$0]!.candidate }, lists)
    }

    /// The ranking stage's features for `user`'s candidate union (for training and evaluation).
    public func rankingFeatures(user: UserIndex, perSource n: Int) -> (candidates: [Candidate], features: FeatureMatrix) {
        let request = FollowRequest(user: user, view: view, now: now, scratch: scratch, impressions: config.impressions)
        var filtered = FilterCounts()
        let (union, lists) = rankingCandidates(request, perSource: n, filtered: &filtered)
        return (union, FollowFeatures.matrix(for: request, candidates: union.map(\.user), lists: lists, scorer: scorerFor(request),
                                                                    newFollowers: leaderboards.newFollowers))
    }

    private func contributions(_ ranker: FollowRanker, _ m: FeatureMatrix, rows: [Int]) -> [[FeatureContribution]] {
        guard ranker.explainTop > 0, !rows.isEmpty else { return rows.map { _ in [] } }
        var sub = FeatureMatrix(names: m.names)
        let w = m.names.count
        for r in rows { sub.values += m.values[(r * w)..<(r * w + w)] }
        guard let c = try? ranker.model.contributions(sub) else { return rows.map { _ in [] } }
        return rows.indices.map { i in
            let row = c[(i * (w + 1))..<(i * (w + 1) + w)]
            return row.enumerated().sorted { abs($0.element) > abs($1.element) }.prefix(ranker.explainTop)
                .filter { $0.element != 0 }
                .map { FeatureContribution(feature: m.names[$0.offset], value: $0.element) }
        }
    }

    /// Who to follow for `user`: at most `k` accounts, by the ranker when there is one and `logic`
    /// is the configured one, else by the blend of sources. `explain` adds the ranker's top
    /// per-feature contributions to each ranked item (TreeSHAP, costlier than the scoring).
    public func recommend(user: UserIndex, k: Int, logic: ModelLogic? = nil, explain: Bool = false) -> FollowAnswer {
        let request = FollowRequest(user: user, view: view, now: now, scratch: scratch, impressions: config.impressions)
        let demotion = request.eligibility.demotion
        guard !demotion.isEmpty else { return recommend(request, k: k, logic: logic, explain: explain) }
        // Demoted items move down the list: ask for enough extra items to take their places.
        var answer = recommend(request, k: k + min(demotion.count, 50), logic: logic, explain: explain)
        answer.items = Self.demote(answer.items, by: demotion, k: k)
        answer.sources = answer.items.reduce(into: [:]) { $0[$1.source, default: 0] += 1 }
        return answer
    }

    /// Impression discounting: the item at place `i` (0-based) is ordered by `(i + 1) / m`, where `m`
    /// is its multiplier (1 when not demoted); on a tie the item that was not demoted goes first,
    /// then the original order. The first `k` remain.
    public static func demote(_ items: [UserRecommendation], by multiplier: [UserIndex: Double], k: Int) -> [UserRecommendation] {
        let keyed = items.enumerated().map { (i, item) in
            (key: Double(i + 1) / (multiplier[item.user] ?? 1), demoted: multiplier[item.user] == nil ? 0 : 1, i: i, item: item)
        }
        return Array(keyed.sorted { ($0.key, $0.demoted, $0.i) < ($1.key, $1.demoted, $1.i) }.prefix(k).map { item in
            var r = item.item
            r.demotion = multiplier[r.user]
            return r
        })
    }

    private func recommend(_ request: FollowRequest, k: Int, logic: ModelLogic?, explain: Bool) -> FollowAnswer {
        let user = request.user
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
        if let ranker, logic == nil || logic == config.logic {
            if ranker.engagedFirst { add(engaged, max: config.engagedQuota ?? k) }
            let (union, lists) = rankingCandidates(request, perSource: ranker.perSource, filtered: &filtered)
            let rest = union.filter { !taken.contains($0.user) }
            if !rest.isEmpty, items.count < k {
                let m = ranker.columns(FollowFeatures.matrix(for: request, candidates: rest.map(\.user), lists: lists, scorer: scorerFor(request),
                                                                    newFollowers: leaderboards.newFollowers))
                // The columns match the model (checked when the ranker was made): scoring fails only
                // inside XGBoost, and then the list is the popular fallback below.
                if let scores = try? ranker.model.scores(m) {
                    let order = topK(Array(rest.indices), k: k - items.count) { scores[$0] }
                    let chosen = order.map { i in Candidate(user: rest[i].user, score: scores[i], source: rest[i].source, evidence: rest[i].evidence) }
                    // Per-feature contributions (TreeSHAP) cost more than the scoring itself: only when asked.
                    let explained = explain ? contributions(ranker, m, rows: order) : order.map { _ in [] }
                    let before = items.count
                    add(chosen, max: k)
                    for j in before..<items.count { items[j].contributions = explained[j - before] }
                }
            }
            add(PopularSource(leaderboards: leaderboards).candidates(for: request, limit: k + 100, filtered: &filtered), max: k)
            return FollowAnswer(items: items, coldStart: false, filtered: filtered, sources: sources)
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
            let similar = w.similarToRecent > 0
                ? SimilarToRecentFollowsSource(config: config.similar, scorer: scorer).candidates(for: request, limit: 100, filtered: &filtered) : []
            let network = w.networkRecent > 0
                ? NetworkRecentFollowsSource(recent: recentFollows, limits: config.expansion).candidates(for: request, limit: 100, filtered: &filtered)
                : []
            add(FusionWeights.fuse([(w.model, model), (w.coFollowers, coFollowed), (w.followeesOfFollowees, expansion),
                                    (w.followsYou, followsYou), (w.similarToRecent, similar), (w.networkRecent, network)]), max: k)
        } else {
            add(model, max: config.modelQuota ?? k)
        }
        add(expansion, max: k)
        add(coFollowed, max: k)
        add(popular, max: k)
        return FollowAnswer(items: items, coldStart: false, filtered: filtered, sources: sources)
    }
}
