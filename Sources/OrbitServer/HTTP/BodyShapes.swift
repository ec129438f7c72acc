import Foundation
import OrbitCore
import OrbitStore

/// A JSON value exactly as the client sent it. Bodies are parsed to this first and then checked
/// field by field against a `BodyShape`, the same value the OpenAPI document is written from, so
/// that what the document promises and what the server accepts cannot drift apart (a `Decodable`
/// struct would silently take `null` for a missing field and ignore unknown ones).
enum JSONValue: Sendable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// Parses with `JSONSerialization` (linear in the body; decoding through `Decodable` with a
    /// type tried after another cost time quadratic in the nesting depth: a 1 MB body of deep
    /// arrays would hold a core for minutes).
    static func parse(_ data: Data) throws -> JSONValue {
        JSONValue(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    /// Whether the body holds U+FEFF, raw (EF BB BF) or escaped (`\uFEFF`, any case).
    static func holdsByteOrderMark(_ data: Data) -> Bool {
        data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Bool in
            guard b.count >= 3 else { return false }
            for i in 0..<(b.count - 2) {
                if b[i] == 0xEF && b[i + 1] == 0xBB && b[i + 2] == 0xBF { return true }
                if b[i] == UInt8(ascii: "\\"), i + 5 < b.count, b[i + 1] == UInt8(ascii: "u"),
                   b[i + 2] | 0x20 == UInt8(ascii: "f"), b[i + 3] | 0x20 == UInt8(ascii: "e"),
                   b[i + 4] | 0x20 == UInt8(ascii: "f"), b[i + 5] | 0x20 == UInt8(ascii: "f") {
                    return true
                }
            }
            return false
        }
    }

    init(_ any: Any) {
        // Containers first: asking whether an array is an NSNumber bridges it, elements and all,
        // which made each level cost as much as everything below it.
        switch any {
        case let a as [Any]: self = .array(a.map(JSONValue.init))
        case let o as [String: Any]: self = .object(o.mapValues(JSONValue.init))
        case let s as String: self = .string(s)
        case is NSNull: self = .null
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" {
                self = .bool(n.boolValue)
            } else if type == "d" || type == "f" || n is NSDecimalNumber {
                // JSON Schema counts 3.0 as an integer; keep that when it fits exactly.
                let d = n.doubleValue
                self = d.rounded() == d && abs(d) < 9.2e18 ? .integer(Int64(d)) : .number(d)
            } else {
                self = .integer(n.int64Value)
            }
        default: self = .null
        }
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One field of a JSON body: its name, what it holds and whether it must be there.
struct BodyField: Sendable {
    enum Kind: Sendable {
        /// An external id (`Validate.id`).
        case id
        /// Unix seconds within `TimestampRange`.
        case timestamp
        /// One of these strings.
        case choice([String])
        /// A list of these strings (possibly empty).
        case choices([String])
        /// A list of ids, `min...max` long.
        case ids(min: Int, max: Int)
        /// Exactly this string (an event's `type`).
        case constant(String)
    }
    var name: String
    var kind: Kind
    var required: Bool
    var description: String? = nil
}

/// The shape of a JSON object body: its fields, nothing more (unknown fields are refused), no
/// `null` anywhere. `check` is what the server applies; `schema` is what the OpenAPI document says.
struct BodyShape: Sendable {
    var fields: [BodyField]
    var description: String? = nil

    /// The object's fields once every one is checked; a 400 naming the first field that is wrong.
    func check(_ value: JSONValue, at path: String) throws(APIError) -> [String: JSONValue] {
        guard case .object(let o) = value else { throw APIError.invalid("must be a JSON object, found \(value.typeName)", at: path.isEmpty ? "body" : path) }
        let names = fields.map(\.name)
        for key in o.keys.sorted() where !names.contains(key) {
            throw APIError.invalid("is not a field of this object; its fields are \(names.joined(separator: ", "))", at: Self.join(path, String(key.prefix(80))))
        }
        for f in fields {
            let at = Self.join(path, f.name)
            guard let v = o[f.name] else {
                if f.required { throw APIError.invalid("is required", at: at) }
                continue
            }
            try Self.check(v, f.kind, at: at)
        }
        return o
    }

    private static func check(_ v: JSONValue, _ kind: BodyField.Kind, at: String) throws(APIError) {
        if case .null = v { throw APIError.invalid("must not be null; leave the field out instead", at: at) }
        switch kind {
        case .id:
            guard case .string(let s) = v else { throw APIError.invalid("must be a string id, found \(v.typeName)", at: at) }
            try Validate.id(s, at: at)
        case .timestamp:
            guard case .integer(let t) = v else { throw APIError.invalid("must be an integer (Unix seconds), found \(v.typeName)", at: at) }
            guard TimestampRange.contains(t) else { throw APIError.invalid("must be Unix seconds between 0 and \(TimestampRange.max)", at: at) }
        case .choice(let values):
            guard case .string(let s) = v, values.contains(s) else {
                throw APIError.invalid("must be one of \(values.joined(separator: ", ")), found \(Self.shown(v))", at: at)
            }
        case .choices(let values):
            guard case .array(let items) = v else { throw APIError.invalid("must be a list of strings, found \(v.typeName)", at: at) }
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, values.contains(s) else {
                    throw APIError.invalid("must be one of \(values.joined(separator: ", ")), found \(Self.shown(item))", at: "\(at)[\(i)]")
                }
            }
        case .ids(let min, let max):
            guard case .array(let items) = v else { throw APIError.invalid("must be a list of ids, found \(v.typeName)", at: at) }
            guard items.count >= min else { throw APIError.invalid("must hold at least \(min)", at: at) }
            guard items.count <= max else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) items; at most \(max)", at: at)
            }
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else { throw APIError.invalid("must be a string id, found \(item.typeName)", at: "\(at)[\(i)]") }
                try Validate.id(s, at: "\(at)[\(i)]")
            }
        case .constant(let c):
            guard case .string(let s) = v, s == c else { throw APIError.invalid("must be \"\(c)\" on this route, found \(Self.shown(v))", at: at) }
        }
    }

    private static func shown(_ v: JSONValue) -> String {
        if case .string(let s) = v { return "\"\(s.prefix(40))\"" }
        return v.typeName
    }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// The JSON Schema of this shape (OpenAPI 3.1).
    var schema: [String: Any] {
        var properties: [String: Any] = [:]
        for f in fields {
            var s = Self.schema(f.kind)
            if let d = f.description { s["description"] = d }
            properties[f.name] = s
        }
        var o: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        let required = fields.filter(\.required).map(\.name)
        if !required.isEmpty { o["required"] = required }
        if let description { o["description"] = description }
        return o
    }

    static func schema(_ kind: BodyField.Kind) -> [String: Any] {
        switch kind {
        case .id: return Validate.idSchema
        case .timestamp: return ["type": "integer", "minimum": 0, "maximum": TimestampRange.max, "description": "Unix seconds; default: the time of the request"]
        case .choice(let values): return ["type": "string", "enum": values]
        case .choices(let values): return ["type": "array", "items": ["type": "string", "enum": values]]
        case .ids(let min, let max): return ["type": "array", "items": Validate.idSchema, "minItems": min, "maxItems": max]
        case .constant(let c): return ["type": "string", "enum": [c]]
        }
    }
}

