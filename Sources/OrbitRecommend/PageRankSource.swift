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
        r.scratch.with(users: r.view.userCount) { sc in
            push(r, sc)
            let mass = sc.pushBuffers().mass
            var out: [UserIndex: Double] = [:]
            for u in sc.touched where mass[Int(u)] > 0 { out[u] = mass[Int(u)] }
            return out
        }
    }

    /// The push itself, on the scratch set's dense buffers (a request reaches tens of thousands of
    /// users at 1M: hashing each residual update cost more than the rest of the source). Every
    /// user given mass or residual is in `sc.touched`; the arithmetic and its order are those of
    /// the textbook loop, so the masses do not depend on the buffers.
    private func push(_ r: FollowRequest, _ sc: ExpansionScratch) {
        let s = r.view.snapshot
        // The buffers cover the live view's users: a user outside it has no walk to start.
        guard r.user >= 0, Int(r.user) < r.view.userCount else { return }
        let (mass, residual) = sc.pushBuffers()
        _ = sc.insert(r.user)
        residual[Int(r.user)] = 1
        var queue: [UserIndex] = [r.user]
        var pushes = 0
        while let v = queue.popLast(), pushes < maxPushes {
            let rv = residual[Int(v)]
            let out = v == r.user ? r.eligibility.followees[...] : (Int(v) < s.userCount ? s.followees.row(v) : [])
            guard rv > epsilon * Double(max(out.count, 1)) else { continue }
            pushes += 1
            mass[Int(v)] += restart * rv
            residual[Int(v)] = 0
            guard !out.isEmpty else { continue }
            let share = (1 - restart) * rv / Double(out.count)
            out.withUnsafeBufferPointer { out in
                for c in out {
                    let i = Int(c)
                    _ = sc.insert(c)
                    let before = residual[i]
                    residual[i] = before + share
                    let threshold = epsilon * Double(max(i < s.userCount ? s.followees.degree(c) : 0, 1))
                    if before <= threshold && before + share > threshold { queue.append(c) }
                }
            }
        }
    }

    public func candidates(for r: FollowRequest, limit: Int, filtered: inout FilterCounts) -> [Candidate] {
        guard limit > 0 else { return [] }
        return r.scratch.with(users: r.view.userCount) { sc in
            push(r, sc)
            let mass = sc.pushBuffers().mass
            var reached: [RankedMass] = []
            reached.reserveCapacity(sc.touched.count)
            for u in sc.touched where mass[Int(u)] > 0 { reached.append(RankedMass(mass: mass[Int(u)], user: u)) }
            // Only the best reached users are filtered, in rank order, until `limit` pass (as the
            // expansion sources do): most of the tens of thousands reached are never examined.
            var out: [Candidate] = []
            out.reserveCapacity(limit)
            let firstChunk = limit + limit / 4 + min(r.eligibility.followees.count, 2 * limit)
            visitBestFirst(&reached, firstChunk: firstChunk) { item in
                if let why = r.eligibility.reason(item.user) {
                    filtered.add(why)
                } else {
                    out.append(Candidate(user: item.user, score: Float(item.mass), source: .personalizedPageRank, evidence: .closeInGraph))
                }
                return out.count < limit
            }
            return out
        }
    }
}

/// A user reached by the push, ordered best first: more mass, then the lower user index (the
/// order of the hashed version this replaced). Positive doubles order as their bit patterns, so a
/// comparison is two integer compares and the exact mass decides, not its `Float` rounding.
struct RankedMass: Comparable {
    let key: UInt64
    let user: UserIndex

    init(mass: Double, user: UserIndex) {
        key = ~mass.bitPattern
        self.user = user
    }

    var mass: Double { Double(bitPattern: ~key) }

    @inline(__always)
    static func < (a: RankedMass, b: RankedMass) -> Bool { a.key != b.key ? a.key < b.key : a.user < b.user }
}
