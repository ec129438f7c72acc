import Foundation
import OrbitCore
import OrbitStore
import OrbitSynth
import StoreTestSupport
import Testing
import TestThreads

/// A rebuild brings the last snapshot forward by the change log instead of reading every table
/// and building anew: the result must be what a full read and build give, field for field.
@Suite(.testThreads) struct ChangeReplayTests {
    /// Every field of a snapshot, as comparable values.
    static func fields(_ s: Snapshot) -> [String: [Int64]] {
        func csr(_ c: CSR) -> [Int64] { c.offsets.map(Int64.init) + [-1] + c.targets.map(Int64.init) }
        return [
            "version": [s.version], "users": [Int64(s.userCount)], "posts": [Int64(s.postCount)],
            "followees": csr(s.followees), "followers": csr(s.followers), "followedAt": s.followedAt,
            "hasFollowTimes": [s.hasFollowTimes ? 1 : 0], "blocks": csr(s.blocks), "dismissals": csr(s.dismissals),
            "impressions": s.impressions.offsets.map(Int64.init) + [-1] + s.impressions.candidates.map(Int64.init) + [-1] + s.impressions.times,
            "userFlags": s.userFlags.map { Int64($0.rawValue) }, "flaggedBits": s.flaggedBits.map { Int64(bitPattern: $0) },
            "userCreatedAt": s.userCreatedAt, "postAuthor": s.postAuthor.map(Int64.init), "postCreatedAt": s.postCreatedAt,
            "postsByAuthor": csr(s.postsByAuthor), "postKindCounts": s.postKindCounts.map(Int64.init), "seenPosts": csr(s.seenPosts),
            "engagementOffsets": s.engagementOffsets.map(Int64.init),
            "engagement": s.engagement.flatMap { [Int64($0.author), Int64($0.signals.rawValue), Int64($0.count), $0.lastTime] },
        ]
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func replayingTheChangeLogGivesWhatAFullReadGives(seed: UInt64) async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        var rng = SeededRandom(seed: seed)
        // Users made along the way are picked too: edits to rows past the snapshot's last user.
        var known = (0..<40).map { "u\($0)" }
        func user() -> String { known[Int(rng.next() % UInt64(known.count))] }
        func post() -> String { "p\(rng.next() % 30)" }
        // A first state with some of everything, read in full: the base the replay starts from.
        var t: Timestamp = 1_700_000_000
        func events(_ n: Int) -> [Event] {
            (0..<n).map { _ in
                t += Timestamp(rng.next() % 5_000)
                switch rng.next() % 12 {
                case 0, 1, 2: return .follow(follower: user(), followee: user(), at: t)
                case 3: return .unfollow(follower: user(), followee: user(), at: t)
                case 4: return .block(user: user(), blocked: user(), at: t)
                case 5: return .unblock(user: user(), blocked: user(), at: t)
                case 6: return .post(id: "p\(rng.next() % 40)", author: user(), at: t)
                case 7: return .setFlags(user: user(), flags: UserFlags(rawValue: UInt8(rng.next() % 4)), at: t)
                case 8: return .dismiss(user: user(), candidate: user(), reason: .notInterested, at: t)
                case 9: return .undismiss(user: user(), candidate: user(), at: t)
                case 10:
                    // A quarter shown long ago: outside the 90-day window once time has moved on.
                    let age = rng.next() % 4 == 0 ? Timestamp(95 * 86_400) : Timestamp(rng.next() % 200_000)
                    return .impression(user: user(), candidate: user(), surface: "home", at: t - age)
                default:
                    let id = "n\(rng.next() % 1_000)"
                    known.append(id)
                    return .user(id: id, createdAt: t)
                }
            }
        }
        func append(_ batch: [Event]) async {
            for e in batch {
                _ = try? await store.append([e])  // some are refused (a self-follow, an unknown post): as a client's would be
            }
        }
        _ = try await store.append((0..<40).map { Event.user(id: "u\($0)", createdAt: 1_600_000_000 + Timestamp($0)) })
        await append(events(300))
        for _ in 0..<40 { _ = try? await store.append([.interaction(user: user(), post: post(), kind: .like, at: t)]) }
        var snapshot = try await store.loadSnapshot().snapshot
        for round in 0..<3 {
            // Round 1 starts 91 days on: the impressions' window moves past earlier showings.
            if round == 1 { t += 91 * 86_400 }
            await append(events(200))
            for _ in 0..<30 {
                t += 7
                _ = try? await store.append([.interaction(user: user(), post: post(), kind: Interaction.Kind.allCases[Int(rng.next() % 6)], at: t)])
            }
            let changes = try await store.changes(since: snapshot.version, limit: 1_000_000)
            #expect(!changes.isEmpty)
            let patched = try #require(SnapshotDelta(changes: changes, after: snapshot).flatMap { snapshot.applying($0) }, "round \(round): the replay gave up")
            let full = try await store.loadSnapshot().snapshot
            let a = Self.fields(patched), b = Self.fields(full)
            for key in b.keys.sorted() {
                #expect(a[key] == b[key], "round \(round), \(key): replayed \(a[key]?.count ?? 0) values, read \(b[key]?.count ?? 0)")
            }
            snapshot = patched
        }
    }

