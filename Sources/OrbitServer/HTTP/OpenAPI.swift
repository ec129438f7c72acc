import Foundation
import OrbitCore

/// The OpenAPI 3.1 document of the API, made from the same route table the router serves, so the
/// two cannot drift apart.
enum OpenAPIDocument {
    /// What the document depends on besides the routes: limits and whether reads need a token.
    struct Settings: Sendable {
        var maxBatch: Int
        var readTokenRequired: Bool
    }

    static func json(_ routes: [RouteSpec], settings: Settings) -> [UInt8] {
        var paths: [String: [String: Any]] = [:]
        for r in routes {
            let path = r.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            var op: [String: Any] = [
                "summary": r.summary,
                "operationId": operationID(r),
                "responses": responses(r),
            ]
            if !r.parameters.isEmpty { op["parameters"] = r.parameters.map(parameter) }
            if let body = r.body {
                op["requestBody"] = ["required": true, "content": ["application/json": ["schema": ref(body)]]]
            }
            switch r.access {
            case .open: op["security"] = [[String: [String]]()]
            case .write: op["security"] = [["bearer": [String]()]]
            // Without a read token configured, reads take a request with or without a token.
            case .read: op["security"] = settings.readTokenRequired ? [["bearer": [String]()]] : [[String: [String]](), ["bearer": [String]()]]
            }
            paths["/" + path, default: [:]][r.method.rawValue.lowercased()] = op
        }
        let doc: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Orbit", "version": "1",
                "description": """
                    Who to follow and what to read. This document is the contract: the server checks every body against \
                    these schemas (unknown fields, null and wrong types are refused with 400) and answers only the statuses \
                    listed. 400 means the request does not match this document; 422 means it does, but the data refuses it \
                    (a user following themselves, an interaction with a post that does not exist). Writes and admin routes \
                    need a bearer write token. Reads need a read (or write) token when the server is configured with one \
                    (ORBIT_READ_TOKENS); this server \(settings.readTokenRequired ? "is" : "is not"), and the reads' security \
                    says so. A method a path does not list answers 405 with Allow.
                    """,
            ],
            "paths": paths,
            "components": ["schemas": schemas(settings), "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }

    private static func operationID(_ r: RouteSpec) -> String {
        let words = r.path.split(whereSeparator: { "/-.:".contains($0) }).filter { $0 != "v1" }
        return r.method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    private static func parameter(_ p: RouteSpec.Parameter) -> [String: Any] {
        var schema: [String: Any] = p.type == "id" ? Validate.idSchema : ["type": p.type]
        if let m = p.minimum { schema["minimum"] = m }
        if let m = p.maximum { schema["maximum"] = m }
        if let v = p.values { schema["enum"] = v }
        return ["name": p.name, "in": p.location, "required": p.required || p.location == "path", "description": p.description, "schema": schema]
    }

    /// Every status the route can answer, each with its body.
    private static func responses(_ r: RouteSpec) -> [String: Any] {
        let content: [String: Any] = switch r.response {
        case "text": ["text/plain": ["schema": ["type": "string"]]]
        case "html": ["text/html": ["schema": ["type": "string"]]]
        case "javascript": ["text/javascript": ["schema": ["type": "string"]]]
        case "css": ["text/css": ["schema": ["type": "string"]]]
        default: ["application/json": ["schema": ref(r.response)]]
        }
        var out: [String: Any] = [String(r.successStatus): ["description": "success", "content": content]]
        func error(_ why: String) -> [String: Any] { ["description": why, "content": ["application/json": ["schema": ref("Error")]]] }
        let isWrite = r.access == .write
        let hasPath = r.parameters.contains { $0.location == "path" }
        if r.body != nil || !r.parameters.isEmpty { out["400"] = error("the request does not match this document (the error says where)") }
        if r.access != .open { out["401"] = error("no token, or not one for this route") }
        if hasPath && !isWrite { out["404"] = error("no such user in this store") }
        if r.body != nil {
            out["413"] = error("the body or the batch is larger than the server takes")
            out["415"] = error("the body is not application/json")
        }
        if isWrite && r.path != "/v1/admin/refresh" {
            out["422"] = error("well formed, but refused by the data: a user naming themselves, an unknown post")
            out["500"] = error("the store refused the write (damaged or failing); nothing was written")
            out["503"] = error("the store is unavailable (down, disk full); nothing was written, retry")
        }
        if r.access == .read || r.path == "/ready" { out["503"] = error("the snapshot is still loading") }
        if r.path.hasSuffix("/follow-recommendations") { out["409"] = error("the asked-for logic needs a model or index this server has not loaded") }
        if r.path == "/v1/admin/refresh" {
            out["202"] = ["description": "started", "content": ["application/json": ["schema": object(["started": boolean], required: ["started"])]]]
            out["500"] = error("the refresh failed; the previous engine keeps serving")
            out["409"] = error("a rebuild is already running, or, with retrain=true, a retraining")
        }
        return out
    }

    private static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        var o: [String: Any] = ["type": "object", "properties": properties]
        if !required.isEmpty { o["required"] = required }
        return o
    }

    nonisolated(unsafe) private static let string: [String: Any] = ["type": "string"]
    nonisolated(unsafe) private static let integer: [String: Any] = ["type": "integer"]
    nonisolated(unsafe) private static let number: [String: Any] = ["type": "number"]
    nonisolated(unsafe) private static let boolean: [String: Any] = ["type": "boolean"]
    private static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }

