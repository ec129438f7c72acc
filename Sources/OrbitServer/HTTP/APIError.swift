import Foundation
import Hummingbird

/// An error answered to a client as JSON: `{"error": {"status", "code", "message", "where"}}`.
/// `where` names the field (`events[3].at`), parameter (`k`) or header that was wrong.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var location: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, at location: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String { "\(status.code) \(code): \(location.map { "\($0): " } ?? "")\(message)" }

    struct Body: Codable {
        struct Detail: Codable {
            var status: Int
            var code: String
            var message: String
            var `where`: String?
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(status: status.code, code: code, message: message, where: location))
        var r = try JSONResponse.make(body, status: status)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer realm=\"orbit\"" }
        return r
    }

    static func invalid(_ message: String, at location: String? = nil) -> APIError {
        APIError(.badRequest, "invalid_request", message, at: location)
    }

    static func notFound(_ what: String, _ id: String, at location: String) -> APIError {
        APIError(.notFound, "unknown_\(what)", "no \(what) with id \"\(id.prefix(80))\" in this store", at: location)
    }
}

/// JSON responses with the encoder settings every route shares.
enum JSONResponse {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        response(ByteBuffer(bytes: try encode(value)), status: status)
    }

    static func response(_ body: ByteBuffer, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: body))
    }
}
