import Hummingbird

/// Who may call a route.
enum Access: String, Sendable {
    /// Anyone (health, readiness, metrics, the OpenAPI document).
    case open
    /// Anyone when no read token is configured, else a read or write token.
    case read
    /// A write token: every write and admin route.
    case write
}

/// Bearer-token checks, compared in constant time so the time to refuse leaks nothing of a token.
struct TokenAuth: Sendable {
    let writeTokens: [[UInt8]]
    let readTokens: [[UInt8]]

    init(writeTokens: [String], readTokens: [String]) {
        self.writeTokens = writeTokens.map { Array($0.utf8) }
        self.readTokens = readTokens.map { Array($0.utf8) }
    }

    func check(_ access: Access, authorization: String?) throws(APIError) {
        switch access {
        case .open: return
        case .read where readTokens.isEmpty: return
        case .read, .write: break
        }
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "unauthorized", "this route needs \"Authorization: Bearer <token>\" with a \(access.rawValue) token",
                           at: "Authorization")
        }
        let given = Array(authorization.utf8.dropFirst(7))
        let accepted = access == .write ? writeTokens : writeTokens + readTokens
        // Every token is compared in full, and the results combined without branching.
        var match: UInt8 = 0
        for token in accepted { match |= Self.equal(given, token) }
        guard match == 1 else {
            throw APIError(.unauthorized, "unauthorized", "the token is not a valid \(access.rawValue) token", at: "Authorization")
        }
    }

    /// 1 when equal, 0 otherwise; time depends on the lengths only.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count) | UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0 ? 1 : 0
    }
}
