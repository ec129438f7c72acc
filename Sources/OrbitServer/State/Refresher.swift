import Foundation
import Logging
import NeuMF
import OrbitCore
import OrbitEngine
import OrbitRecommend
import OrbitStore

/// What one rebuild did, as the admin route and the log report it.
public struct RefreshReport: Codable, Sendable {
    public var snapshotVersion: Int64
    public var users: Int
    public var follows: Int
    public var loadSeconds: Double
    public var buildSeconds: Double
    public var retrained: Bool
    public var trainSeconds: Double?
    public var followModel: ModelStatus?
    public var relationIndex: ModelStatus?
    public var ranker: ModelStatus?
    public var clickModel: ModelStatus?
    /// A model file found at this rebuild and refused (corrupt, truncated, for another id space):
    /// why; the models already in service kept serving.
    public var refusedModel: String?
    public var finishedAt: Date
}

/// Why a rebuild failed; the serving state is left as it was.
public enum RefreshError: Error, CustomStringConvertible, Sendable {
    case training(EngineError)

    public var description: String {
        switch self {
        case .training(let cause): "retraining failed: \(cause); the previous model keeps serving"
        }
    }
}

/// Rebuilds the engine from the store (and retrains the models when asked, by the configured
/// `TrainingPlan`, through the same `Retraining` that `orbit train` runs), then hands it to the
/// synchronizer to swap in. One rebuild at a time; a request made while one runs waits for it.
actor Refresher {
    let store: any Store
    let sync: Synchronizer
    let state: StateBox
    let configuration: ServerConfiguration
    let logger: Logger
    let metrics: ServerMetrics
    private let gate = AsyncGate()
    private(set) var lastReport: RefreshReport?
    private(set) var running = false

    init(store: any Store, sync: Synchronizer, state: StateBox, configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics) {
        self.store = store
        self.sync = sync
        self.state = state
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Refuses a follow model that cannot belong to this store: one with more users than the store
    /// has ever had was trained on another id space (users are never deleted, so indices only grow).
    static func checkIDSpace(_ models: ModelSet, snapshot: Snapshot) throws(EngineError) {
        guard let m = models.follow, m.configuration.userCount > snapshot.userCount else { return }
        throw .unusableModel(
            path: models.followStatus?.path ?? "follow model",
            reason: "it was trained on \(m.configuration.userCount) users and this store has \(snapshot.userCount): another id space; retrain on this store")
    }

    nonisolated var files: ModelFiles { ModelFiles(followModel: configuration.followModel, clickModel: configuration.clickModel) }

    var builder: EngineBuilder {
        var blend = BlendConfig()
        blend.expansion.edgesPerStep = configuration.expansionEdges
        blend.impressions = configuration.impressions
        // Requests run concurrently on every core already: one scoring thread each.
        return EngineBuilder(blend: blend, scorerThreads: 1)
    }

    /// Loads a new snapshot, keeps or reloads or retrains the models, and swaps the engine in.
    @discardableResult
    func refresh(retrain: Bool) async throws -> RefreshReport {
        await gate.acquire()
        defer { gate.release() }
        running = true
        defer { running = false }
        let start = Date()
        // Retraining needs the raw interaction log for the click model; a plain rebuild does not.
        let columns = retrain ? try await store.loadColumns() : nil
        let loaded: LoadedSnapshot
        if let (c, catalog) = columns {
            loaded = LoadedSnapshot(snapshot: Snapshot.build(c), catalog: catalog)
        } else {
            loaded = try await store.loadSnapshot()
        }
        let loadSeconds = Date().timeIntervalSince(start)
        var models = state.current?.engine.models ?? ModelSet()
        var trainSeconds: Double?
        var refused: String?
        if let columns = columns?.0 {
            let t0 = Date()
            var trained = try await Self.offPool { [configuration, files, logger] () throws(EngineError) -> ModelSet in
                try Retraining(plan: configuration.training, files: files).trainFollow(loaded.snapshot) { line in
                    logger.info("training", metadata: ["epoch": "\(line)"])
                }
            }
            if let (click, status, impressions, clicked) = try Retraining(plan: configuration.training, files: files).fitClick(columns, follow: trained.follow) {
                trained.click = click
                trained.clickStatus = status
                logger.info("click model fitted", metadata: ["impressions": "\(impressions)", "clicked": "\(clicked)"])
            } else {
                trained.click = models.click
                trained.clickStatus = models.clickStatus
            }
            models = trained
            trainSeconds = Date().timeIntervalSince(t0)
        } else {
            // A file that cannot be used never stops the snapshot from being rebuilt: it is refused,
            // logged and counted, and the models in service keep serving.
            do {
                let reloaded = try files.reloadingChanged(models, ef: configuration.training.relationIndex.ef)
                try Self.checkIDSpace(reloaded, snapshot: loaded.snapshot)
                models = reloaded
            } catch {
                refused = error.description
                metrics.modelRefused()
                logger.error("model file refused; the models in service keep serving", metadata: ["error": "\(error)"])
            }
        }
        let engine = builder.build(loaded, models: models)
        try await sync.install(engine)
        let report = RefreshReport(
            snapshotVersion: loaded.snapshot.version, users: loaded.snapshot.userCount,
            follows: loaded.snapshot.followees.edgeCount, loadSeconds: loadSeconds, buildSeconds: engine.buildSeconds,
            retrained: retrain, trainSeconds: trainSeconds, followModel: models.followStatus, relationIndex: models.relationsStatus,
            ranker: models.rankerStatus, clickModel: models.clickStatus, refusedModel: refused, finishedAt: Date())
        lastReport = report
        logger.info("engine swapped", metadata: [
            "version": "\(report.snapshotVersion)", "users": "\(report.users)", "follows": "\(report.follows)",
            "load_s": "\(String(format: "%.2f", loadSeconds))", "retrained": "\(retrain)",
            "relation_index": "\(models.relations != nil)",
        ])
        return report
    }

    /// Runs training on a thread of its own, off the cooperative pool that serves requests.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws(EngineError) -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do throws(EngineError) { continuation.resume(returning: try body()) } catch {
                    continuation.resume(throwing: RefreshError.training(error))
                }
            }
        }
    }
}
