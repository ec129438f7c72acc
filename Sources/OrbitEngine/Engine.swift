import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend

/// What a served model is and where it came from, as `/v1/model` and the CLI report it.
public struct ModelStatus: Codable, Sendable, Equatable {
    public var kind: String
    public var path: String
    /// "file" (loaded at start or refresh) or "trained" (by this server's retraining, in its own
    /// thread or in the child process it ran).
    public var origin: String
    public var trainedAt: Date
    public var parameters: Int
    /// Users the model has rows for; later users are folded in or served by graph sources.
    public var users: Int
    public var validationHR10: Double?
    public var validationNDCG10: Double?
    public var trainSeconds: Double?

    public init(
        kind: String, path: String, origin: String, trainedAt: Date, parameters: Int, users: Int,
        validationHR10: Double? = nil, validationNDCG10: Double? = nil, trainSeconds: Double? = nil
    ) {
        self.kind = kind
        self.path = path
        self.origin = origin
        self.trainedAt = trainedAt
        self.parameters = parameters
        self.users = users
        self.validationHR10 = validationHR10
        self.validationNDCG10 = validationNDCG10
        self.trainSeconds = trainSeconds
    }
}

/// The trained models an engine serves: the follow model with its relation index, and the click
/// model; kept across snapshot rebuilds until they are retrained or their files change.
public struct ModelSet: Sendable {
    public var follow: NeuMFModel?
    public var followStatus: ModelStatus?
    /// The complex logic's index of the follow model's relation vectors (nil: `logic=complex` is refused).
    public var relations: RelationIndex?
    public var relationsStatus: ModelStatus?
    public var click: ClickModel?
    public var clickStatus: ModelStatus?
    /// The learned ranking stage of who to follow (nil: the blend serves alone).
    public var ranker: FollowRanker?
    public var rankerStatus: ModelStatus?

    public init(
        follow: NeuMFModel? = nil, followStatus: ModelStatus? = nil, relations: RelationIndex? = nil,
        relationsStatus: ModelStatus? = nil, click: ClickModel? = nil, clickStatus: ModelStatus? = nil,
        ranker: FollowRanker? = nil, rankerStatus: ModelStatus? = nil
    ) {
        self.ranker = ranker
        self.rankerStatus = rankerStatus
        self.follow = follow
        self.followStatus = followStatus
        self.relations = relations
        self.relationsStatus = relationsStatus
        self.click = click
        self.clickStatus = clickStatus
    }
}

/// One consistent set of derived data that requests read: a snapshot with its catalog and
/// leaderboards, the models, and the recommenders built over them. Built by `EngineBuilder`, in
/// the background for a server, and swapped as a whole.
public struct Engine: Sendable {
    public let loaded: LoadedSnapshot
    public let models: ModelSet
    /// The time recommendations are made at: the latest event in the snapshot, so that hot posts
    /// and recent leaderboards mean the same on replayed data as on live data.
    public let now: Timestamp
    /// The who-to-follow recommender over the snapshot alone; requests add their overlay.
    public let follow: FollowRecommender
    /// How the posts recommender ranks and mixes.
    public let browse: BrowseConfig
    public let builtAt: Date
    public let buildSeconds: Double

    init(loaded: LoadedSnapshot, models: ModelSet, blend: BlendConfig, browse: BrowseConfig, scorerThreads: Int, builtAt: Date) {
        let start = Date()
        let s = loaded.snapshot
        self.loaded = loaded
        self.models = models
        self.browse = browse
        now = Leaderboards.latestEvent(in: s)
        // A model trained on fewer users (an older snapshot) still serves the users it knows.
        follow = FollowRecommender(
            view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now, config: blend,
            scorer: models.follow.map { NeuMFPairScorer(model: $0, threads: scorerThreads) }, edgeIndex: models.relations,
            ranker: models.ranker)
        self.builtAt = builtAt
        buildSeconds = Date().timeIntervalSince(start)
    }

    public var snapshot: Snapshot { loaded.snapshot }

    /// The who-to-follow recommender over a live view (the snapshot plus the events since).
    public func follow(view: LiveView) -> FollowRecommender { follow.with(view: view) }

    /// The posts recommender over a live view, ranked by the click model when there is one.
    public func posts(view: LiveView) -> PostRecommender {
        let scorer = models.click.map { ClickModelScorer(model: $0, affinity: follow.scorer, now: now) }
        return PostRecommender(view: view, hot: follow.leaderboards.hot, now: now, config: browse, scorer: scorer)
    }

    /// Refuses a logic that has nothing to run on, instead of letting the list silently fall back
    /// to the other sources: a model logic without a follow model, `complex` without its index.
    public func check(logic: ModelLogic?) throws(EngineError) {
        guard let logic, logic != .none else { return }
        guard follow.scorer != nil else {
            throw .logicUnavailable(logic: logic.rawValue, reason: "no follow model is loaded; train one (orbit train) or ask for logic=none")
        }
        if logic == .complex && follow.edgeIndex == nil {
            throw .logicUnavailable(
                logic: logic.rawValue,
                reason: "the follow model has no relation index; train with relationIndex.build = always (orbit train --relation-index always) to build one")
        }
    }

    /// Who to follow for `user` over `view` (the snapshot alone when nil), after checking the logic;
    /// `explain` adds the ranker's per-feature contributions to each ranked item.
    public func recommendFollows(user: UserIndex, k: Int, logic: ModelLogic? = nil, view: LiveView? = nil, explain: Bool = false) throws(EngineError) -> FollowAnswer {
        try check(logic: logic)
        return follow(view: view ?? follow.view).recommend(user: user, k: k, logic: logic, explain: explain)
    }

    /// The mixed feed (SPEC §3): up to `posts` posts, then users to follow filling the slots.
    public func feed(user: UserIndex, k: Int, posts: Int, view: LiveView? = nil) -> [FeedItem] {
        let v = view ?? follow.view
        return mixedFeed(user: user, k: k, posts: posts, postRecommender: self.posts(view: v), followRecommender: follow(view: v))
    }
}

/// Builds engines: snapshot + follow model + relation index + click model → the who-to-follow
/// recommender, the posts recommender and the mixed feed. The one place the CLI, the server and
/// the benchmarks assemble them.
public struct EngineBuilder: Sendable {
    /// How the who-to-follow list is blended.
    public var blend: BlendConfig
    /// How the posts recommender mixes (longest run of one author).
    public var browse: BrowseConfig
    /// Threads of the model's batched scorer per request (a server answers many requests at once: 1).
    public var scorerThreads: Int

    public init(blend: BlendConfig = BlendConfig(), browse: BrowseConfig = BrowseConfig(), scorerThreads: Int = 0) {
        self.blend = blend
        self.browse = browse
        self.scorerThreads = scorerThreads
    }

    public func build(_ loaded: LoadedSnapshot, models: ModelSet = ModelSet(), builtAt: Date = Date()) -> Engine {
        Engine(loaded: loaded, models: models, blend: blend, browse: browse, scorerThreads: scorerThreads, builtAt: builtAt)
    }
}
