import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
    /// Changes folded into the previous snapshot; nil when every table was read.
    public var replayedChanges: Int?
    public var finishedAt: Date
}

/// Why a rebuild failed; the serving state is left as it was.
public enum RefreshError: Error, CustomStringConvertible, Sendable {
    /// Retraining in the server's own thread failed.
    case training(EngineError)
    /// The retraining child process could not start, or failed.
    case trainingProcess(RetrainProcessError)
    /// `retrainIn` is `process` but the service was made without the `orbit` executable to run.
    case noExecutable

    public var description: String {
        switch self {
        case .training(let cause): "retraining failed: \(cause); the previous model keeps serving"
        case .trainingProcess(let cause): "retraining failed: \(cause.description); the previous model keeps serving"
        case .noExecutable:
            "retrainIn is process, but this service was started without the orbit executable to run `orbit train all` with; "
                + "pass it to OrbitService(executable:) or set retrainIn to server"
        }
    }
}

/// Rebuilds the engine from the store (and retrains the models when asked, by the configured
/// `TrainingPlan`, through the same `Retraining` that `orbit train` runs), then hands it to the
/// synchronizer to swap in. One rebuild at a time; a request made while one runs waits for it.
/// A retraining in a child process runs outside the rebuild's turn: the snapshot keeps being
/// rebuilt on schedule while it trains, and the rebuild after it loads the files it wrote.
actor Refresher {
    let store: any Store
    let sync: Synchronizer
    let state: StateBox
    let configuration: ServerConfiguration
    let logger: Logger
    let metrics: ServerMetrics
    /// The `orbit` executable a `process` retraining runs.
    let executable: String?
    private let gate = AsyncGate()
    private let trainingGate = AsyncGate()
    private(set) var lastReport: RefreshReport?
    private var rebuilding = false
    /// The snapshot in service, with its catalog: the next rebuild brings it forward by the change
    /// log (`replayRebuilds`). The served engine holds the same arrays, so keeping it costs nothing.
    private var base: LoadedSnapshot?
    /// True while a retraining child process runs.
    private(set) var trainingInChild = false
    /// True while a rebuild or a retraining runs.
    var running: Bool { rebuilding || trainingInChild }

    /// Why a refresh asked for now is refused, or nil when it may start. One rebuild at a time
    /// (a second would only queue behind it) and one retraining; a plain rebuild goes ahead while
    /// a retraining child trains, as the scheduled ones do, and keeps the models in service.
    func refusal(retrain: Bool) -> String? {
        if rebuilding { return "a snapshot rebuild is running; GET /v1/model says when it ends (refreshing: false), then retry" }
        if retrain && trainingInChild {
            return "a retraining is running; GET /v1/model says when it ends (refreshing: false), then retry, or ask for a rebuild without retrain"
        }
        return nil
    }

    init(store: any Store, sync: Synchronizer, state: StateBox, configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics,
         executable: String?) {
        self.executable = executable
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
        guard retrain, configuration.retrainIn == .process else { return try await rebuild(trainInThread: retrain, child: nil) }
        guard let executable else { throw RefreshError.noExecutable }
        await trainingGate.acquire()
        defer { trainingGate.release() }
        trainingInChild = true
        defer { trainingInChild = false }
        let child: (seconds: Double, report: RetrainReport)
        do {
            child = try await RetrainProcess(executable: executable, configuration: configuration, logger: logger).run()
        } catch let e as RetrainProcessError {
            throw RefreshError.trainingProcess(e)
        }
        return try await rebuild(trainInThread: false, child: child)
    }

    /// One rebuild: retrains in this process first when `trainInThread`; `child` is set when a
    /// child process has just written new model files, which this rebuild loads.
    private func rebuild(trainInThread retrain: Bool, child: (seconds: Double, report: RetrainReport)?) async throws -> RefreshReport {
        await gate.acquire()
        defer { gate.release() }
        rebuilding = true
        defer { rebuilding = false }
        let start = Date()
        // With "engine swapped" it brackets the rebuild, so that a load report can tell the
        // requests it overlapped.
        logger.info("rebuild started", metadata: ["retrain": "\(retrain)", "new_models": "\(child != nil)"])
        let nice = configuration.rebuildNice
        // The last snapshot, brought forward by the change log (a few thousand rows a minute), or,
        // at the first rebuild, after a bulk import, when turned off or when retraining here (it
        // needs the raw interaction log), every table read and built. Done on a thread of lower
        // priority: the rebuild takes the CPU that requests leave (SQLite's reads run on the
        // thread that asks).
        let (loaded, columns, replayed) = try await patchedOrRead(nice: nice, columns: retrain)
        let loadSeconds = Date().timeIntervalSince(start)
        var models = state.current?.engine.models ?? ModelSet()
        var trainSeconds = child?.seconds
        var refused: String?
        if let columns {
            let t0 = Date()
            do {
                // Threads the training starts inherit the niceness of this one.
                models = try await Self.onThread(nice: configuration.retrainNice, idle: configuration.retrainIdle) { [configuration, files, logger, models] in
                    try Retraining(plan: configuration.training, files: files).trainAll(columns, snapshot: loaded.snapshot, keeping: models) { line in
                        logger.info("training", metadata: ["step": "\(line)"])
                    }
                }
            } catch let e as EngineError {
                throw RefreshError.training(e)
            }
            trainSeconds = Date().timeIntervalSince(t0)
        } else if trainingInChild && child == nil {
            // A child is writing the model files now: a rebuild meanwhile keeps the models in
            // service rather than read a follow model beside its predecessor's ranker.
        } else {
            // A file that cannot be used never stops the snapshot from being rebuilt: it is refused,
            // logged and counted, and the models in service keep serving.
            do {
                var reloaded = try files.reloadingChanged(models, ef: configuration.training.relationIndex.ef)
                child?.report.describe(&reloaded)
                try Self.checkIDSpace(reloaded, snapshot: loaded.snapshot)
                models = reloaded
            } catch {
                refused = error.description
                metrics.modelRefused()
                logger.error("model file refused; the models in service keep serving", metadata: ["error": "\(error)"])
            }
        }
        let engine = try await Self.onThread(nice: nice) { [builder, models] in builder.build(loaded, models: models) }
        let previous = state.current
        try await sync.install(engine)
        // Only a snapshot in service becomes the next base: one from a rebuild that failed later
        // would be held beside the served one until the next rebuild.
        base = configuration.replayRebuilds ? loaded : nil
        Self.release(previous, nice: nice)
        let report = RefreshReport(
            snapshotVersion: loaded.snapshot.version, users: loaded.snapshot.userCount,
            follows: loaded.snapshot.followees.edgeCount, loadSeconds: loadSeconds, buildSeconds: engine.buildSeconds,
            retrained: retrain || child != nil, trainSeconds: trainSeconds, followModel: models.followStatus, relationIndex: models.relationsStatus,
            ranker: models.rankerStatus, clickModel: models.clickStatus, refusedModel: refused, replayedChanges: replayed, finishedAt: Date())
        lastReport = report
        logger.info("engine swapped", metadata: [
            "version": "\(report.snapshotVersion)", "users": "\(report.users)", "follows": "\(report.follows)",
            "load_s": "\(String(format: "%.2f", loadSeconds))", "build_s": "\(String(format: "%.2f", engine.buildSeconds))",
            "replayed": "\(replayed.map(String.init) ?? "full read")",
            "train_s": "\(String(format: "%.2f", child == nil ? trainSeconds ?? 0 : 0))", "retrained": "\(report.retrained)",
            "relation_index": "\(models.relations != nil)",
        ])
        return report
    }

    /// The next snapshot: `base` brought forward by the change log when it can be (with the changes'
    /// count), else built from every table read (nil count), with the columns read when `columns`.
    private func patchedOrRead(nice: Int, columns needed: Bool) async throws -> (LoadedSnapshot, Snapshot.Columns?, replayed: Int?) {
        if !needed, configuration.replayRebuilds, let base, let (next, n) = try await patched(base, nice: nice) { return (next, nil, n) }
        let c: Snapshot.Columns, catalog: Catalog
        if let reader = store as? any BlockingSnapshotRead {
            (c, catalog) = try await Self.onThread(nice: nice) { try reader.loadColumnsBlocking() }
        } else {
            (c, catalog) = try await store.loadColumns()
        }
        let loaded = try await Self.onThread(nice: nice) { LoadedSnapshot(snapshot: Snapshot.build(c), catalog: catalog) }
        return (loaded, needed ? c : nil, nil)
    }

    /// `base` brought forward by the store's change log, with the changes' count; nil when they
    /// cannot be replayed (a bulk import) or are too many to be worth it (read every table then).
    private func patched(_ base: LoadedSnapshot, nice: Int) async throws -> (LoadedSnapshot, Int)? {
        var changes: [Change] = []
        while true {
            let page = try await store.changes(since: changes.last?.version ?? base.snapshot.version, limit: 10_000)
            changes += page
            if page.count < 10_000 { break }
            if changes.count > 2_000_000 {
                logger.notice("rebuild reads every table: more than 2,000,000 changes since the last snapshot")
                return nil
            }
        }
        let outcome = try await Self.onThread(nice: nice) { [base, changes] () -> (Snapshot?, bulk: Bool) in
            guard let delta = SnapshotDelta(changes: changes, after: base.snapshot) else {
                return (nil, changes.contains { $0.operation == .bulkImport })
            }
            return (base.snapshot.applying(delta), false)
        }
        guard let snapshot = outcome.0 else {
            // A bulk import is expected to need a full read; anything else means the change log
            // does not follow the snapshot (an index out of order or out of range).
            if outcome.bulk {
                logger.info("rebuild reads every table: a bulk import since the last snapshot")
            } else {
                logger.warning("rebuild reads every table: the change log does not apply to the last snapshot (an index out of order or range)",
                               metadata: ["snapshot_version": "\(base.snapshot.version)", "changes": "\(changes.count)"])
            }
            return nil
        }
        var catalog = base.catalog
        if snapshot.userCount > catalog.users.count || snapshot.postCount > catalog.posts.count {
            let (users, posts) = try await store.externalIDs(usersFrom: Int32(catalog.users.count), postsFrom: Int32(catalog.posts.count))
            for id in users.prefix(max(0, snapshot.userCount - catalog.users.count)) { _ = catalog.users.intern(id) }
            for id in posts.prefix(max(0, snapshot.postCount - catalog.posts.count)) { _ = catalog.posts.intern(id) }
        }
        guard catalog.users.count == snapshot.userCount, catalog.posts.count == snapshot.postCount else {
            logger.warning("rebuild reads every table: the store named fewer new users or posts than the change log made",
                           metadata: ["users": "\(catalog.users.count)/\(snapshot.userCount)", "posts": "\(catalog.posts.count)/\(snapshot.postCount)"])
            return nil
        }
        return (LoadedSnapshot(snapshot: snapshot, catalog: catalog), changes.count)
    }

    /// Drops the replaced state on a thread of low priority a moment after the swap: its snapshot
    /// (hundreds of megabytes at a million users) is freed where its last reference goes, and
    /// requests that began on it end first, so none of them pays for unmapping it.
    static func release(_ previous: LiveState?, nice: Int) {
        guard let previous else { return }
        detach(nice: nice) {
            Thread.sleep(forTimeInterval: 2)
            withExtendedLifetime(previous) {}
        }
    }

    /// Starts `body` on a new thread at CPU niceness `nice`, in the idle scheduling class when `idle`.
    private static func detach(nice: Int, idle: Bool = false, _ body: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            if nice > 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(nice)) }
            if idle {
                var none = sched_param()
                _ = sched_setscheduler(0, 5, &none)  // SCHED_IDLE (Linux; glibc shows it only with _GNU_SOURCE)
            }
            body()
        }
    }

    /// Runs `body` on a thread of its own, off the cooperative pool that serves requests, at CPU
    /// niceness `nice` (0: the server's own), in the idle scheduling class when `idle`. On Linux both
    /// are the thread's, and threads it starts inherit them.
    static func onThread<T: Sendable>(nice: Int, idle: Bool = false, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            detach(nice: nice, idle: idle) {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }
}
