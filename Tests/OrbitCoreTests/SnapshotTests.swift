import Testing
@testable import OrbitCore
import TestThreads

@Suite(.testThreads) struct CSRTests {
    @Test func buildSortsAndDeduplicatesRows() {
        let (csr, order) = CSR.build(rows: 4, sources: [2, 0, 2, 0, 2, 3], targets: [1, 3, 0, 1, 1, 0])
        #expect(csr.row(0) == [1, 3])
        #expect(csr.row(1).isEmpty)
        #expect(csr.row(2) == [0, 1])
        #expect(csr.row(3) == [0])
        #expect(csr.edgeCount == 5)
        // `order` maps each kept entry back to its input position (first occurrence of a duplicate).
        #expect(order.count == 5)
        #expect(order[2] == 2 && order[3] == 0)
        #expect(csr.contains(2, 1) && !csr.contains(2, 3) && !csr.contains(1, 0))
        #expect(!csr.contains(-1, 0) && !csr.contains(9, 0))
    }
}

@Suite(.testThreads) struct IDMapTests {
    @Test func internAssignsDenseStableIndices() {
        var m = IDMap()
        #expect(m.intern("alice") == (0, true))
        #expect(m.intern("bob") == (1, true))
        #expect(m.intern("alice") == (0, false))
        let reopened = IDMap(externalIDs: m.externalIDs)
        #expect(reopened.index(of: "bob") == 1)
        #expect(reopened.externalID(of: 0) == "alice")
        #expect(reopened.index(of: "carol") == nil)
    }
}

@Suite(.testThreads) struct EngagementKeyTests {
    /// SPEC §2.2: ACRL > ACR > ACL > AC > ARL > AR > AL > A > CRL > CR > CL > C > RL > R > L > viewed.
    @Test func fourBitKeyGivesTheSpecOrder() {
        let spec = ["ACRL", "ACR", "ACL", "AC", "ARL", "AR", "AL", "A", "CRL", "CR", "CL", "C", "RL", "R", "L", "V"]
        var all: [EngagementSignals] = []
        for bits in 0..<16 {
            var s = EngagementSignals(rawValue: UInt8(bits))
            s.insert(.viewed)
            all.append(s)
        }
        let ordered = all.sorted { $0.priorityKey > $1.priorityKey }.map(\.description)
        #expect(ordered == spec)
    }

    @Test func kindsMapToSignals() {
        #expect(Interaction.Kind.authorClick.signal == .authorClicked)
        #expect(Interaction.Kind.comment.signal == .commented)
        #expect(Interaction.Kind.click.signal.priorityKey == 0)
        #expect(Interaction.Kind(name: "author_click") == .authorClick)
        #expect(Interaction.Kind(name: "share") == nil)
    }
}

@Suite(.testThreads) struct SnapshotTests {
    /// A small random network built by hand, compared with a naive computation over sets.
    @Test func snapshotEqualsNaiveComputation() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let n = Int.random(in: 2...40, using: &rng)
            var c = Snapshot.Columns()
            c.userCount = n
            c.userFlags = (0..<n).map { _ in UserFlags(rawValue: UInt8.random(in: 0...7, using: &rng)) }
            c.userCreatedAt = (0..<n).map { Int64($0) }
            var naiveOut = [Set<Int32>](repeating: [], count: n)
            var naiveIn = [Set<Int32>](repeating: [], count: n)
            for _ in 0..<Int.random(in: 0...200, using: &rng) {
                let a = Int32.random(in: 0..<Int32(n), using: &rng), b = Int32.random(in: 0..<Int32(n), using: &rng)
                c.append(Follow(follower: a, followee: b, createdAt: Int64(a) * 100 + Int64(b)))
                naiveOut[Int(a)].insert(b)
                naiveIn[Int(b)].insert(a)
            }
            let posts = Int.random(in: 1...30, using: &rng)
            c.postAuthor = (0..<posts).map { _ in Int32.random(in: 0..<Int32(n), using: &rng) }
            c.postCreatedAt = (0..<posts).map { Int64($0) }
            var naiveEng: [Int32: [Int32: (EngagementSignals, Int32, Int64)]] = [:]
            for _ in 0..<Int.random(in: 0...300, using: &rng) {
                let u = Int32.random(in: 0..<Int32(n), using: &rng)
                let p = Int32.random(in: 0..<Int32(posts), using: &rng)
                let kind = Interaction.Kind.allCases.randomElement(using: &rng)!
                let t = Int64.random(in: 0...1000, using: &rng)
                c.append(Interaction(user: u, post: p, kind: kind, timestamp: t))
                let a = c.postAuthor[Int(p)]
                var e = naiveEng[u, default: [:]][a] ?? ([], 0, 0)
                e.0.formUnion(kind.signal)
                e.1 += 1
                e.2 = max(e.2, t)
                naiveEng[u, default: [:]][a] = e
            }
            let s = Snapshot.build(c)
            for u in 0..<Int32(n) {
                #expect(Array(s.followees.row(u)) == naiveOut[Int(u)].sorted())
                #expect(Array(s.followers.row(u)) == naiveIn[Int(u)].sorted())
                for (k, f) in s.followers.range(u).enumerated() {
                    let follower = s.followers.row(u)[s.followers.range(u).lowerBound + k]
                    #expect(s.followedAt[f] == Int64(follower) * 100 + Int64(u))
                }
                let eng = s.engagements(of: u)
                let naive = naiveEng[u, default: [:]].sorted { $0.key < $1.key }
                #expect(eng.map(\.author) == naive.map(\.key))
                for (e, (_, v)) in zip(eng, naive) {
                    #expect(e.signals == v.0 && e.count == v.1 && e.lastTime == v.2)
                }
            }
            for p in 0..<Int32(posts) {
                #expect(s.postsByAuthor.contains(c.postAuthor[Int(p)], p))
            }
        }
    }

    @Test func summaryCountsAndPercentiles() {
        var c = Snapshot.Columns()
        c.userCount = 3
        c.userFlags = [[], [.inactive], [.reported, .blacklisted]]
        c.userCreatedAt = [0, 0, 0]
        c.append(Follow(follower: 0, followee: 1))
        c.append(Follow(follower: 1, followee: 0))
        c.append(Follow(follower: 2, followee: 0))
        let summary = SnapshotSummary(Snapshot.build(c))
        #expect(summary.follows == 3)
        #expect(summary.flagged["inactive"] == 1 && summary.flagged["reported"] == 1)
        #expect(abs(summary.reciprocated - 2.0 / 3.0) < 1e-9)
        #expect(summary.inDegree[3] == 2)
    }
}
