import Foundation
import NeuMF
import OrbitCore
import OrbitRecommend

/// What a served model is and where it came from, as `/v1/model` reports it.
public struct ModelStatus: Codable, Sendable, Equatable {
    public var kind: String
    public var path: String
    /// "file" (loaded at start or refresh) or "trained" (by this server).
    public var origin: String
    public var trainedAt: Date
    public var parameters: Int
    /// Users the model has rows for; later users are folded in or served by graph sources.
    public var users: Int
    public var validationHR10: Double?
    public var validationNDCG10: Double?
    public var trainSeconds: Double?
}

/// The trained models a server holds; kept across snapshot rebuilds until they are retrained.
public struct ModelSet: Sendable {
    public var follow: NeuMFModel?
    public var followStatus: ModelStatus?
    public var click: ClickModel?
    public var clickStatus: ModelStatus?

    public init(follow: NeuMFModel? = nil, followStatus: ModelStatus? = nil, click: ClickModel? = nil, clickStatus: ModelStatus? = nil) {
        self.follow = follow
        self.followStatus = followStatus
        self.click = click
        self.clickStatus = clickStatus
    }
}

/// One consistent set of derived data that requests read: a snapshot with its catalog and
/// leaderboards, and the models; built in the background and swapped as a whole.
public struct Engine: Sendable {
    public let loaded: LoadedSnapshot
    public let models: ModelSet
    /// The time recommendations are made at: the latest event in the snapshot, so that hot posts
    /// and recent leaderboards mean the same on replayed data as on live data.
    public let now: Timestamp
    /// The who-to-follow recommender over the snapshot alone; requests add their overlay.
    public let follow: FollowRecommender
    public let builtAt: Date
    public let buildSeconds: Double

    public init(loaded: LoadedSnapshot, models: ModelSet, blend: BlendConfig = BlendConfig(), builtAt: Date = Date()) {
        let start = Date()
        let s = loaded.snapshot
        self.loaded = loaded
        self.models = models
        now = Leaderboards.latestEvent(in: s)
        follow = FollowRecommender(
            view: LiveView(snapshot: s), leaderboards: Leaderboards(snapshot: s, now: now), now: now, config: blend,
            scorer: models.follow.map { NeuMFPairScorer(model: $0, threads: 1) })
        self.builtAt = builtAt
        buildSeconds = Date().timeIntervalSince(start)
    }

    public var snapshot: Snapshot { loaded.snapshot }

    /// The posts recommender over a live view, ranked by the click model when there is one.
    public func posts(view: LiveView) -> PostRecommender {
        let scorer = models.click.map { ClickModelScorer(model: $0, affinity: follow.scorer, now: now) }
        return PostRecommender(view: view, hot: follow.leaderboards.hot, now: now, scorer: scorer)
    }
}
