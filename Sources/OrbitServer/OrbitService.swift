import Foundation
import Hummingbird
import Logging
import OrbitCore
import OrbitStore
import ServiceLifecycle

/// The recommendation service: a store, the serving state derived from it, the background work
/// that keeps that state fresh, and the HTTP API over it (`orbit serve`).
public final class OrbitService: Sendable {
    public let configuration: ServerConfiguration
    public let store: any Store
    public let logger: Logger
    let state = StateBox()
    let sync: Synchronizer
    let refresher: Refresher
    let metrics: ServerMetrics
    let auth: TokenAuth

    /// `configuration.writeTokens` must not be empty (`orbit serve` makes one when none is given).
    /// `executable` is the `orbit` binary that a retraining in a child process runs
    /// (`retrainIn: process`); without it such a retraining fails with `RefreshError.noExecutable`.
    public init(configuration: ServerConfiguration, store: any Store, logger: Logger, executable: String? = nil) {
        precondition(!configuration.writeTokens.isEmpty, "a service needs at least one write token")
        self.configuration = configuration
        self.store = store
        self.logger = logger
        let metrics = ServerMetrics()
        self.metrics = metrics
        sync = Synchronizer(store: store, state: state, logger: logger)
        refresher = Refresher(store: store, sync: sync, state: state, configuration: configuration, logger: logger, metrics: metrics,
                              executable: executable)
        auth = TokenAuth(writeTokens: configuration.writeTokens, readTokens: configuration.readTokens)
    }

    /// True once a snapshot is being served.
    public var isReady: Bool { state.current != nil }

    /// Loads the first snapshot and the model files; the service answers reads after this.
    public func loadInitialState() async throws {
        try await refresher.refresh(retrain: false)
    }

    /// Rebuilds the snapshot now, retraining when asked, and swaps it in.
    @discardableResult
    public func refresh(retrain: Bool) async throws -> RefreshReport {
        try await refresher.refresh(retrain: retrain)
    }

    /// Applies the store's changes made by other processes (what the poller does on its schedule).
    public func catchUp() async throws { try await sync.catchUp() }

    /// The router: one route collection per resource of `API` (each route behind its metrics and auth
    /// middleware), JSON errors for anything unmatched, and request logs.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.add(middleware: LogRequestsMiddleware(.debug))
        let api = API(service: self)
        router.add(middleware: MethodNotAllowedMiddleware(routes: api.routes().map(\.0)))
        for resource in api.resources() { router.addRoutes(api.collection(resource.routes)) }
        return router
    }

    /// The HTTP application with the background refresher as one of its services; `runService()`
    /// runs both until SIGTERM or SIGINT, then drains in-flight requests and returns.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleSeconds * 1e9)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "orbit"),
            services: [BackgroundWork(service: self)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Sets the gauges that are read off the state at scrape time.
    func updateGauges() async {
        guard let s = state.current else { return }
        let now = Date()
        metrics.gauge("snapshot_age", "seconds", "Seconds since the served snapshot was built", now.timeIntervalSince(s.engine.builtAt))
        metrics.gauge("snapshot_version", "", "Store version of the served snapshot", Double(s.engine.snapshot.version))
        metrics.gauge("overlay_changes", "", "Changes applied on top of the snapshot", Double(s.overlay.changeCount))
        if let m = s.engine.models.followStatus {
            metrics.gauge("model_age", "seconds", "Seconds since the model was trained", labels: [("model", "follow")], now.timeIntervalSince(m.trainedAt))
        }
        if let m = s.engine.models.clickStatus {
            metrics.gauge("model_age", "seconds", "Seconds since the model was trained", labels: [("model", "click")], now.timeIntervalSince(m.trainedAt))
        }
        let last = await sync.lastCatchUp
        metrics.gauge("ingest_lag", "seconds", "Seconds since the overlay last caught up with the store", now.timeIntervalSince(last))
        if let v = try? await store.currentVersion() {
            metrics.gauge("ingest_lag", "versions", "Store changes not yet applied to the overlay", Double(max(0, v - s.overlay.version)))
        }
    }
}

/// Turns every error into the JSON error body (unmatched routes, Hummingbird's own errors,
/// anything unexpected), so clients always get `{"error": ...}`.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            throw e
        } catch {
            let e = APIError.answering(error, request: request)
            if e.code == "internal" { logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"]) }
            throw e
        }
    }
}

extension APIError {
    /// The JSON error a client gets for any error: API errors as they are, store errors by what
    /// they mean (unavailable 503, damaged 500), Hummingbird's own by their status, anything else 500.
    static func answering(_ error: any Error, request: Request) -> APIError {
        switch error {
        case let e as APIError: return e
        // A store read on the way (catching up, a version): the same statuses as a refused write.
        case let e as StoreError: return API.apiError(e, events: [], paths: [])
        case let e as any HTTPResponseError:
            let code = e.status == .notFound ? "not_found" : "http_\(e.status.code)"
            let message = e.status == .notFound ? "no route \(request.method.rawValue) \(request.uri.path.prefix(200))" : e.status.reasonPhrase
            return APIError(e.status, code, message)
        default: return APIError(.internalServerError, "internal", "an unexpected error; see the server log")
        }
    }
}

