import Foundation
import OrbitCore
import Ranking

/// The sources whose lists make the ranking stage's candidate union, in feature order. Sources
/// added later go at the end, so a ranker trained before them still finds its features in order.
public let rankedSources: [SourceKind] = [
    .engagedAuthors, .followeesOfFollowees, .coFollowers, .followsYou, .personalizedPageRank, .modelGraph, .modelComplex, .popular,
    .similarToRecentFollows, .networkRecentFollows,
]

/// The features of one (user, candidate) pair, each defined once here and named in the ranker
/// file. Missing values are NaN (never 0: 0 is a real count). Groups, for ablations: `source.*`,
/// `graph.*`, `degree.*`, `model.*`, `engagement.*`, `time.*`.
public enum FollowFeatures {
    /// Every feature name, in column order.
    public static let names: [String] = rankedSources.flatMap { ["source.\($0.rawValue).rank", "source.\($0.rawValue).score"] } + [
        "source.count",
        "graph.common_followees",        // the user's followees who follow the candidate
        "graph.adamic_adar",             // the same, each weighted 1 / log(degree of that followee + 2)
        "graph.shared_followers",        // users who follow both the user and the candidate
        "graph.same_followees",          // accounts both follow
        "graph.follows_you",             // 1 when the candidate follows the user
        "graph.mutuals_following",       // the user's mutual follows who follow the candidate
        "degree.candidate_followers",
        "degree.candidate_followees",
        "degree.candidate_new_followers_7d",  // the leaderboards' recent window
        "degree.user_followees",
        "degree.user_followers",
        "model.neumf_logit",
        "model.relation_cosine",         // cosine of the (user, candidate) relation vector to the mean of the user's follows'
        "engagement.key",                // SPEC §2.2's 4-bit key A·8 + C·4 + R·2 + L of the user's signals to the candidate
        "engagement.count",
        "engagement.age_days",
        "time.shared_edge_age_days",     // age of the newest follow of the candidate by one of the user's followees
    ]

    /// The index of a feature by name.
    public static func index(_ name: String) -> Int { names.firstIndex(of: name)! }

    /// Which group a feature belongs to (the part of its name before the first dot).
    public static func group(_ name: String) -> String { String(name.prefix { $0 != "." }) }

    static let day: Double = 86_400

    /// Sorted intersection size of two sorted lists; walks the shorter and binary-searches the
    /// longer, so a hub's long follower list costs a logarithm per step.
    static func intersection(_ a: ArraySlice<Int32>, _ b: ArraySlice<Int32>, each: (Int32) -> Void = { _ in }) -> Int {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var n = 0
        for x in small where large.binarySearchContains(x) {
            n += 1
            each(x)
        }
        return n
    }

