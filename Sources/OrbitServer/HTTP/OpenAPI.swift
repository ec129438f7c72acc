import Foundation
import OrbitCore

/// The OpenAPI 3.1 document of the API, made from the same route table the router serves, so the
/// two cannot drift apart.
enum OpenAPIDocument {
    static func json(_ routes: [RouteSpec]) -> [UInt8] {
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
            if r.access != .open { op["security"] = [["bearer": [String]()]] }
            paths["/" + path, default: [:]][r.method.rawValue.lowercased()] = op
        }
        let doc: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Orbit", "version": "1",
                "description": "Who to follow and what to read. Writes and admin routes need a bearer write token; reads need a read token when the server is configured with one.",
            ],
            "paths": paths,
            "components": ["schemas": schemas, "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }

    private static func operationID(_ r: RouteSpec) -> String {
        let words = r.path.split(whereSeparator: { "/-.:".contains($0) }).filter { $0 != "v1" }
        return r.method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    private static func parameter(_ p: RouteSpec.Parameter) -> [String: Any] {
        var schema: [String: Any] = ["type": p.type]
        if let m = p.minimum { schema["minimum"] = m }
        if let m = p.maximum { schema["maximum"] = m }
        if let v = p.values { schema["enum"] = v }
        if p.location == "path" { schema["minLength"] = 1; schema["maxLength"] = Validate.maxIDBytes }
        return ["name": p.name, "in": p.location, "required": p.required || p.location == "path", "description": p.description, "schema": schema]
    }

    private static func responses(_ r: RouteSpec) -> [String: Any] {
        let content: [String: Any] = r.response == "text"
            ? ["text/plain": ["schema": ["type": "string"]]]
            : ["application/json": ["schema": ref(r.response)]]
        var out: [String: Any] = [String(r.successStatus): ["description": "success", "content": content]]
        let error = ["description": "error", "content": ["application/json": ["schema": ref("Error")]]] as [String: Any]
        if r.body != nil || !r.parameters.isEmpty { out["400"] = error }
        if r.access != .open { out["401"] = error }
        if r.parameters.contains(where: { $0.location == "path" }) { out["404"] = error }
        if r.body != nil { out["413"] = error; out["415"] = error; out["422"] = error }
        if r.path == "/v1/admin/refresh" { out["202"] = ["description": "started", "content": ["application/json": ["schema": ["type": "object"]]]] }
        if r.access != .open || r.path == "/ready" { out["503"] = error }
        return out
    }

    private static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        var o: [String: Any] = ["type": "object", "properties": properties]
        if !required.isEmpty { o["required"] = required }
        return o
    }

    nonisolated(unsafe) private static let string: [String: Any] = ["type": "string"]
    nonisolated(unsafe) private static let id: [String: Any] = ["type": "string", "minLength": 1, "maxLength": Validate.maxIDBytes]
    nonisolated(unsafe) private static let integer: [String: Any] = ["type": "integer"]
    nonisolated(unsafe) private static let number: [String: Any] = ["type": "number"]
    nonisolated(unsafe) private static let boolean: [String: Any] = ["type": "boolean"]
    private static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
    nonisolated(unsafe) private static let timestamp: [String: Any] = ["type": "integer", "minimum": 0, "maximum": 4_102_444_800,
                                                   "description": "Unix seconds; default: the time of the request"]

    nonisolated(unsafe) private static let reason: [String: Any] = [
        "type": "string", "enum": DismissalReason.allCases.map(\.name), "description": "Why the suggestion was dismissed (default not_interested)"]
    nonisolated(unsafe) private static let surface: [String: Any] = [
        "type": "string", "minLength": 1, "maxLength": Validate.maxIDBytes, "description": "Where the suggestions were shown (default \"default\")"]

    nonisolated(unsafe) private static let eventProperties: [String: Any] = [
        "type": ["type": "string", "enum": EventInput.types.map(\.name),
                 "description": EventInput.types.map { "\($0.name): \($0.fields.joined(separator: ", "))" }.joined(separator: "; ")],
        "id": id, "follower": id, "followee": id, "user": id, "blocked": id, "author": id, "post": id, "candidate": id,
        "kind": ["type": "string", "enum": ["view", "click", "like", "repost", "comment", "author_click"]],
        "flags": array(["type": "string", "enum": UserFlags.all.map(\.1)]),
        "reason": reason, "surface": surface,
        "at": timestamp,
    ]

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
        "clickModel": modelStatus, "refusedModel": string, "finishedAt": string,
    ])

    nonisolated(unsafe) private static let schemas: [String: Any] = [
        "Error": object(["error": object(["status": integer, "code": string, "message": string, "where": string],
                                         required: ["status", "code", "message"])], required: ["error"]),
        "Health": object(["status": string]),
        "Ready": object(["ready": boolean, "version": integer, "users": integer]),
        "OpenAPI": ["type": "object"],
        "Event": object(eventProperties),
        "EventBatch": object(["events": array(object(eventProperties, required: ["type"])),
                              "mode": ["type": "string", "enum": ["atomic", "per_item"]]], required: ["events"]),
        "Flags": object(["flags": eventProperties["flags"]!, "at": timestamp], required: ["flags"]),
        "Dismissal": object(["candidate": id, "reason": reason, "at": timestamp], required: ["candidate"]),
        "Dismissals": object(["user": string, "candidates": array(string)], required: ["user", "candidates"]),
        "Impressions": object(["user": id, "candidates": ["type": "array", "items": id, "minItems": 1], "surface": surface, "at": timestamp],
                              required: ["user", "candidates"]),
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
            "snapshot": object(["version": integer, "users": integer, "follows": integer, "posts": integer, "builtAt": string,
                                "ageSeconds": number, "now": integer]),
            "overlay": object(["version": integer, "changes": integer, "users": integer, "posts": integer, "needsRebuild": boolean]),
            "followModel": modelStatus, "relationIndex": modelStatus, "ranker": modelStatus, "clickModel": modelStatus,
            "refreshing": boolean, "lastRefresh": refreshReport,
        ]),
        "RefreshReport": refreshReport,
    ]
}