    @Test func aBulkImportCannotBeReplayed() {
        let empty = Snapshot.build(Snapshot.Columns())
        #expect(SnapshotDelta(changes: [Change(version: 1, operation: .bulkImport, a: 0, b: 0, detail: 0, timestamp: 0)], after: empty) == nil)
        #expect(SnapshotDelta(changes: [Change(version: 1, operation: .user, a: 5, b: 0, detail: 0, timestamp: 0)], after: empty) == nil,
                "a user index out of order")
        #expect(SnapshotDelta(changes: [Change(version: 0, operation: .user, a: 0, b: 0, detail: 0, timestamp: 0)], after: empty) == nil,
                "a version not after the snapshot's")
    }

    /// Hand-made sequences within one delta: a follow made, dropped and made again (the last time
    /// counts), a new user's rows edited, interactions with a post made in the same delta merged
    /// with older ones of the same author, a showing outside the window dropped.
    @Test func oneDeltaWithRefollowsNewUsersAndNewPostsEqualsABuild() throws {
        var c = Snapshot.Columns()
        c.version = 10
        c.userCount = 3
        c.userFlags = [[], [], []]
        c.userCreatedAt = [1, 2, 3]
        for (a, b, t) in [(0, 1, 5), (1, 2, 6), (2, 0, 7)] as [(Int32, Int32, Timestamp)] { c.append(Follow(follower: a, followee: b, createdAt: t)) }
        c.postAuthor = [1]
        c.postCreatedAt = [4]
        c.append(Interaction(user: 0, post: 0, kind: .view, timestamp: 8))
        let day: Timestamp = 86_400
        c.impressionUser = [0]
        c.impressionCandidate = [2]
        c.impressionTime = [9]
        let base = Snapshot.build(c)
        let changes: [(Change.Operation, Int32, Int32, UInt8, Timestamp)] = [
            (.unfollow, 0, 1, 0, 20), (.follow, 0, 1, 0, 21), (.unfollow, 1, 2, 0, 22),
            (.user, 3, 0, 0, 23), (.follow, 3, 0, 0, 24), (.follow, 1, 3, 0, 25), (.block, 3, 2, 0, 26),
            (.post, 1, 1, 0, 27), (.interaction, 0, 1, Interaction.Kind.like.rawValue, 28),
            (.interaction, 3, 1, Interaction.Kind.click.rawValue, 29), (.interaction, 0, 0, Interaction.Kind.comment.rawValue, 30),
            (.setFlags, 3, 0, UserFlags.reported.rawValue, 31), (.impression, 3, 1, 0, 100 * day), (.impression, 0, 2, 0, 95 * day),
        ]
        let log = changes.enumerated().map { i, x in Change(version: 11 + Int64(i), operation: x.0, a: x.1, b: x.2, detail: x.3, timestamp: x.4) }
        let patched = try #require(SnapshotDelta(changes: log, after: base).flatMap { base.applying($0) })

        var d = Snapshot.Columns()
        d.version = 10 + Int64(changes.count)
        d.userCount = 4
        d.userFlags = [[], [], [], .reported]
        d.userCreatedAt = [1, 2, 3, 23]
        for (a, b, t) in [(0, 1, 21), (2, 0, 7), (3, 0, 24), (1, 3, 25)] as [(Int32, Int32, Timestamp)] { d.append(Follow(follower: a, followee: b, createdAt: t)) }
        d.blockUser = [3]
        d.blockBlocked = [2]
        d.postAuthor = [1, 1]
        d.postCreatedAt = [4, 27]
        for (u, p, k, t) in [(0, 0, .view, 8), (0, 1, .like, 28), (3, 1, .click, 29), (0, 0, .comment, 30)] as [(Int32, Int32, Interaction.Kind, Timestamp)] {
            d.append(Interaction(user: u, post: p, kind: k, timestamp: t))
        }
        // The window ends 90 days before the latest showing (day 100): the one at time 9 drops out.
        d.impressionUser = [3, 0]
        d.impressionCandidate = [1, 2]
        d.impressionTime = [100 * day, 95 * day]
        let built = Snapshot.build(d)
        let a = Self.fields(patched), b = Self.fields(built)
        for key in b.keys.sorted() { #expect(a[key] == b[key], "\(key): patched \(a[key] ?? []), built \(b[key] ?? [])") }
        #expect(patched.engagements(of: 0).count == 1 && patched.engagements(of: 0).first?.count == 3, "three interactions with author 1's posts")
    }

    /// A delta naming a user or post the snapshot and the delta do not have is refused, not a crash.
    @Test func anIndexOutOfRangeIsRefused() {
        var c = Snapshot.Columns()
        c.userCount = 2
        c.userFlags = [[], []]
        c.userCreatedAt = [0, 0]
        let s = Snapshot.build(c)
        var follow = SnapshotDelta(version: 1)
        follow.follows[UserPair(0, 2)] = .some(5)
        #expect(s.applying(follow) == nil)
        var like = SnapshotDelta(version: 1)
        like.interactions = [(0, 0, Interaction.Kind.like.rawValue, 5)]
        #expect(s.applying(like) == nil, "no post 0")
        var fine = SnapshotDelta(version: 1)
        fine.follows[UserPair(0, 1)] = .some(5)
        #expect(s.applying(fine)?.follows(0, 1) == true)
    }
}
