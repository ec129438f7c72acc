import OrbitCore
import Testing
@testable import OrbitSynth

@Suite struct GeneratorTests {
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
