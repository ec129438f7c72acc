import Foundation
import OrbitCore
import OrbitRecommend

/// One user-to-author interaction with a time, the input of the engagement-order study.
public struct AuthorInteraction: Sendable {
    public var user: Int32
    public var author: Int32
    public var kind: Interaction.Kind
    public var time: Timestamp

    public init(user: Int32, author: Int32, kind: Interaction.Kind, time: Timestamp) {
        self.user = user
        self.author = author
        self.kind = kind
        self.time = time
    }
}

/// Compares orders of the engaged-authors source on a split by time: train on the earlier
/// interactions, and predict whom each user interacts with later.
public enum EngagementOrderStudy {
    /// An order of a user's engaged authors.
    public enum Order: String, CaseIterable, Sendable {
        /// SPEC §2.2: the 4-bit key A·8 + C·4 + R·2 + L, then count, then recency.
        case specKey = "4-bit key, then count, then recency"
        case count = "interaction count, then recency"
        case recency = "most recent first"
    }

    public struct Result: Sendable {
        public var order: Order
        public var users = 0
        public var hitRate10 = 0.0
        public var recall10 = 0.0
        public var ndcg10 = 0.0
    }

    public struct Summary: Sendable {
        public var trainEvents = 0, testEvents = 0
        public var usersEvaluated = 0
        /// Share of test (user, author) pairs whose author the user had engaged with in train: the
        /// ceiling of any order of this source.
        public var reachable = 0.0
        public var results: [Result] = []
    }

    /// Splits `events` at the `trainShare` quantile of time and evaluates every order on users who
    /// engaged with someone in train and interact with someone in test.
    public static func run(_ events: [AuthorInteraction], trainShare: Double = 0.8) -> Summary {
        let sorted = events.sorted { $0.time < $1.time }
        let cut = sorted[min(sorted.count - 1, Int(Double(sorted.count) * trainShare))].time
        var train: [Int32: [Int32: AuthorEngagement]] = [:]
        var test: [Int32: Set<Int32>] = [:]
        var summary = Summary()
        for e in sorted where e.user != e.author {
            if e.time < cut {
                summary.trainEvents += 1
                train[e.user, default: [:]][e.author, default: AuthorEngagement(author: e.author, signals: [], count: 0, lastTime: e.time)]
                    .absorb(e.kind.signal, at: e.time)
            } else {
                summary.testEvents += 1
                test[e.user, default: []].insert(e.author)
            }
        }
        var reachable = 0, pairs = 0
        let users = test.keys.filter { train[$0] != nil }.sorted()
        for u in users {
            for a in test[u]! {
                pairs += 1
                if train[u]![a] != nil { reachable += 1 }
            }
        }
        summary.usersEvaluated = users.count
        summary.reachable = pairs == 0 ? 0 : Double(reachable) / Double(pairs)
        for order in Order.allCases {
            var r = Result(order: order, users: users.count)
            for u in users {
                let truth = test[u]!
                var list = Array(train[u]!.values)
                switch order {
                case .specKey: list.sort(by: EngagedAuthorsSource.ranksBefore)
                case .count: list.sort { ($0.count, $0.lastTime, -$0.author) > ($1.count, $1.lastTime, -$1.author) }
                case .recency: list.sort { ($0.lastTime, -$0.author) > ($1.lastTime, -$1.author) }
                }
                let m = Metrics.list(list.map(\.author), relevant: truth, k: 10)
                r.hitRate10 += m.hit
                r.recall10 += m.recall
                r.ndcg10 += m.ndcg
            }
            let n = Double(max(1, users.count))
            r.hitRate10 /= n
            r.recall10 /= n
            r.ndcg10 /= n
            summary.results.append(r)
        }
        return summary
    }
}