    /// The features of `candidates` (each once) for the request's user. `lists` are the sources' lists (best
    /// first) the union was made of; `scorer` gives the model features when there is a model.
    /// `newFollowers` is every user's count of new followers in the recent window (the
    /// leaderboards keep it), nil where unknown.
    public static func matrix(
        for r: FollowRequest, candidates: [UserIndex], lists: [SourceKind: [Candidate]], scorer: (any PairScorer)?,
        newFollowers: [Int32]?
    ) -> FeatureMatrix {
        let s = r.view.snapshot
        let u = r.user
        let followees = ArraySlice(r.eligibility.followees)
        let inSnapshot = { (x: UserIndex) in x >= 0 && Int(x) < s.userCount }
        let userFollowers = inSnapshot(u) ? s.followers.row(u) : []
        let mutuals = followees.filter { userFollowers.binarySearchContains($0) }
        // Each candidate's rank and score in each source, flat by row (NaN where the source did
        // not list it): one hash lookup per listed item instead of one per source per row.
        let sourceCount = rankedSources.count
        var rowOf: [UserIndex: Int] = [:]
        rowOf.reserveCapacity(candidates.count)
        for (i, c) in candidates.enumerated() where rowOf[c] == nil { rowOf[c] = i }
        var ranks = [Float](repeating: .nan, count: candidates.count * sourceCount * 2)
        var listed = [Float](repeating: 0, count: candidates.count)
        for (j, k) in rankedSources.enumerated() {
            guard let list = lists[k] else { continue }
            for (i, c) in list.enumerated() {
                guard let row = rowOf[c.user] else { continue }
                let at = (row * sourceCount + j) * 2
                guard ranks[at].isNaN else { continue }  // a source's first listing counts
                ranks[at] = Float(i + 1)
                ranks[at + 1] = c.score
                listed[row] += 1
            }
        }
        let engaged = Dictionary(r.view.engagements(of: u).map { ($0.author, $0) }, uniquingKeysWith: { a, _ in a })
        // Model features: one batched call for the logits, one for the relation vectors.
        var logits = [Float](repeating: .nan, count: candidates.count)
        var cosines = [Float](repeating: .nan, count: candidates.count)
        if let scorer, scorer.canScore(user: u) {
            let known = candidates.indices.filter { Int(candidates[$0]) < scorer.knownUsers }
            let p = scorer.scores(user: u, candidates: known.map { candidates[$0] })
            for (j, i) in known.enumerated() {
                let q = min(max(Double(p[j]), 1e-7), 1 - 1e-7)
                logits[i] = Float(log(q / (1 - q)))
            }
            let d = scorer.relationDimension
            let own = Array(followees.filter { Int($0) < scorer.knownUsers }.prefix(50))
            if d > 0, !own.isEmpty, !known.isEmpty {
                let ov = scorer.relationVectors(user: u, items: own)
                var mean = [Float](repeating: 0, count: d)
                for k in 0..<own.count { for j in 0..<d { mean[j] += ov[k * d + j] } }
                let mn = sqrt(mean.reduce(0) { $0 + $1 * $1 })
                let cv = scorer.relationVectors(user: u, items: known.map { candidates[$0] })
                for (k, i) in known.enumerated() {
                    var dot: Float = 0, n: Float = 0
                    for j in 0..<d {
                        let x = cv[k * d + j]
                        dot += x * mean[j]
                        n += x * x
                    }
                    if mn > 0 && n > 0 { cosines[i] = dot / (mn * sqrt(n)) }
                }
            }
        }
        let now = r.now
        let hasTimes = s.hasFollowTimes
        var m = FeatureMatrix(names: names)
        m.values.reserveCapacity(candidates.count * names.count)
        // One row buffer, refilled per candidate: no allocation per row or per source.
        var row: [Float] = []
        row.reserveCapacity(names.count)
        for (i, c) in candidates.enumerated() {
            row.removeAll(keepingCapacity: true)
            row.append(contentsOf: ranks[(i * sourceCount * 2)..<((i + 1) * sourceCount * 2)])
            row.append(listed[i])
            let cFollowers = inSnapshot(c) ? s.followers.row(c) : []
            let cFollowees = inSnapshot(c) ? s.followees.row(c) : []
            var adamic = 0.0
            var newestShared: Timestamp = .min
            let common = intersection(followees, cFollowers) { b in
                adamic += 1 / log(Double(s.followers.degree(b) + s.followees.degree(b)) + 2)
                if hasTimes, let t = s.followedAt(follower: b, followee: c) { newestShared = max(newestShared, t) }
            }
            row.append(Float(common))
            row.append(Float(adamic))
            row.append(Float(intersection(userFollowers, cFollowers)))
            row.append(Float(intersection(followees, cFollowees)))
            row.append(cFollowees.binarySearchContains(u) ? 1 : 0)
            row.append(Float(intersection(ArraySlice(mutuals), cFollowers)))
            row.append(Float(cFollowers.count))
            row.append(Float(cFollowees.count))
            if hasTimes, let newFollowers, inSnapshot(c), Int(c) < newFollowers.count {
                row.append(Float(newFollowers[Int(c)]))
            } else {
                row.append(.nan)
            }
            row.append(Float(followees.count))
            row.append(Float(userFollowers.count))
            row.append(logits[i])
            row.append(cosines[i])
            if let e = engaged[c] {
                row.append(Float(e.signals.priorityKey))
                row.append(Float(e.count))
                row.append(Float(Double(now - e.lastTime) / day))
            } else {
                row.append(.nan)
                row.append(.nan)
                row.append(.nan)
            }
            row.append(newestShared == .min ? .nan : Float(Double(now - newestShared) / day))
            m.append(row)
        }
        return m
    }
}
