import Foundation
import Hummingbird
import Logging
import NIOCore
import OrbitCore
import OrbitEngine
import OrbitRecommend
import OrbitStore

/// One route of the API: what the router serves and what the OpenAPI document says of it.
struct RouteSpec: Sendable {
    struct Parameter: Sendable {
        var name: String
        /// "path" or "query".
        var location: String
        /// "string", "integer", "boolean" or "id" (a string with `Validate.idSchema`).
        var type: String
        var description: String
        var required = false
        var minimum: Int? = nil
        var maximum: Int? = nil
        var values: [String]? = nil
    }

    var method: HTTPRequest.Method
    /// Hummingbird form (`/v1/users/:id`); the OpenAPI document writes `{id}`.
    var path: String
    var access: Access
    var summary: String
    var parameters: [Parameter] = []
    /// Component schema of the JSON body, if the route takes one.
    var body: String? = nil
    /// Component schema of the success response ("text" for plain text).
    var response: String
    var successStatus = 200
}

typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

/// The HTTP API over one `OrbitService`: its routes, each with auth, metrics and JSON errors.
struct API: Sendable {
    let service: OrbitService
    private var configuration: ServerConfiguration { service.configuration }

    static let userID = RouteSpec.Parameter(name: "id", location: "path", type: "id", description: "External id of the user", required: true)
    static let candidateID = RouteSpec.Parameter(
        name: "candidate", location: "path", type: "id", description: "External id of the dismissed account", required: true)
    static func kParameter(max: Int, default d: Int) -> RouteSpec.Parameter {
        RouteSpec.Parameter(name: "k", location: "query", type: "integer", description: "Number of items (default \(d))", minimum: 1, maximum: max)
    }
    static let explain = RouteSpec.Parameter(
        name: "explain", location: "query", type: "boolean", description: "Add scores, filter counts and per-source counts")

    /// Every route, in the order the OpenAPI document lists them.
    func routes() -> [(RouteSpec, Handler)] { resources().flatMap(\.routes) }