    /// The request bodies, from the same shapes the routes check.
    private static func bodySchemas(_ settings: Settings) -> [String: Any] {
        var out: [String: Any] = [:]
        var mapping: [String: String] = [:]
        for t in EventInput.types.map(\.name) {
            out[BodyShapes.componentName(t)] = BodyShapes.event(t).schema
            out[BodyShapes.componentName(t, single: true)] = BodyShapes.singleEvent(t).schema
            mapping[t] = "#/components/schemas/\(BodyShapes.componentName(t))"
        }
        out["Event"] = [
            "oneOf": EventInput.types.map { ref(BodyShapes.componentName($0.name)) },
            "discriminator": ["propertyName": "type", "mapping": mapping],
            "description": "One event; `type` says which, and which fields it needs",
        ]
        let events: [String: Any] = ["type": "array", "items": ref("Event"), "minItems": 1, "maxItems": settings.maxBatch]
        out["AtomicEventBatch"] = [
            "type": "object", "additionalProperties": false, "required": ["events"],
            "description": "Written in one transaction: one event the data refuses refuses the batch",
            "properties": ["events": events, "mode": ["type": "string", "enum": ["atomic"]]],
        ]
        out["PerItemEventBatch"] = [
            "type": "object", "additionalProperties": false, "required": ["events", "mode"],
            "description": "Each event checked and written on its own; the answer holds a result per event (an event that does not match Event gets its error there)",
            "properties": ["events": ["type": "array", "items": ["type": "object"], "minItems": 1, "maxItems": settings.maxBatch],
                           "mode": ["type": "string", "enum": ["per_item"]]],
        ]
        out["EventBatch"] = ["oneOf": [ref("AtomicEventBatch"), ref("PerItemEventBatch")]]
        out["Flags"] = BodyShapes.flags.schema
        out["Dismissal"] = BodyShapes.dismissal.schema
        out["Impressions"] = BodyShapes.impressions(maxItems: settings.maxBatch).schema
        return out
    }

    nonisolated(unsafe) private static let modelStatus: [String: Any] = object([
        "kind": string, "path": string, "origin": string, "trainedAt": string, "parameters": integer, "users": integer,
        "validationHR10": number, "validationNDCG10": number, "trainSeconds": number,
    ])