/// Counts requests and times them under the route's own path (`/v1/users/:id`, not each id), with
/// the status the client gets, errors included.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics
    let route: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(route: route, method: request.method.rawValue, status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = APIError.answering(error, request: request).status.code
            metrics.request(route: route, method: request.method.rawValue, status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}

/// Checks the bearer token a route's access level asks for before the handler runs.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let auth: TokenAuth
    let access: Access

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try auth.check(access, authorization: request.headers[.authorization])
        return try await next(request, context)
    }
}

/// 405 with `Allow` for a method a known path does not serve (the router alone would answer 404,
/// which tells a client the path is wrong when only the method is).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    /// Path templates split into segments (":id" matches any one segment) with their methods.
    let templates: [(segments: [Substring], methods: [String])]

    init(routes: [RouteSpec]) {
        var byPath: [String: [String]] = [:]
        var order: [String] = []
        for r in routes {
            if byPath[r.path] == nil { order.append(r.path) }
            byPath[r.path, default: []].append(r.method.rawValue)
        }
        templates = order.map { ($0.split(separator: "/"), byPath[$0]!) }
    }

    func allowed(_ path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: [String] = []
        for t in templates where t.segments.count == parts.count
            && zip(t.segments, parts).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) {
            methods += t.methods
        }
        return methods.isEmpty ? nil : methods
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let method = request.method.rawValue
        if let methods = allowed(request.uri.path), !methods.contains(method), !(method == "HEAD" && methods.contains("GET")) {
            var r = try APIError(.methodNotAllowed, "method_not_allowed",
                                 "\(method.prefix(20)) is not served here; this path takes \(methods.joined(separator: ", "))")
                .response(from: request, context: context)
            r.headers[.allow] = methods.joined(separator: ", ")
            return r
        }
        return try await next(request, context)
    }
}

/// Request logs at a chosen level (debug by default: a busy server answers thousands a second).
struct LogRequestsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let level: Logger.Level
    init(_ level: Logger.Level) { self.level = level }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        context.logger.log(level: level, "request", metadata: ["method": "\(request.method.rawValue)", "path": "\(request.uri.path)"])
        return try await next(request, context)
    }
}

/// The background work of a service: the first load, polling the store for other replicas' writes,
/// and rebuilding and retraining on schedule. Ends on graceful shutdown.
struct BackgroundWork: Service {
    let service: OrbitService

    func run() async throws {
        let c = service.configuration
        let log = service.logger
        try? await cancelWhenGracefulShutdown {
            while !service.isReady {
                do {
                    try await service.loadInitialState()
                } catch {
                    log.error("initial load failed; retrying in 5 s", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .seconds(5))
                }
            }
            var lastRefresh = ContinuousClock.now, lastRetrain = ContinuousClock.now, lastPoll = ContinuousClock.now
            let tick = Duration.milliseconds(Int64(max(50, min(1_000, (c.pollSeconds > 0 ? c.pollSeconds : 1) * 1_000))))
            try await withThrowingDiscardingTaskGroup { group in
                while true {
                    try await Task.sleep(for: tick)
                    let now = ContinuousClock.now
                    if c.pollSeconds > 0, now - lastPoll >= .milliseconds(Int64(c.pollSeconds * 1_000)) {
                        lastPoll = now
                        do { try await service.sync.catchUp() } catch { log.warning("polling the store failed", metadata: ["error": "\(error)"]) }
                    }
                    var retrainDue = c.retrainSeconds > 0 && now - lastRetrain >= .milliseconds(Int64(c.retrainSeconds * 1_000))
                    if retrainDue, c.retrainIn == .process {
                        // The child trains beside the schedule of rebuilds. Retrainings start every
                        // `retrainSeconds`, one at a time: one due while another trains waits for it.
                        retrainDue = false
                        if await !service.refresher.trainingInChild {
                            lastRetrain = now
                            group.addTask {
                                do { try await service.refresher.refresh(retrain: true) } catch {
                                    if Task.isCancelled {
                                        // A graceful shutdown terminates the child: not a failure.
                                        log.info("scheduled retraining cancelled: the server is stopping", metadata: ["error": "\(error)"])
                                    } else {
                                        log.error("scheduled retraining failed; the models in service keep serving", metadata: ["error": "\(error)"])
                                    }
                                }
                            }
                        }
                    }
                    let refreshDue = c.refreshSeconds > 0 && now - lastRefresh >= .milliseconds(Int64(c.refreshSeconds * 1_000))
                    if retrainDue || refreshDue || service.state.current?.needsRebuild == true {
                        lastRefresh = now
                        if retrainDue { lastRetrain = now }
                        do { try await service.refresher.refresh(retrain: retrainDue) } catch {
                            log.error("scheduled refresh failed; the previous engine keeps serving", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }
}
