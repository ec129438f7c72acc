import Foundation
import Testing
@testable import OrbitServer
import TestThreads

/// The recommendation answers write their own JSON; it must be byte for byte what the shared
/// `JSONEncoder` settings produce, whatever the ids and numbers hold.
@Suite(.testThreads) struct JSONWriterTests {
    static let awkward = [
        "u1", "", "with \"quotes\" and \\ backslash", "slash/and/colon:", "tab\tnew\nline\rcr", "\u{01}\u{08}\u{0C}\u{1F}\u{7F}",
        "é ü 中文 🙂", "\u{2028}\u{2029}\u{FEFF}", "<script>alert(1)</script>", "' OR 1=1 --",
    ]
    static let floats: [Float] = [0, -0.0, 1, -1, 0.5, 0.123456789, 1e-7, 3.4e38, 1e20, 123456789, .nan, .infinity, -.infinity, .leastNonzeroMagnitude]

    func same(_ value: some JSONWritable, _ what: String) throws {
        var w = JSONWriter()
        value.write(to: &w)
        let fast = String(buffer: w.buffer)
        let reference = String(decoding: try JSONResponse.encode(value), as: UTF8.self)
        #expect(fast == reference, "\(what)")
    }

    @Test func answersMatchTheEncoderByteForByte() throws {
        var items: [UserItem] = []
        for (i, s) in Self.awkward.enumerated() {
            let score: Float? = i % 3 == 0 ? nil : Self.floats[i % Self.floats.count]
            items.append(UserItem(user: s, source: "co_followers", reason: "followed by \(s)", score: score))
        }
        for f in Self.floats { items.append(UserItem(user: "x", source: "model_graph", reason: "r", score: f)) }
        let posts = Self.awkward.enumerated().map { i, s in
            PostItem(post: "p/\(s)", author: s, source: "engaged", reason: s, score: i % 2 == 0 ? nil : Self.floats[i % Self.floats.count])
        }
        try same(FollowRecommendations(user: "u\"1", coldStart: false, items: items, filtered: nil, sources: nil, version: 42), "plain")
        try same(FollowRecommendations(user: "é", coldStart: true, items: [], filtered: [:], sources: [:], version: -1), "empty")
        try same(FollowRecommendations(
            user: "u", coldStart: false, items: Array(items.prefix(3)),
            filtered: ["already_followed": 12, "self": 1, "blocked": 0, "inactive": 3, "a_b": 2, "ab": 5, "Zed": 1],
            sources: ["co_followers": 3, "model_graph": 7, "followees_of_followees": 1], version: Int64.max), "explain")
        try same(PostRecommendations(user: "u1", items: posts), "posts")
        try same(PostRecommendations(user: "", items: []), "no posts")
        let entries = posts.prefix(4).map { FeedEntry(type: "post", post: $0, user: nil) }
            + items.prefix(4).map { FeedEntry(type: "user", post: nil, user: $0) }
        try same(Feed(user: "u 1", items: entries), "feed")
    }
}
