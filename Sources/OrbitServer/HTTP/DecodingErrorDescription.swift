import Foundation

/// A `DecodingError` said as "where: what", e.g. `events[3].at: expected an integer`.
struct DecodingErrorDescription {
    let path: String
    let what: String
    var text: String { path.isEmpty ? what : "\(path): \(what)" }

    init(_ e: DecodingError) {
        func render(_ path: [any CodingKey]) -> String {
            var s = ""
            for k in path {
                if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : "." + k.stringValue }
            }
            return s
        }
        switch e {
        case .typeMismatch(let type, let c):
            path = render(c.codingPath)
            what = "expected \(Self.name(of: type))"
        case .valueNotFound(let type, let c):
            path = render(c.codingPath)
            what = "expected \(Self.name(of: type)), found null"
        case .keyNotFound(let key, let c):
            path = render(c.codingPath + [key])
            what = "is required"
        case .dataCorrupted(let c):
            path = render(c.codingPath)
            // Foundation's messages for broken JSON or out-of-range numbers are readable as they are.
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            what = underlying.map { "\(c.debugDescription) (\($0))" } ?? c.debugDescription
        @unknown default:
            path = ""
            what = "\(e)"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type, is Float.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
