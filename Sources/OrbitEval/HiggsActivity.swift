import OrbitCore

/// The SNAP Higgs Twitter activity file (`userA userB time RT|RE|MT`) as engagement with authors:
/// a retweet is a repost, a reply a comment, a mention an author click.
public enum HiggsActivity {
    /// Why a line was refused: the file's line number (1-based) and what was wrong.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(path):\(line): \(reason)" }
    }

    /// The parsed events and the number of distinct users (ids are dense, in order of first appearance).
    public struct Parsed: Sendable {
        public var events: [AuthorInteraction]
        public var userCount: Int
    }

    /// Parses the file's text; `path` names it in errors. Empty lines are skipped.
    public static func parse(_ text: String, path: String) throws(ParseError) -> Parsed {
        var ids: [Substring: Int32] = [:]
        func id(_ s: Substring) -> Int32 {
            if let i = ids[s] { return i }
            let i = Int32(ids.count)
            ids[s] = i
            return i
        }
        var events: [AuthorInteraction] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let f = line.split(separator: " ")
            guard f.count == 4, let t = Int64(f[2]) else {
                throw ParseError(path: path, line: n + 1, reason: "expected `userA userB time kind` (4 fields separated by spaces, time an integer)")
            }
            let kind: Interaction.Kind
            switch f[3] {
            case "RT": kind = .repost
            case "RE": kind = .comment
            case "MT": kind = .authorClick
            default: throw ParseError(path: path, line: n + 1, reason: "unknown kind \(f[3].prefix(20)) (expected RT, RE or MT)")
            }
            events.append(AuthorInteraction(user: id(f[0]), author: id(f[1]), kind: kind, time: t))
        }
        return Parsed(events: events, userCount: ids.count)
    }
}
