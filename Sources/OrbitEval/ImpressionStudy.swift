import OrbitCore
import OrbitRecommend

/// What impression discounting does when a client shows the same user suggestions again and
/// again: each user asks for who to follow `requests` times in a row, is shown the top `k` each
/// time, and the client reports those impressions (as `POST /v1/impressions` does). Measured
/// against the follows each user made later (a time split), with and without discounting.
public enum ImpressionStudy {
    public struct Result: Sendable, CustomStringConvertible {
        public var label: String
        public var users = 0
        /// Distinct accounts a user was shown over all requests, on average.
        public var distinctShown = 0.0
        /// HR@k of each request's list against the user's later follows (request 1 first).
        public var hitRatePerRequest: [Double] = []
        /// Users with a later follow anywhere in what they were shown over the session.
        public var sessionHitRate = 0.0

        public var meanHitRate: Double { hitRatePerRequest.isEmpty ? 0 : hitRatePerRequest.reduce(0, +) / Double(hitRatePerRequest.count) }

        public var description: String {
            String(format: "%@: %d users, %.1f distinct accounts shown over %d requests, HR@10 per request %.4f (first %.4f, last %.4f), "
                   + "session hit rate %.4f", label, users, distinctShown, hitRatePerRequest.count, meanHitRate,
                   hitRatePerRequest.first ?? 0, hitRatePerRequest.last ?? 0, sessionHitRate)
        }
    }

    /// Runs the sessions over `graph` (the input graph: only follows made before the held-out ones)
    /// for the users of `later`; `discount` nil switches impression discounting off.
    public static func run(
        label: String, graph: Snapshot, later: [UserIndex: [UserIndex]], requests: Int = 10, k: Int = 10,
        discount: ImpressionDiscount?, expansion: ExpansionLimits = ExpansionLimits()
    ) -> Result {
        let now = Leaderboards.latestEvent(in: graph)
        var config = BlendConfig()
        config.logic = .none
        config.expansion = expansion
        var off = ImpressionDiscount()
        off.enabled = false
        config.impressions = discount ?? off
        let base = FollowRecommender(view: LiveView(snapshot: graph), leaderboards: Leaderboards(snapshot: graph, now: now), now: now, config: config)
        var result = Result(label: label)
        var hits = [Int](repeating: 0, count: requests)
        var distinct = 0, sessionHits = 0
        // One overlay for the whole run, as a server's would hold every client's impressions.
        var overlay = Overlay(snapshot: graph)
        for (user, follows) in later.sorted(by: { $0.key < $1.key }) where !follows.isEmpty {
            let target = Set(follows)
            var shown = Set<UserIndex>()
            var hitInSession = false
            for r in 0..<requests {
                let list = base.with(view: LiveView(snapshot: graph, overlay: overlay)).recommend(user: user, k: k).items.map(\.user)
                if list.contains(where: target.contains) {
                    hits[r] += 1
                    hitInSession = true
                }
                // The client shows the list a few minutes apart and reports it.
                for v in list { overlay.impression(user, shown: v, at: now + Timestamp(r * 300)) }
                shown.formUnion(list)
            }
            result.users += 1
            distinct += shown.count
            if hitInSession { sessionHits += 1 }
        }
        guard result.users > 0 else { return result }
        result.distinctShown = Double(distinct) / Double(result.users)
        result.hitRatePerRequest = hits.map { Double($0) / Double(result.users) }
        result.sessionHitRate = Double(sessionHits) / Double(result.users)
        return result
    }
}
