import Foundation
import OrbitEngine
import OrbitRecommend
import OrbitStore

/// Everything `orbit serve` can be told: where to listen, which store, tokens, limits and the
/// refresh schedule. Read from a JSON file, then `ORBIT_*` environment variables, then flags
/// (each later source overrides the earlier one).
public struct ServerConfiguration: Codable, Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// A SQLite file path, or a `postgres://user[:password]@host[:port]/database` URL.
    public var store = "orbit-data/orbit.sqlite"
    /// Bearer tokens accepted for writes and admin routes. Empty: a random token is made at
    /// start and logged, so a server is never open for writes by accident.
    public var writeTokens: [String] = []
    /// Bearer tokens for reads; empty means reads are open.
    public var readTokens: [String] = []
    /// Trained follow model (NeuMF file); used when it exists, written when the server retrains.
    public var followModel = "orbit-data/follow.model"
    /// Click model (JSON); used when it exists, written when the server retrains.
    public var clickModel = "orbit-data/click.json"
    /// What an acknowledged write survives on the SQLite store: `full` (the default: a power loss
    /// too) or `normal` (a process crash; faster for small writes). PostgreSQL keeps its server's
    /// setting (`synchronous_commit` on by default).
    public var durability: Durability = .full
    /// Rebuild the snapshot from the store every this many seconds (0: only on demand).
    public var refreshSeconds: Double = 600
    /// Retrain the models every this many seconds (0: only on demand through the admin route).
    public var retrainSeconds: Double = 0
    /// Where retraining runs: `process` (the default), a child `orbit train all` at a low CPU
    /// priority, so that requests keep the cores they need and the training's memory goes back to
    /// the system when it ends; `server`, a thread of the serving process (for services embedded
    /// without the `orbit` executable).
    public var retrainIn: RetrainPlacement = .process
    /// The CPU niceness of the retraining process, or thread (0…19; 19: it runs only on time
    /// requests leave).
    public var retrainNice = 19
    /// Run the retraining in Linux's idle scheduling class (`SCHED_IDLE`): it gets a core only
    /// when no request wants it. With the child process, every thread of it (`chrt --idle`);
    /// with `retrainIn: server`, the training's own thread.
    public var retrainIdle = true
    /// Rebuild by folding the store's change log since the previous snapshot into it (the default)
    /// instead of reading every table and building anew. Every table is read at the first rebuild,
    /// after a bulk import, after more than 2,000,000 changes, when the log does not apply to the
    /// snapshot (logged as a warning), at a retraining in this process (it needs the raw
    /// interaction log), and at every rebuild when this is false. Costs no memory beyond the
    /// served snapshot's.
    public var replayRebuilds = true
    /// The CPU niceness of the thread that reads and builds a new snapshot (0…19): a rebuild of a
    /// large store takes seconds of CPU, and at 10 requests keep the cores first.
    public var rebuildNice = 10
    /// Poll the store for other replicas' writes every this many seconds (0: never; one process alone).
    public var pollSeconds: Double = 1
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Most events in one batch.
    public var maxBatch = 10_000
    /// Largest `k` a recommendation request may ask for.
    public var maxK = 500
    /// Edges read per graph-expansion step at most: bounds the request time of users who follow
    /// hundreds of accounts, at some cost in reach (see BENCHMARKS.md).
    public var expansionEdges = ExpansionLimits().edgesPerStep
    /// What retraining does: the same `TrainingPlan` (and defaults) as `orbit train`.
    public var training = TrainingPlan()
    /// How suggestions shown repeatedly without a follow are demoted, then filtered.
    public var impressions = ImpressionDiscount()
    /// A connection with no request for this many seconds is closed: idle or stalled clients do
    /// not hold the server's file descriptors for ever.
    public var idleSeconds: Double = 60

    public init() {}

    /// Keys absent from a file keep their defaults; unknown keys are ignored.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ServerConfiguration()
        host = try c.decode(.host, default: d.host)
        port = try c.decode(.port, default: d.port)
        store = try c.decode(.store, default: d.store)
        writeTokens = try c.decode(.writeTokens, default: d.writeTokens)
        readTokens = try c.decode(.readTokens, default: d.readTokens)
        followModel = try c.decode(.followModel, default: d.followModel)
        clickModel = try c.decode(.clickModel, default: d.clickModel)
        durability = try c.decode(.durability, default: d.durability)
        refreshSeconds = try c.decode(.refreshSeconds, default: d.refreshSeconds)
        retrainSeconds = try c.decode(.retrainSeconds, default: d.retrainSeconds)
        retrainIn = try c.decode(.retrainIn, default: d.retrainIn)
        retrainNice = try c.decode(.retrainNice, default: d.retrainNice)
        rebuildNice = try c.decode(.rebuildNice, default: d.rebuildNice)
        retrainIdle = try c.decode(.retrainIdle, default: d.retrainIdle)
        replayRebuilds = try c.decode(.replayRebuilds, default: d.replayRebuilds)
        pollSeconds = try c.decode(.pollSeconds, default: d.pollSeconds)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: d.maxBodyBytes)
        maxBatch = try c.decode(.maxBatch, default: d.maxBatch)
        maxK = try c.decode(.maxK, default: d.maxK)
        expansionEdges = try c.decode(.expansionEdges, default: d.expansionEdges)
        training = try c.decode(.training, default: d.training)
        impressions = try c.decode(.impressions, default: d.impressions)
        idleSeconds = try c.decode(.idleSeconds, default: d.idleSeconds)
    }

    /// Environment variables read by `applyingEnvironment`, with what they set.
    public static let environmentVariables: [(String, String)] = [
        ("ORBIT_HOST", "address to listen on"),
        ("ORBIT_PORT", "port to listen on"),
        ("ORBIT_STORE", "SQLite path or postgres:// URL"),
        ("ORBIT_WRITE_TOKENS", "comma-separated bearer tokens for writes and admin routes"),
        ("ORBIT_READ_TOKENS", "comma-separated bearer tokens for reads (unset: reads are open)"),
        ("ORBIT_FOLLOW_MODEL", "follow model file"),
        ("ORBIT_CLICK_MODEL", "click model file"),
        ("ORBIT_DURABILITY", "what an acknowledged SQLite write survives: full (power loss, default) or normal (process crash)"),
        ("ORBIT_REFRESH_SECONDS", "snapshot rebuild interval (0: on demand)"),
        ("ORBIT_RETRAIN_SECONDS", "model retraining interval (0: on demand)"),
        ("ORBIT_RETRAIN_IN", "where retraining runs: process (a child orbit train all, default) or server (a thread)"),
        ("ORBIT_RETRAIN_NICE", "CPU niceness of the retraining process, 0…19 (default 19)"),
        ("ORBIT_RETRAIN_IDLE", "true: retraining in Linux's idle scheduling class (default), false: at its niceness only"),
        ("ORBIT_REBUILD_NICE", "CPU niceness of the snapshot rebuild's thread, 0…19 (default 10)"),
        ("ORBIT_POLL_SECONDS", "interval of polling the store for other replicas' writes (0: never)"),
        ("ORBIT_EXPANSION_EDGES", "edges read per graph-expansion step at most"),
        ("ORBIT_IDLE_SECONDS", "close a connection idle for this many seconds"),
    ]

    /// Reads a JSON configuration file; keys absent from the file keep their defaults.
    public static func load(file path: String) throws(ConfigurationError) -> ServerConfiguration {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(ServerConfiguration.self, from: data)
        } catch let e as DecodingError {
            throw .invalid(path: path, reason: DecodingErrorDescription(e).text)
        } catch {
            throw .invalid(path: path, reason: "\(error)")
        }
    }

    /// This configuration with the `ORBIT_*` variables of `environment` applied.
    public func applyingEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> ServerConfiguration {
        var c = self
        func number<T: LosslessStringConvertible>(_ key: String, _ apply: (T) -> Void) throws(ConfigurationError) {
            guard let raw = environment[key] else { return }
            guard let v = T(raw.trimmingCharacters(in: .whitespaces)) else {
                throw .invalid(path: key, reason: "\"\(raw)\" is not a number")
            }
            apply(v)
        }
        /// One of a few words (case and surrounding spaces ignored).
        func word<T>(_ key: String, _ expected: String, _ parse: (String) -> T?, _ apply: (T) -> Void) throws(ConfigurationError) {
            guard let raw = environment[key] else { return }
            guard let v = parse(raw.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw .invalid(path: key, reason: "\"\(raw.prefix(40))\" is not \(expected)")
            }
            apply(v)
        }
        func list(_ raw: String) -> [String] {
            raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let v = environment["ORBIT_HOST"] { c.host = v }
        try number("ORBIT_PORT") { c.port = $0 }
        if let v = environment["ORBIT_STORE"] { c.store = v }
        if let v = environment["ORBIT_WRITE_TOKENS"] { c.writeTokens = list(v) }
        if let v = environment["ORBIT_READ_TOKENS"] { c.readTokens = list(v) }
        if let v = environment["ORBIT_FOLLOW_MODEL"] { c.followModel = v }
        if let v = environment["ORBIT_CLICK_MODEL"] { c.clickModel = v }
        try word("ORBIT_DURABILITY", "full or normal", Durability.init(rawValue:)) { c.durability = $0 }
        try number("ORBIT_REFRESH_SECONDS") { c.refreshSeconds = $0 }
        try number("ORBIT_RETRAIN_SECONDS") { c.retrainSeconds = $0 }
        try word("ORBIT_RETRAIN_IN", "process or server", RetrainPlacement.init(rawValue:)) { c.retrainIn = $0 }
        try number("ORBIT_RETRAIN_NICE") { c.retrainNice = $0 }
        try number("ORBIT_REBUILD_NICE") { c.rebuildNice = $0 }
        try word("ORBIT_RETRAIN_IDLE", "true or false", Bool.init) { c.retrainIdle = $0 }
        try number("ORBIT_POLL_SECONDS") { c.pollSeconds = $0 }
        try number("ORBIT_EXPANSION_EDGES") { c.expansionEdges = $0 }
        try number("ORBIT_IDLE_SECONDS") { c.idleSeconds = $0 }
        return c
    }

    /// Refuses values the server cannot run with, saying which and why.
    public func validated() throws(ConfigurationError) -> ServerConfiguration {
        func check(_ ok: Bool, _ key: String, _ why: String) throws(ConfigurationError) {
            if !ok { throw .invalid(path: key, reason: why) }
        }
        try check((0...65_535).contains(port), "port", "must be 0…65535 (0: any free port)")
        try check(!store.isEmpty, "store", "must name a SQLite file or a postgres:// URL")
        try check(refreshSeconds >= 0 && retrainSeconds >= 0 && pollSeconds >= 0, "refreshSeconds/retrainSeconds/pollSeconds",
                  "must not be negative")
        try check((0...19).contains(retrainNice), "retrainNice", "must be 0…19 (a niceness; 19 is the lowest priority)")
        try check((0...19).contains(rebuildNice), "rebuildNice", "must be 0…19 (a niceness; 19 is the lowest priority)")
        try check((1_024...(256 << 20)).contains(maxBodyBytes), "maxBodyBytes", "must be 1 KiB…256 MiB")
        try check((1...1_000_000).contains(maxBatch), "maxBatch", "must be 1…1,000,000")
        try check((1...10_000).contains(maxK), "maxK", "must be 1…10,000")
        try check(idleSeconds > 0 && idleSeconds <= 86_400, "idleSeconds", "must be more than 0 and at most 86400")
        try check(expansionEdges >= 100, "expansionEdges", "must be at least 100 (it bounds the edges read per expansion step)")
        try check((writeTokens + readTokens).allSatisfy { $0.utf8.count >= 16 }, "writeTokens/readTokens",
                  "each token needs at least 16 characters")
        do { try impressions.validate() } catch { throw .invalid(path: "impressions", reason: error.description) }
        do { try training.validate() } catch {
            if case .invalidPlan(let key, let why) = error { throw .invalid(path: "training.\(key)", reason: why) }
            throw .invalid(path: "training", reason: error.description)
        }
        return self
    }
}

/// Why a configuration was refused.
public enum ConfigurationError: Error, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read the configuration file \(path): \(reason)"
        case .invalid(let path, let reason): "configuration \(path): \(reason)"
        }
    }
}

