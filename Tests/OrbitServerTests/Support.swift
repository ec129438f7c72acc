import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OrbitCore
import OrbitServer
import OrbitStore
import OrbitSynth
import Synchronization
import TestThreads
import Testing

/// A service over a small generated network in a fresh SQLite store, and helpers to talk HTTP to it.
struct ServerFixture: Sendable {
    static let writeToken = "test-write-token-0123456789"
    static let readToken = "test-read-token-0123456789"

    let dir: String
    let store: SQLiteStore
    let service: OrbitService
    let network: SyntheticNetwork

    static func make(
        users: Int = 300, seed: UInt64 = 11, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ServerFixture {
        let dir = NSTemporaryDirectory() + "orbit-server-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var cfg = SynthConfig()
        cfg.users = users
        cfg.seed = seed
        let net = Generator(config: cfg).generate()
        let paths = try net.writeCSV(to: dir + "/gen")
        let store = try SQLiteStore(path: dir + "/s.sqlite")
        _ = try await store.importFiles(
            paths.map { ImportSource(path: $0, format: ImportFormat.detect(path: $0)!) }, options: ImportOptions(), progress: nil)
        var c = ServerConfiguration()
        c.port = 0
        c.store = dir + "/s.sqlite"
        c.writeTokens = [writeToken]
        c.followModel = dir + "/follow.model"
        c.clickModel = dir + "/click.json"
        c.refreshSeconds = 0
        c.pollSeconds = 0
        c.training.follow.factors = 4
        c.training.follow.layers = [8, 4]
        c.training.follow.epochs = 2
        c.training.follow.validationUsers = 50
        c.training.follow.refit = false
        c.training.threads = 1
        // The suite keeps both cores busy: a retraining in the idle class would wait for it.
        c.retrainIdle = false
        c.retrainNice = 0
        // A ranker sized for a few hundred users: retraining stays a few seconds under a loaded CI.
        c.training.ranker.parameters.trees = 20
        c.training.ranker.users = 200
        c.training.ranker.perSource = 20
        // The refit with the check slice is one more feature pass and fit per retraining: one test
        // covers it (RankerServingTests), the rest of the suite spares the CPU.
        c.training.ranker.refit = false
        configure(&c)
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .warning
        // Retraining runs as `orbit serve` runs it: a child `orbit train all` (the debug build).
        let service = OrbitService(configuration: c, store: store, logger: logger, executable: OrbitCommand.executable.path)
        try await service.loadInitialState()
        return ServerFixture(dir: dir, store: store, service: service, network: net)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// A loaded service over `store` with no models (their files under `dir` do not exist),
    /// polling the store every `poll` seconds (0: never), as `orbit serve` would run.
    static func service(on store: any Store, dir: String, poll: Double = 0) async throws -> OrbitService {
        var c = ServerConfiguration()
        c.port = 0
        c.writeTokens = [writeToken]
        c.followModel = dir + "/none.model"
        c.clickModel = dir + "/none.json"
        c.refreshSeconds = 0
        c.pollSeconds = poll
        var logger = Logger(label: "orbit-test")
        logger.logLevel = .warning
        let s = OrbitService(configuration: c, store: store, logger: logger)
        try await s.loadInitialState()
        return s
    }

    /// Starts the real server on a free loopback port and runs `body` against it.
    func withServer<T: Sendable>(_ body: @Sendable (HTTPTestClient) async throws -> T) async throws -> T {
        try await service.live { client in try await body(HTTPTestClient(raw: client)) }
    }

    /// Runs `body` against the router in process (no sockets, so no client read timeout): for
    /// tests whose requests may be slow on a loaded machine (a debug build retraining beside them).
    func withRouter<T: Sendable>(_ body: @Sendable (HTTPTestClient) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(TestExecutor.servers) {
            try await service.application().test(.router) { client in try await body(HTTPTestClient(raw: client)) }
        }
    }

    /// What the store holds: equal before and after means nothing was written.
    func fingerprint() async throws -> StoreCounts { try await store.counts() }
}

extension OrbitService {
    /// Starts the real server on a free loopback port and runs `body` against it, the server's
    /// tasks and the client's on `TestExecutor.servers`: tests beside it may keep the other
    /// threads busy for longer than its client waits for an answer.
    func live<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(TestExecutor.servers) {
            try await application().test(.live, body)
        }
    }
}

/// A response: status and the JSON body parsed (nil when not JSON).
struct HTTPResult: @unchecked Sendable {
    let status: Int
    let text: String
    let json: Any?
    var headers: HTTPFields = [:]

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var error: [String: Any] { object["error"] as? [String: Any] ?? [:] }
    var errorWhere: String? { error["where"] as? String }
    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
}

/// Thin wrapper over Hummingbird's live test client.
struct HTTPTestClient: Sendable {
    let raw: any TestClientProtocol

    var port: Int { raw.port ?? 0 }

    func request(
        _ method: HTTPRequest.Method, _ uri: String, body: String? = nil, token: String? = nil,
        contentType: String? = "application/json", headers extra: HTTPFields = [:]
    ) async throws -> HTTPResult {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil, let contentType { headers[.contentType] = contentType }
        let r = try await raw.executeRequest(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        let text = String(buffer: r.body)
        return HTTPResult(status: Int(r.status.code), text: text, json: try? JSONSerialization.jsonObject(with: Data(text.utf8)), headers: r.headers)
    }

    func get(_ uri: String, token: String? = nil) async throws -> HTTPResult { try await request(.get, uri, token: token) }

    func post(_ uri: String, _ body: String, token: String? = ServerFixture.writeToken) async throws -> HTTPResult {
        try await request(.post, uri, body: body, token: token)
    }
}

/// Users a recommendation answer lists.
func users(_ r: HTTPResult) -> [String] { r.items.compactMap { $0["user"] as? String } }

/// A request that got no answer within its limit.
struct Unanswered: Error, CustomStringConvertible {
    var description: String
}

/// `body`'s result, or `Unanswered` once `limit` has passed without one. The body is left to end
/// on its own: a request that is never answered fails its test instead of holding the whole suite
/// (a test's time limit records the issue but still waits for the test's tasks).
func answered<T: Sendable>(within limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let once = Once(c)
        // Unstructured tasks inherit no executor preference: these name the servers' threads.
        Task(executorPreference: TestExecutor.servers) {
            do { once.finish(.success(try await body())) } catch { once.finish(.failure(error)) }
        }
        Task(executorPreference: TestExecutor.servers) {
            try? await Task.sleep(for: limit)
            once.finish(.failure(Unanswered(description: "\(what): no answer within \(limit)")))
        }
    }
}

/// A continuation resumed by the first of several answers.
private final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>
    init(_ c: CheckedContinuation<T, any Error>) { continuation = Mutex(c) }
    func finish(_ r: Result<T, any Error>) {
        continuation.withLock { c in let taken = c; c = nil; return taken }?.resume(with: r)
    }
}