    nonisolated(unsafe) private static let userItem: [String: Any] = object(["user": string, "source": string, "reason": string, "score": number,
                "features": array(object(["feature": string, "contribution": number], required: ["feature", "contribution"]))],
               required: ["user", "source", "reason"])
    nonisolated(unsafe) private static let postItem: [String: Any] = object(["post": string, "author": string, "source": string, "reason": string, "score": number],
                                         required: ["post", "author", "source", "reason"])
    nonisolated(unsafe) private static let refreshReport: [String: Any] = object([
        "snapshotVersion": integer, "users": integer, "follows": integer, "loadSeconds": number, "buildSeconds": number,
        "retrained": boolean, "trainSeconds": number, "followModel": modelStatus, "relationIndex": modelStatus, "ranker": modelStatus,
        "clickModel": modelStatus, "refusedModel": string, "replayedChanges": integer, "finishedAt": string,
    ])

    private static func schemas(_ settings: Settings) -> [String: Any] {
        responseSchemas.merging(bodySchemas(settings)) { a, _ in a }
    }

    nonisolated(unsafe) private static let responseSchemas: [String: Any] = [
        "Error": object(["error": object(["status": integer, "code": string, "message": string, "where": string],
                                         required: ["status", "code", "message"])], required: ["error"]),
        "Health": object(["status": string]),
        "Ready": object(["ready": boolean, "version": integer, "users": integer]),
        "OpenAPI": ["type": "object"],
        "Dismissals": object(["user": string, "candidates": array(string)], required: ["user", "candidates"]),
        "SimilarAccounts": object([
            "user": string,
            "items": array(object(["user": string, "reason": string, "score": number, "followerCosine": number,
                                   "embeddingCosine": number, "sharedFollowers": integer], required: ["user", "reason", "sharedFollowers"])),
        ], required: ["user", "items"]),
        "WriteResult": object([
            "version": integer, "accepted": integer, "rejected": integer,
            "results": array(object(["index": integer, "ok": boolean, "error": ["type": "object"]])),
        ], required: ["version", "accepted", "rejected"]),
        "FollowRecommendations": object([
            "user": string, "coldStart": boolean, "items": array(userItem), "version": integer,
            "filtered": ["type": "object", "additionalProperties": integer], "sources": ["type": "object", "additionalProperties": integer],
        ], required: ["user", "coldStart", "items", "version"]),
        "PostRecommendations": object(["user": string, "items": array(postItem)], required: ["user", "items"]),
        "Feed": object(["user": string, "items": array(object(["type": ["type": "string", "enum": ["post", "user"]],
                                                               "post": postItem, "user": userItem], required: ["type"]))],
                       required: ["user", "items"]),
        "Leaderboards": object([
            "mostFollowed": array(object(["user": string, "followers": integer])),
            "recentlyFollowed": array(object(["user": string, "newFollowers": integer])),
            "recentDays": integer,
            "hotAuthors": array(object(["user": string, "hotPosts": integer, "score": number])),
            "hotPosts": array(object(["post": string, "author": string, "score": number])),
        ]),
        "UserSummary": object([
            "id": string, "followees": integer, "followersAtSnapshot": integer, "flags": array(string), "newSinceSnapshot": boolean,
            "knownToFollowModel": boolean, "coldStart": boolean,
            "engagedAuthors": array(object(["author": string, "interactions": integer, "signals": array(string), "lastAt": integer])),
        ]),
        "ModelStatusReport": object([
            "snapshot": object(["version": integer, "users": integer, "follows": integer, "posts": integer, "interactions": integer, "builtAt": string,
                                "ageSeconds": number, "now": integer]),
            "overlay": object(["version": integer, "changes": integer, "users": integer, "posts": integer, "needsRebuild": boolean]),
            "followModel": modelStatus, "relationIndex": modelStatus, "ranker": modelStatus, "clickModel": modelStatus,
            "refreshing": boolean, "lastRefresh": refreshReport,
        ]),
        "RefreshReport": refreshReport,
        "TrainingCurve": object([
            "path": string,
            "epochs": array(object(["phase": string, "epoch": integer, "loss": number, "trainSeconds": number, "validationHR10": number,
                                    "validationNDCG10": number, "best": boolean], required: ["phase", "epoch", "loss", "trainSeconds", "best"])),
        ], required: ["path", "epochs"]),
    ]
}