/// The bodies the API takes, as shapes: checked by the routes, published by the OpenAPI document.
enum BodyShapes {
    /// Fields of an event of this type besides `type` and `at`, with whether each is required.
    static func eventFields(_ type: String) -> [BodyField] {
        let needed = EventInput.types.first { $0.name == type }?.fields ?? []
        var out = needed.map { name -> BodyField in
            switch name {
            case "kind": BodyField(name: name, kind: .choice(Interaction.Kind.allCases.map(\.name)), required: true)
            case "flags": BodyField(name: name, kind: .choices(UserFlags.all.map(\.1)), required: true,
                                    description: "The user's flags; an empty list clears them")
            default: BodyField(name: name, kind: .id, required: true)
            }
        }
        if type == "dismiss" { out.append(reason) }
        if type == "impression" { out.append(surface) }
        out.append(at)
        return out
    }

    static let at = BodyField(name: "at", kind: .timestamp, required: false)
    static let reason = BodyField(name: "reason", kind: .choice(DismissalReason.allCases.map(\.name)), required: false,
                                  description: "Why the suggestion was dismissed (default not_interested)")
    static let surface = BodyField(name: "surface", kind: .id, required: false, description: "Where the suggestions were shown (default \"default\")")

    /// An event in a batch: `type` names which one and is required.
    static func event(_ type: String) -> BodyShape {
        BodyShape(fields: [BodyField(name: "type", kind: .constant(type), required: true)] + eventFields(type))
    }

    /// The body of a route that records one event type: `type` may be left out.
    static func singleEvent(_ type: String) -> BodyShape {
        BodyShape(fields: [BodyField(name: "type", kind: .constant(type), required: false)] + eventFields(type))
    }

    static let flags = BodyShape(fields: [
        BodyField(name: "flags", kind: .choices(UserFlags.all.map(\.1)), required: true, description: "The user's flags; an empty list clears them"), at,
    ])
    static let dismissal = BodyShape(fields: [BodyField(name: "candidate", kind: .id, required: true), reason, at])
    static func impressions(maxItems: Int) -> BodyShape {
        BodyShape(fields: [BodyField(name: "user", kind: .id, required: true),
                           BodyField(name: "candidates", kind: .ids(min: 1, max: maxItems), required: true), surface, at])
    }

    /// The batch's own fields (its events are checked one by one, by type).
    static let batchModes = ["atomic", "per_item"]

    /// Component name of an event type's schema (`follow` → `FollowEvent`).
    static func componentName(_ type: String, single: Bool = false) -> String {
        type.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + (single ? "EventBody" : "Event")
    }
}

extension EventInput {
    /// An event from a checked object (`BodyShape.check` has refused unknown fields, nulls and wrong types).
    init(checked o: [String: JSONValue]) {
        func string(_ k: String) -> String? { if case .string(let s)? = o[k] { s } else { nil } }
        self.init()
        type = string("type")
        id = string("id")
        follower = string("follower")
        followee = string("followee")
        user = string("user")
        blocked = string("blocked")
        author = string("author")
        post = string("post")
        kind = string("kind")
        candidate = string("candidate")
        reason = string("reason")
        surface = string("surface")
        if case .array(let items)? = o["flags"] { flags = items.compactMap { if case .string(let s) = $0 { s } else { nil } } }
        if case .integer(let t)? = o["at"] { at = t }
    }

    /// One event of a batch: its `type` picks the shape it is checked against.
    static func checked(_ value: JSONValue, at path: String) throws(APIError) -> EventInput {
        guard case .object(let o) = value else { throw APIError.invalid("must be a JSON object, found \(value.typeName)", at: path) }
        guard let t = o["type"] else { throw APIError.invalid("is required", at: BodyShape.join(path, "type")) }
        guard case .string(let type) = t, EventInput.types.contains(where: { $0.name == type }) else {
            let found: String = if case .string(let s) = t { "\"\(s.prefix(40))\"" } else { t.typeName }
            throw APIError.invalid("unknown event type \(found); one of \(EventInput.types.map(\.name).joined(separator: ", "))",
                                   at: BodyShape.join(path, "type"))
        }
        return EventInput(checked: try BodyShapes.event(type).check(value, at: path))
    }
}
