import OrbitCore

/// Personalised PageRank from the user (Andersen–Chung–Lang push on the followee graph): users
/// close to the user through many short follow paths. Work is bounded by `maxPushes` whatever the
/// graph's size; on trust graphs split by time it beats Adamic-Adar (BENCHMARKS.md).
public struct PersonalizedPageRankSource: CandidateSource {
    /// Restart probability (the walk's return to the user).
    public var restart: Double = 0.3
    /// Push threshold per out-edge.
    public var epsilon: Double = 1e-5
    /// Pushes per request at most.
    public var maxPushes: Int
    public var kind: SourceKind { .personalizedPageRank }

    public init(maxPushes: Int = 20_000) { self.maxPushes = maxPushes }

    /// Approximate PageRank mass of every user reached (the user included), unfiltered.
    public func scores(for r: FollowRequest) -> [UserIndex: Double] {
        let s = r.view.snapshot
        var score: [UserIndex: Double] = [:]
        var residual: [UserIndex: Double] = [r.user: 1]
        var queue: [UserIndex] = [r.user]
        var pushes = 0
        while let v = queue.popLast(), pushes < maxPushes {
            guard let rv = residual[v] else { continue }
            let out = v == r.user ? r.eligibility.followees[...] : (Int(v) < s.userCount ? s.followees.row(v) : [])
            guard rv > epsilon * Double(max(out.count, 1)) else { continue }
            pushes += 1
            score[v, default: 0] += restart * rv
            residual[v] = nil
            guard !out.isEmpty else { continue }
            let share = (1 - restart) * rv / Double(out.count)
            for c in out {
                let before = residual[c] ?? 0
                residual[c] = before + share
                let degree = Double(max(Int(c) < s.userCount ? s.followees.degree(c) : 0, 1))
                if before <= epsilon * degree && before + share > epsilon * degree { queue.append(c) }
            }
        }
        return score
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        var ok: [(UserIndex, Double)] = []
        for (c, v) in scores(for: r).sorted(by: { $0.key < $1.key }) {
            if let why = r.eligibility.reason(c) { filtered.add(why) } else { ok.append((c, v)) }
        }
        ok.sort { ($0.1, -Double($0.0)) > ($1.1, -Double($1.0)) }
        return ok.prefix(limit).map { Candidate(user: $0.0, score: Float($0.1), source: .personalizedPageRank, evidence: .closeInGraph) }
    }
}
