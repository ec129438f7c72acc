import OrbitCore
import Testing
@testable import OrbitSynth
import TestThreads

@Suite(.testThreads) struct GeneratorTests {
    static func network(users: Int = 3_000, seed: UInt64 = 1) -> SyntheticNetwork {
        var c = SynthConfig()
        c.users = users
        c.seed = seed
        return Generator(config: c).generate()
    }

    @Test func sameSeedSameNetworkOtherSeedOtherNetwork() {
        let a = Self.network(users: 500, seed: 3), b = Self.network(users: 500, seed: 3), c = Self.network(users: 500, seed: 4)
        #expect(a.follows == b.follows && a.interactions == b.interactions && a.posts == b.posts && a.blocks == b.blocks)
        #expect(a.follows != c.follows)
    }

    @Test func followersAreHeavyTailedAndFollowsAreValid() {
        let net = Self.network()
        let s = Snapshot.build(net.columns())
        #expect(s.followees.edgeCount == net.follows.count, "no duplicate follows")
        #expect(net.follows.allSatisfy { $0.follower != $0.followee })
        let mean = Double(net.follows.count) / Double(net.userCount)
        #expect(mean > 6 && mean < 25)
        let inDegrees = (0..<Int32(net.userCount)).map { s.followers.degree($0) }.sorted()
        let median = inDegrees[inDegrees.count / 2], top = inDegrees.last!
        #expect(top > 10 * max(median, 1), "the most followed user should dwarf the median (heavy tail)")
        // A follow happens after both users joined.
        for f in net.follows.prefix(2_000) {
            #expect(f.createdAt >= max(net.joinedAt[Int(f.follower)], net.joinedAt[Int(f.followee)]))
        }
        // Follows concentrate inside communities.
        let inside = net.follows.filter { net.community[Int($0.follower)] == net.community[Int($0.followee)] }.count
        #expect(Double(inside) / Double(net.follows.count) > 0.6)
    }

    @Test func interactionFunnelNarrowsAndFollowsTime() {
        let net = Self.network()
        var count = [Interaction.Kind: Int]()
        for i in net.interactions { count[i.kind, default: 0] += 1 }
        let views = count[.view] ?? 0, clicks = count[.click] ?? 0
        #expect(views > clicks && clicks > (count[.like] ?? 0) && (count[.like] ?? 0) > (count[.comment] ?? 0))
        let ctr = Double(clicks) / Double(views)
        #expect(ctr > 0.02 && ctr < 0.3, "click-through rate \(ctr) should be plausible")
        // Nobody interacts with a post before it exists, and never with their own.
        for i in net.interactions.prefix(5_000) {
            #expect(i.timestamp >= net.posts[Int(i.post)].createdAt)
            #expect(net.posts[Int(i.post)].author != i.user)
        }
    }

    @Test func flagsAndBlocksAppearAtConfiguredRates() {
        let net = Self.network()
        let inactive = net.flags.filter { $0.contains(.inactive) }.count
        #expect(inactive > 20 && inactive < 120)  // 2% of 3,000 = 60
        #expect(!net.blocks.isEmpty && net.blocks.allSatisfy { $0.user != $0.blocked })
    }

    @Test func aliasTableSamplesProportionally() {
        let t = AliasTable(weights: [1, 3, 0, 6])
        var rng = SeededRandom(seed: 9)
        var hits = [0, 0, 0, 0]
        for _ in 0..<100_000 { hits[t.sample(&rng)] += 1 }
        #expect(hits[2] == 0)
        #expect(abs(Double(hits[3]) / 100_000 - 0.6) < 0.01)
        #expect(abs(Double(hits[0]) / 100_000 - 0.1) < 0.01)
    }
}

@Suite(.testThreads) struct GeneratedSnapshotTests {
    /// The snapshot of a generated network equals a naive computation over its event lists.
    @Test func snapshotEqualsNaiveComputationOnGeneratedData() {
        var c = SynthConfig()
        c.users = 1_500
        c.seed = 11
        let net = Generator(config: c).generate()
        let s = Snapshot.build(net.columns())
        var out = [Set<Int32>](repeating: [], count: net.userCount), inc = out
        for f in net.follows { out[Int(f.follower)].insert(f.followee); inc[Int(f.followee)].insert(f.follower) }
        var blocks = [Set<Int32>](repeating: [], count: net.userCount)
        for b in net.blocks { blocks[Int(b.user)].insert(b.blocked) }
        var eng: [Int32: [Int32: (EngagementSignals, Int32, Int64)]] = [:]
        var kindCount: [Int32: [Interaction.Kind: Int32]] = [:]
        var seen = [Set<Int32>](repeating: [], count: net.userCount)
        for i in net.interactions {
            let a = net.posts[Int(i.post)].author
            var e = eng[i.user, default: [:]][a] ?? ([], 0, 0)
            e.0.formUnion(i.kind.signal)
            e.1 += 1
            e.2 = max(e.2, i.timestamp)
            eng[i.user, default: [:]][a] = e
            kindCount[i.post, default: [:]][i.kind, default: 0] += 1
            seen[Int(i.user)].insert(i.post)
        }
        var mismatches = 0
        for u in 0..<Int32(net.userCount) {
            if Array(s.followees.row(u)) != out[Int(u)].sorted() { mismatches += 1 }
            if Array(s.followers.row(u)) != inc[Int(u)].sorted() { mismatches += 1 }
            if Array(s.blocks.row(u)) != blocks[Int(u)].sorted() { mismatches += 1 }
            if Array(s.seenPosts.row(u)) != seen[Int(u)].sorted() { mismatches += 1 }
            let naive = eng[u, default: [:]].sorted { $0.key < $1.key }
            let got = s.engagements(of: u)
            if got.count != naive.count || !zip(got, naive).allSatisfy({ $0.author == $1.key && $0.signals == $1.value.0
                && $0.count == $1.value.1 && $0.lastTime == $1.value.2 }) { mismatches += 1 }
            if s.flags(of: u) != net.flags[Int(u)] { mismatches += 1 }
        }
        for p in 0..<Int32(net.posts.count) {
            for kind in Interaction.Kind.allCases where s.interactionCount(post: p, kind: kind) != kindCount[p]?[kind] ?? 0 {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        #expect(s.followees.edgeCount == net.follows.count)
    }
}
