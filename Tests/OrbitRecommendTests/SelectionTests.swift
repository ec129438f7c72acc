import OrbitCore
import Testing
@testable import OrbitRecommend
import TestThreads

/// The best-first selection that graph expansion and the model sources rank with: checked against
/// a plain sort, and the sources built on it against a brute-force "filter everything, then sort".
@Suite(.testThreads) struct SelectionTests {
    /// A small deterministic generator, so failures reproduce.
    struct LCG {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    /// Reference order: higher score first (NaN last, -0 == +0), then lower tie, then earlier item.
    static func reference(_ scores: [Float], ties: [Int], k: Int) -> [Int] {
        func key(_ x: Float) -> Float { x.isNaN ? -.infinity : x }
        let order = scores.indices.sorted { a, b in
            let (sa, sb) = (scores[a], scores[b])
            if sa.isNaN != sb.isNaN { return sb.isNaN }
            if key(sa) != key(sb) { return key(sa) > key(sb) }
            if ties[a] != ties[b] { return ties[a] < ties[b] }
            return a < b
        }
        return Array(order.prefix(k))
    }

    @Test func topKMatchesAFullSortWithTiesNaNAndSignedZero() {
        var g = LCG(state: 7)
        let values: [Float] = [0, -0.0, 1, 1, 2, -3, .nan, .infinity, -.infinity, 0.5, 1e-30, -1e-30]
        for n in [0, 1, 2, 3, 17, 25, 26, 100, 999, 3_000] {
            let scores = (0..<n).map { _ in g.next(3) == 0 ? values[g.next(values.count)] : Float(g.next(20)) }
            let ties = (0..<n).map { _ in g.next(max(n / 3, 1)) }
            for k in Set([0, 1, 5, n / 10, n / 2, n - 1, n, n + 5]) where k >= 0 {
                let got = topK(Array(0..<n), k: k, by: { scores[$0] }, tie: { ties[$0] })
                #expect(got == Self.reference(scores, ties: ties, k: k), "n \(n) k \(k)")
                // Without a tie key, input order decides.
                let byPosition = topK(Array(0..<n), k: k, by: { scores[$0] })
                #expect(byPosition == Self.reference(scores, ties: Array(0..<n), k: k), "n \(n) k \(k), by position")
            }
        }
    }

    @Test func visitingBestFirstSeesEveryItemInOrderAndStopsWhenAsked() {
        var g = LCG(state: 11)
        for n in [0, 5, 40, 1_000, 5_000] {
            let scores = (0..<n).map { _ in Float(g.next(50)) }
            var ranked = scores.indices.map { Ranked(score: scores[$0], tie: $0, position: $0) }
            var seen: [Int] = []
            visitBestFirst(&ranked, firstChunk: 7) { seen.append(Int($0.position)); return true }
            #expect(seen == Self.reference(scores, ties: Array(0..<n), k: n))
            var stopped: [Int] = []
            visitBestFirst(&ranked, firstChunk: 3) { stopped.append(Int($0.position)); return stopped.count < 10 }
            #expect(stopped == Array(seen.prefix(10)))
        }
    }

    /// A random network with flags and blocks: the expansion sources filter lazily, in rank order,
    /// yet must return exactly what filtering every reached user and then sorting returns.
    @Test func expansionSourcesEqualFilterThenSort() {
        var g = LCG(state: 3)
        var net = Net(users: 400)
        for a in 0..<400 {
            for _ in 0..<(1 + g.next(a % 7 == 0 ? 120 : 15)) {
                let b = Int32(g.next(400))
                if b != Int32(a) { net.follows.append((Int32(a), b)) }
            }
        }
        for u in 0..<40 { net.flags[Int32(g.next(400))] = [.inactive, .reported, .blacklisted][u % 3] }
        for _ in 0..<200 { net.blocks.append((Int32(g.next(400)), Int32(g.next(400)))) }
        let s = net.snapshot
        var limits = ExpansionLimits()
        limits.edgesPerStep = 600  // small, so the cap applies on this little network too
        for u in stride(from: Int32(0), to: 400, by: 7) {
            let r = request(s, u)
            let followees = Array(r.eligibility.followees.prefix(limits.followees))
            let allowed = { (v: Int32) in r.eligibility.reason(v) == nil }
            // Followees of followees, brute force.
            var fof: [Int32: Int] = [:]
            for f in followees { for v in s.followees.row(f).prefix(limits.perRow(followees.count)) { fof[v, default: 0] += 1 } }
            let fofUsers = fof.keys.filter(allowed).sorted()
            let fofScores = fofUsers.map { Float(fof[$0]!) + Float(s.followers.degree($0)) * 1e-6 }
            var filtered = FilterCounts()
            for limit in [1, 10, 1_000] {
                let want = Self.reference(fofScores, ties: fofUsers.map { Int($0) }, k: limit).map { fofUsers[$0] }
                let got = FolloweesOfFolloweesSource(limits: limits).candidates(for: r, limit: limit, filtered: &filtered)
                #expect(got.map(\.user) == want, "followees of followees, user \(u), limit \(limit)")
                #expect(got.allSatisfy { $0.score == Float(fof[$0.user]!) })
            }
            // Co-followers' followees, brute force.
            var shared: [Int32: Int] = [:]
            for f in followees { for w in s.followers.row(f).prefix(limits.perRow(followees.count)) where w != u { shared[w, default: 0] += 1 } }
            let sharedUsers = shared.keys.sorted()
            let top = Self.reference(sharedUsers.map { Float(shared[$0]!) }, ties: sharedUsers.map { Int($0) }, k: limits.coFollowers)
                .map { sharedUsers[$0] }
            var weight: [Int32: Float] = [:]
            for w in top { for v in s.followees.row(w).prefix(limits.perRow(top.count)) { weight[v, default: 0] += Float(shared[w]!) } }
            let coUsers = weight.keys.filter(allowed).sorted()
            for limit in [1, 10, 1_000] {
                let want = Self.reference(coUsers.map { weight[$0]! }, ties: coUsers.map { Int($0) }, k: limit).map { coUsers[$0] }
                let got = CoFollowersSource(limits: limits).candidates(for: r, limit: limit, filtered: &filtered)
                #expect(got.map(\.user) == want, "co-followers, user \(u), limit \(limit)")
            }
            #expect(filtered.total > 0 || followees.isEmpty)
        }
    }
}
