import Foundation
import OrbitCore
import OrbitRecommend

/// The baselines a recommender engineer tries first, as candidate sources so they are evaluated
/// exactly like Orbit's own: popularity, common neighbours, Adamic-Adar, personalised PageRank.
public enum Baseline: String, CaseIterable, Sendable {
    case popularity
    case commonNeighbours = "common_neighbours"
    case adamicAdar = "adamic_adar"
    case personalizedPageRank = "personalized_pagerank"
}

/// Scores every user reachable in two steps (u → f → c) and keeps the best eligible ones.
public struct BaselineSource: CandidateSource {
    public let baseline: Baseline
    public let leaderboards: Leaderboards
    /// Restart probability, push threshold and work bound of personalised PageRank.
    public var restart: Double = 0.3
    public var epsilon: Double = 1e-5
    public var maxPushes = 200_000
    public var kind: SourceKind { .followeesOfFollowees }

    public init(_ baseline: Baseline, leaderboards: Leaderboards) {
        self.baseline = baseline
        self.leaderboards = leaderboards
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        let s = r.view.snapshot
        var score: [UserIndex: Double] = [:]
        switch baseline {
        case .popularity:
            return PopularSource(leaderboards: leaderboards).candidates(for: r, limit: limit, filtered: &filtered)
        case .commonNeighbours, .adamicAdar:
            for f in r.eligibility.followees {
                let degree = s.followees.degree(f) + s.followers.degree(f)
                let w = baseline == .commonNeighbours ? 1 : 1 / log(Double(max(degree, 2)))
                for c in s.followees.row(f) { score[c, default: 0] += w }
            }
        case .personalizedPageRank:
            var ppr = PersonalizedPageRankSource(maxPushes: maxPushes)
            ppr.restart = restart
            ppr.epsilon = epsilon
            score = ppr.scores(for: r)
        }
        var ok: [(UserIndex, Double)] = []
        for (c, v) in score.sorted(by: { $0.key < $1.key }) {
            if let why = r.eligibility.reason(c) { filtered.add(why) } else { ok.append((c, v)) }
        }
        ok.sort { ($0.1, -Double($0.0)) > ($1.1, -Double($1.0)) }
        return ok.prefix(limit).map {
            Candidate(user: $0.0, score: Float($0.1), source: .followeesOfFollowees, evidence: .followedByFollowees(count: Int($0.1)))
        }
    }
}