    /// The routes grouped by resource: each group is served as one Hummingbird `RouteCollection`.
    func resources() -> [(name: String, routes: [(RouteSpec, Handler)])] {
        let maxK = configuration.maxK
        let operations: [(RouteSpec, Handler)] = [
            (RouteSpec(method: .get, path: "/health", access: .open, summary: "Liveness: the process answers", response: "Health"), health),
            (RouteSpec(method: .get, path: "/ready", access: .open, summary: "Readiness: the snapshot and the models are loaded (503 until then)",
                       response: "Ready"), ready),
            (RouteSpec(method: .get, path: "/metrics", access: .open, summary: "Prometheus metrics", response: "text"), metrics),
            (RouteSpec(method: .get, path: "/openapi.json", access: .open, summary: "This document", response: "OpenAPI"), openAPI),
        ]
        var events: [(RouteSpec, Handler)] = [
            (RouteSpec(method: .post, path: "/v1/events", access: .write,
                       summary: "Write a batch of events in one transaction (mode atomic), or the good ones with per-item results (mode per_item)",
                       body: "EventBatch", response: "WriteResult"), batch),
        ]
        let single: [(String, String, String)] = [
            ("/v1/users", "user", "Create a user (idempotent)"),
            ("/v1/follows", "follow", "Record a follow"),
            ("/v1/unfollows", "unfollow", "Record an unfollow"),
            ("/v1/blocks", "block", "Record a block"),
            ("/v1/unblocks", "unblock", "Remove a block"),
            ("/v1/posts", "post", "Create a post"),
            ("/v1/interactions", "interaction", "Record an interaction with a post (view, click, like, repost, comment, author_click)"),
        ]
        for (path, type, summary) in single {
            events.append((RouteSpec(method: .post, path: path, access: .write, summary: summary, body: BodyShapes.componentName(type, single: true),
                                     response: "WriteResult"),
                           { request, context in try await self.singleEvent(type, request, context) }))
        }
        events.append((RouteSpec(method: .post, path: "/v1/impressions", access: .write,
                                 summary: "Record the suggestions a client showed a user (impression discounting demotes, then filters, "
                                     + "suggestions shown repeatedly without a follow)",
                                 body: "Impressions", response: "WriteResult"), impressions))
        let users: [(RouteSpec, Handler)] = [
            (RouteSpec(method: .put, path: "/v1/users/:id/flags", access: .write,
                       summary: "Set a user's flags (inactive, blacklisted, reported); an empty list clears them",
                       parameters: [Self.userID], body: "Flags", response: "WriteResult"), flags),
            (RouteSpec(method: .post, path: "/v1/users/:id/dismissals", access: .write,
                       summary: "Dismiss a suggestion: the candidate is never suggested to this user again (by any source or logic)",
                       parameters: [Self.userID], body: "Dismissal", response: "WriteResult"), dismiss),
            (RouteSpec(method: .get, path: "/v1/users/:id/dismissals", access: .read, summary: "The suggestions this user dismissed",
                       parameters: [Self.userID], response: "Dismissals"), dismissals),
            (RouteSpec(method: .delete, path: "/v1/users/:id/dismissals/:candidate", access: .write,
                       summary: "Undo a dismissal: the candidate may be suggested again",
                       parameters: [Self.userID, Self.candidateID], response: "WriteResult"), undismiss),
            (RouteSpec(method: .get, path: "/v1/users/:id/similar", access: .read,
                       summary: "Accounts like this one: follower overlap, reordered by the follow model's embeddings",
                       parameters: [Self.userID, Self.kParameter(max: maxK, default: 20), Self.explain,
                                    .init(name: "for", location: "query", type: "id",
                                          description: "Viewer: leave out the viewer's follows, blocks and dismissals")],
                       response: "SimilarAccounts"), similar),
            (RouteSpec(method: .get, path: "/v1/users/:id", access: .read, summary: "A user's summary",
                       parameters: [Self.userID], response: "UserSummary"), userSummary),
            (RouteSpec(method: .get, path: "/v1/users/:id/follow-recommendations", access: .read, summary: "Who to follow",
                       parameters: [Self.userID, Self.kParameter(max: maxK, default: 20), Self.explain,
                                    .init(name: "logic", location: "query", type: "string", description: "Model logic (default: configured)",
                                          values: ModelLogic.allCases.map(\.rawValue))],
                       response: "FollowRecommendations"), followRecommendations),
            (RouteSpec(method: .get, path: "/v1/users/:id/posts", access: .read, summary: "Posts to read",
                       parameters: [Self.userID, Self.kParameter(max: maxK, default: 20), Self.explain], response: "PostRecommendations"),
             postRecommendations),
            (RouteSpec(method: .get, path: "/v1/users/:id/feed", access: .read,
                       summary: "The mixed feed: posts, then users to follow filling the slots",
                       parameters: [Self.userID, Self.kParameter(max: maxK, default: 20), Self.explain,
                                    .init(name: "posts", location: "query", type: "integer", description: "Posts at most (default k/2)",
                                          minimum: 0, maximum: maxK)],
                       response: "Feed"), feed),
        ]
        let rest: [(RouteSpec, Handler)] = [
            (RouteSpec(method: .get, path: "/v1/leaderboards", access: .read, summary: "Most followed, recently followed, hot authors, hot posts",
                       parameters: [Self.kParameter(max: maxK, default: 20)], response: "Leaderboards"), leaderboards),
            (RouteSpec(method: .get, path: "/v1/model", access: .read, summary: "Snapshot and model status (version, trained at, metrics)",
                       response: "ModelStatusReport"), modelStatus),
            (RouteSpec(method: .get, path: "/v1/model/training", access: .read,
                       summary: "The follow model's training curve: loss and validation figures per epoch (empty before the first training)",
                       response: "TrainingCurve"), trainingCurve),
            (RouteSpec(method: .post, path: "/v1/admin/refresh", access: .write,
                       summary: "Rebuild the snapshot now (and retrain with retrain=true); swaps atomically",
                       parameters: [.init(name: "retrain", location: "query", type: "boolean", description: "Also retrain the follow model"),
                                    .init(name: "wait", location: "query", type: "boolean", description: "Answer when done (default: 202 at once)")],
                       response: "RefreshReport"), refresh),
        ]
        let dashboard: [(RouteSpec, Handler)] = [
            (RouteSpec(method: .get, path: "/dashboard", access: .open,
                       summary: "The dashboard (overview, user explorer, leaderboards); its data comes from the read routes, with the read token when one is needed",
                       response: "html"), { _, _ in Self.asset(DashboardAssets.page, "text/html; charset=utf-8") }),
            (RouteSpec(method: .get, path: "/dashboard/app.css", access: .open, summary: "The dashboard's style", response: "css"),
             { _, _ in Self.asset(DashboardAssets.style, "text/css; charset=utf-8") }),
            (RouteSpec(method: .get, path: "/dashboard/app.js", access: .open, summary: "The dashboard's script", response: "javascript"),
             { _, _ in Self.asset(DashboardAssets.script, "text/javascript; charset=utf-8") }),
        ]
        return [("operations", operations), ("dashboard", dashboard), ("events", events), ("users", users),
                ("leaderboards", [rest[0]]), ("model", Array(rest[1...]))]
    }

    /// One resource's routes as a `RouteCollection`: each route behind the metrics middleware
    /// (requests and latency under the route's own path) and the auth middleware of its access level.
    func collection(_ routes: [(RouteSpec, Handler)]) -> RouteCollection<BasicRequestContext> {
        let c = RouteCollection(context: BasicRequestContext.self)
        for (spec, handler) in routes {
            c.group()
                .add(middleware: MetricsMiddleware(metrics: service.metrics, route: spec.path))
                .add(middleware: AuthMiddleware(auth: service.auth, access: spec.access))
                .on(RouterPath(spec.path), method: spec.method) { request, context in try await handler(request, context) }
        }
        return c
    }

    // MARK: operations

    func health(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try JSONResponse.make(["status": "ok"])
    }

    func ready(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let s = service.state.current else {
            throw APIError(.serviceUnavailable, "not_ready", "the snapshot is still loading")
        }
        struct Ready: Encodable { var ready: Bool; var version: Int64; var users: Int }
        return try JSONResponse.make(Ready(ready: true, version: s.overlay.version, users: s.overlay.userCount))
    }

    func metrics(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        await service.updateGauges()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: service.metrics.exposition())))
    }

    var openAPISettings: OpenAPIDocument.Settings {
        OpenAPIDocument.Settings(maxBatch: configuration.maxBatch, readTokenRequired: !service.auth.readTokens.isEmpty)
    }

    func openAPI(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json(routes().map(\.0), settings: openAPISettings))))
    }

    /// A dashboard file. The policy lets the page load only its own files and call only this server.
    static func asset(_ text: String, _ type: String) -> Response {
        Response(status: .ok,
                 headers: [.contentType: type, .cacheControl: "no-cache",
                           .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: writes

    func batch(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await decodeJSON(request)
        guard case .object(let o) = body else { throw APIError.invalid("must be a JSON object, found \(body.typeName)", at: "body") }
        for key in o.keys.sorted() where key != "events" && key != "mode" {
            throw APIError.invalid("is not a field of a batch; its fields are events, mode", at: String(key.prefix(80)))
        }
        var mode = "atomic"
        if let m = o["mode"] {
            guard case .string(let s) = m, BodyShapes.batchModes.contains(s) else {
                throw APIError.invalid("must be atomic or per_item", at: "mode")
            }
            mode = s
        }
        guard let e = o["events"] else { throw APIError.invalid("is required", at: "events") }
        guard case .array(let items) = e else { throw APIError.invalid("must be a list of events, found \(e.typeName)", at: "events") }
        guard !items.isEmpty else { throw APIError.invalid("must hold at least one event", at: "events") }
        guard items.count <= configuration.maxBatch else {
            throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) events; at most \(configuration.maxBatch) per batch",
                           at: "events")
        }
        let now = Timestamp(Date().timeIntervalSince1970)
        if mode == "per_item" {
            for (i, item) in items.enumerated() {
                guard case .object = item else { throw APIError.invalid("must be a JSON object, found \(item.typeName)", at: "events[\(i)]") }
            }
            return try JSONResponse.make(try await writePerItem(items, now: now))
        }
        var events: [Event] = []
        events.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            events.append(try EventInput.checked(item, at: "events[\(i)]").event(at: "events[\(i)]", now: now))
        }
        return try JSONResponse.make(try await write(events, paths: (0..<events.count).map { "events[\($0)]" }))
    }

    func singleEvent(_ type: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await writeOne(type, BodyShapes.singleEvent(type), request, user: nil)
    }

    func flags(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await writeOne("flags", BodyShapes.flags, request, user: try pathID(context))
    }

    func dismiss(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await writeOne("dismiss", BodyShapes.dismissal, request, user: try pathID(context))
    }

    /// A route that records one event of `type`: the body checked against `shape`, the path's user
    /// (if the route has one) filled in.
    private func writeOne(_ type: String, _ shape: BodyShape, _ request: Request, user: String?) async throws -> Response {
        var e = EventInput(checked: try shape.check(try await decodeJSON(request), at: ""))
        e.type = type
        if let user { e.user = user }
        let event = try e.event(at: "", now: Timestamp(Date().timeIntervalSince1970))
        return try JSONResponse.make(try await write([event], paths: [""]))
    }

    func undismiss(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let e = EventInput(type: "undismiss", user: try pathID(context), candidate: try pathID(context, "candidate"))
        let event = try e.event(at: "", now: Timestamp(Date().timeIntervalSince1970))
        return try JSONResponse.make(try await write([event], paths: [""]))
    }

    func impressions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let o = try BodyShapes.impressions(maxItems: configuration.maxBatch).check(try await decodeJSON(request), at: "")
        let e = EventInput(checked: o)
        var candidates: [String] = []
        if case .array(let items)? = o["candidates"] { for case .string(let c) in items { candidates.append(c) } }
        let input = ImpressionsInput(user: e.user ?? "", candidates: candidates, surface: e.surface, at: e.at)
        let events = try input.events(now: Timestamp(Date().timeIntervalSince1970))
        return try JSONResponse.make(try await write(events, paths: events.indices.map { "candidates[\($0)]" }))
    }

    /// Appends atomically, then waits until the serving state holds the write: the next request sees it.
    /// Writes run at high priority: under a flood of reads they would otherwise wait behind every
    /// queued read at each of their suspension points (store, catch-up).
    private func prioritised<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task(priority: .high) { try await body() }.value
    }

    private func write(_ events: [Event], paths: [String]) async throws -> WriteResult {
        try await prioritised { try await self.writeNow(events, paths: paths) }
    }

    private func writeNow(_ events: [Event], paths: [String]) async throws -> WriteResult {
        let version: Int64
        do {
            version = try await service.store.append(events)
        } catch let e as StoreError {
            throw Self.apiError(e, events: events, paths: paths)
        }
        try await service.sync.catchUp(to: version)
        service.metrics.eventsWritten(events.count)
        return WriteResult(version: version, accepted: events.count, rejected: 0, results: nil)
    }

    private func writePerItem(_ inputs: [JSONValue], now: Timestamp) async throws -> WriteResult {
        try await prioritised { try await self.writePerItemNow(inputs, now: now) }
    }

    private func writePerItemNow(_ inputs: [JSONValue], now: Timestamp) async throws -> WriteResult {
        var items: [WriteResult.Item] = []
        var good: [(Int, Event)] = []
        for (i, input) in inputs.enumerated() {
            do {
                good.append((i, try EventInput.checked(input, at: "events[\(i)]").event(at: "events[\(i)]", now: now)))
            } catch {
                items.append(.init(index: i, ok: false, error: Self.detail(error)))
            }
        }
        // The store refuses a whole append on an unknown post; drop the events that name it and retry.
        var version = try await service.store.currentVersion()
        while !good.isEmpty {
            do {
                version = try await service.store.append(good.map(\.1))
                break
            } catch StoreError.unknownPost(let post) {
                let bad = good.filter { if case .interaction(_, post, _, _) = $0.1 { true } else { false } }
                guard !bad.isEmpty else { throw APIError(.internalServerError, "internal", "the store refused post \(post) that no event names") }
                for (i, _) in bad {
                    items.append(.init(index: i, ok: false, error: Self.detail(Self.unknownPost(post, at: "events[\(i)].post"))))
                }
                good.removeAll { g in bad.contains { $0.0 == g.0 } }
            } catch let e as StoreError {
                throw Self.apiError(e, events: good.map(\.1), paths: good.map { "events[\($0.0)]" })
            }
        }
        try await service.sync.catchUp(to: version)
        service.metrics.eventsWritten(good.count)
        items += good.map { .init(index: $0.0, ok: true, error: nil) }
        items.sort { $0.index < $1.index }
        return WriteResult(version: version, accepted: good.count, rejected: inputs.count - good.count, results: items)
    }

    static func unknownPost(_ id: String, at location: String) -> APIError {
        APIError(.unprocessableContent, "unknown_post", "no post \"\(id.prefix(80))\": create the post before recording interactions with it",
                 at: location)
    }

    static func apiError(_ e: StoreError, events: [Event], paths: [String]) -> APIError {
        switch e {
        case .unknownPost(let post):
            let i = events.firstIndex { if case .interaction(_, post, _, _) = $0 { true } else { false } }
            return unknownPost(post, at: i.map { paths[$0].isEmpty ? "post" : paths[$0] + ".post" } ?? "post")
        case .unknownUser(let id): return APIError(.unprocessableContent, "unknown_user", "no user \"\(id.prefix(80))\"")
        case .emptyID(let what): return APIError.invalid("empty id for \(what)")
        case .timestampOutOfRange: return APIError.invalid(e.description, at: "at")
        case .unavailable:
            return APIError(.serviceUnavailable, "store_unavailable", "the write was not stored: \(e)")
        case .damaged:
            return APIError(.internalServerError, "store_damaged", "the write was not stored: \(e)")
        case .schemaTooNew, .database:
            return APIError(.internalServerError, "store_error", "the write was not stored: \(e)")
        }
    }

    static func detail(_ error: any Error) -> APIError.Body.Detail {
        let e = error as? APIError ?? APIError(.internalServerError, "internal", "\(error)")
        return .init(status: e.status.code, code: e.code, message: e.message, where: e.location)
    }

    // MARK: reads

    private func live() throws(APIError) -> LiveState {
        guard let s = service.state.current else { throw APIError(.serviceUnavailable, "not_ready", "the snapshot is still loading; retry shortly") }
        return s
    }

    private func pathID(_ context: BasicRequestContext, _ name: String = "id") throws(APIError) -> String {
        guard let raw = context.parameters.get(name) else { throw APIError.invalid("is required", at: name) }
        // Foundation drops a leading U+FEFF when it decodes ("%EF%BB%BFu1" would name "u1"); a leading
        // "x", dropped after, keeps every character for `Validate.id` to judge.
        guard let decoded = ("x" + raw).removingPercentEncoding else {
            throw APIError.invalid("is not valid percent-encoded UTF-8", at: name)
        }
        let id = String(decoded.unicodeScalars.dropFirst())
        try Validate.id(id, at: name)
        return id
    }

    private func user(_ context: BasicRequestContext, in s: LiveState) throws(APIError) -> (String, UserIndex) {
        let id = try pathID(context)
        guard let u = s.user(id) else { throw APIError.notFound("user", id, at: "id") }
        return (id, u)
    }

    /// What every per-user read starts with: the state, the user, and the `k` and `explain` parameters.
    private struct UserRead {
        let state: LiveState, id: String, user: UserIndex, query: Query, k: Int, explain: Bool
    }

    private func userRead(_ request: Request, _ context: BasicRequestContext) throws(APIError) -> UserRead {
        let s = try live()
        let (id, u) = try user(context, in: s)
        let q = Query(request)
        return UserRead(state: s, id: id, user: u, query: q, k: try q.int("k", default: 20, in: 1...configuration.maxK),
                        explain: try q.bool("explain"))
    }

    func followRecommendations(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let r = try userRead(request, context)
        let (s, id, u, q, k, explain) = (r.state, r.id, r.user, r.query, r.k, r.explain)
        var logic: ModelLogic?
        if let raw = q["logic"] {
            guard let l = ModelLogic(rawValue: raw) else {
                throw APIError.invalid("one of \(ModelLogic.allCases.map(\.rawValue).joined(separator: ", "))", at: "logic")
            }
            logic = l
        }
        let answer: FollowAnswer
        do { answer = try s.engine.recommendFollows(user: u, k: k, logic: logic, view: s.view, explain: explain) } catch {
            throw APIError(.conflict, "logic_unavailable", error.description, at: "logic")
        }
        record(answer)
        return JSONResponse.make(FollowRecommendations(id: id, answer: answer, state: s, explain: explain))
    }

    func similar(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let r = try userRead(request, context)
        var viewer: UserIndex?
        if let raw = r.query["for"] {
            try Validate.id(raw, at: "for")
            guard let v = r.state.user(raw) else { throw APIError.notFound("user", raw, at: "for") }
            viewer = v
        }
        let items = r.state.engine.follow(view: r.state.view).similarAccounts(to: r.user, k: r.k, for: viewer)
        return try JSONResponse.make(SimilarAccountsResponse(id: r.id, items: items, names: r.state.names, explain: r.explain))
    }

    func dismissals(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let s = try live()
        let (id, u) = try user(context, in: s)
        let names = s.names
        return try JSONResponse.make(DismissalsResponse(user: id, candidates: s.view.dismissals(of: u).map { names.user($0) }))
    }

    func postRecommendations(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let r = try userRead(request, context)
        let items = r.state.engine.posts(view: r.state.view).recommend(user: r.user, k: r.k)
        let names = r.state.names
        return JSONResponse.make(PostRecommendations(user: r.id, items: items.map { PostItem($0, names: names, explain: r.explain) }))
    }

    func feed(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let r = try userRead(request, context)
        let (s, id, u, k, explain) = (r.state, r.id, r.user, r.k, r.explain)
        let posts = try r.query.int("posts", default: k / 2, in: 0...configuration.maxK)
        let items = s.engine.feed(user: u, k: k, posts: posts, view: s.view)
        let names = s.names
        let out = items.map { item -> FeedEntry in
            switch item {
            case .post(let p): FeedEntry(type: "post", post: PostItem(p, names: names, explain: explain), user: nil)
            case .user(let r): FeedEntry(type: "user", post: nil, user: UserItem(r, names: names, explain: explain))
            }
        }
        for case .user(let r) in items { service.metrics.recommended(source: r.source.rawValue, count: 1) }
        return JSONResponse.make(Feed(user: id, items: out))
    }

    func leaderboards(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let s = try live()
        let k = try Query(request).int("k", default: 20, in: 1...configuration.maxK)
        return try JSONResponse.make(Leaderboard(s.engine.follow.leaderboards, k: k, state: s))
    }

    func userSummary(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let s = try live()
        let (id, u) = try user(context, in: s)
        return try JSONResponse.make(UserSummary(id: id, user: u, state: s))
    }

    func modelStatus(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let s = try live()
        return try JSONResponse.make(ModelStatusReport(
            state: s, refreshing: await service.refresher.running, lastRefresh: await service.refresher.lastReport))
    }

    func trainingCurve(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        struct Curve: Encodable { var path: String; var epochs: [TrainingCurve.Epoch] }
        let path = service.refresher.files.epochsCSV
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return try JSONResponse.make(Curve(path: path, epochs: [])) }
        do {
            return try JSONResponse.make(Curve(path: path, epochs: try TrainingCurve.epochs(csv: text)))
        } catch {
            throw APIError(.internalServerError, "unreadable_curve", "\(error)")
        }
    }

    func refresh(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let q = Query(request)
        let retrain = try q.bool("retrain"), wait = try q.bool("wait")
        let refresher = service.refresher
        // A refresh that would only queue behind a running one is refused (a client retrying
        // 202s would pile them up); a plain rebuild goes ahead during a retraining child.
        if let why = await refresher.refusal(retrain: retrain) {
            throw APIError(.conflict, "refresh_running", why)
        }
        if wait {
            do {
                return try JSONResponse.make(try await refresher.refresh(retrain: retrain))
            } catch {
                throw APIError(.internalServerError, "refresh_failed", "\(error); the previous engine keeps serving")
            }
        }
        let logger = service.logger
        Task {
            do { try await refresher.refresh(retrain: retrain) } catch { logger.error("refresh failed", metadata: ["error": "\(error)"]) }
        }
        return try JSONResponse.make(["started": true], status: .accepted)
    }

    private func record(_ answer: FollowAnswer) {
        for (source, n) in answer.sources { service.metrics.recommended(source: source.rawValue, count: n) }
        for (reason, n) in answer.filtered.counts where n > 0 { service.metrics.filtered(reason: reason.rawValue, count: n) }
    }

    // MARK: bodies

    /// The body as JSON, checked for media type, size and syntax; its shape is checked by the route.
    private func decodeJSON(_ request: Request) async throws -> JSONValue {
        if let ct = request.headers[.contentType], !ct.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send JSON with Content-Type: application/json", at: "Content-Type")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(configuration.maxBodyBytes) bytes", at: "body")
        }
        guard buffer.readableBytes > 0 else { throw APIError.invalid("is empty; send a JSON object", at: "body") }
        let bytes = Data(buffer.readableBytesView)
        // Foundation's parser drops a byte-order mark that starts a string ("\u{FEFF}u1" would
        // name "u1"); no field of this API takes the character, so a body holding it is refused.
        if JSONValue.holdsByteOrderMark(bytes) {
            throw APIError.invalid("contains U+FEFF (a byte-order mark), which no field of this API takes", at: "body")
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw APIError.invalid("is not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "a syntax error"))", at: "body")
        }
    }
}

/// Query parameters with checks that name the parameter.
struct Query {
    let request: Request

    init(_ request: Request) { self.request = request }

    subscript(_ name: String) -> String? { request.uri.queryParameters.get(name) }

    func int(_ name: String, default d: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let raw = self[name] else { return d }
        guard let v = Int(raw), range.contains(v) else {
            throw APIError.invalid("must be an integer in \(range.lowerBound)…\(range.upperBound), found \"\(raw.prefix(40))\"", at: name)
        }
        return v
    }

    func bool(_ name: String) throws(APIError) -> Bool {
        guard let raw = self[name] else { return false }
        // Exactly the document's booleans: a client that sends "1" or "yes" learns it at once.
        switch raw {
        case "true": return true
        case "false": return false
        default: throw APIError.invalid("must be true or false, found \"\(raw.prefix(40))\"", at: name)
        }
    }
}
