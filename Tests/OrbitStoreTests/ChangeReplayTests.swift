import Foundation
import OrbitCore
import OrbitStore
import OrbitSynth
import StoreTestSupport
import Testing
import TestThreads

/// A rebuild brings the last snapshot's columns forward by the change log instead of reading
/// every table: the result must be what a full read gives, row for row and in the same order.
@Suite(.testThreads) struct ChangeReplayTests {
    /// Every column, as comparable values.
    static func fields(_ c: Snapshot.Columns) -> [String: [Int64]] {
        [
            "users": [Int64(c.userCount)], "userFlags": c.userFlags.map { Int64($0.rawValue) }, "userCreatedAt": c.userCreatedAt,
            "followFollower": c.followFollower.map(Int64.init), "followFollowee": c.followFollowee.map(Int64.init),
            "followCreatedAt": c.followCreatedAt, "blockUser": c.blockUser.map(Int64.init), "blockBlocked": c.blockBlocked.map(Int64.init),
            "dismissUser": c.dismissUser.map(Int64.init), "dismissCandidate": c.dismissCandidate.map(Int64.init),
            "impressionUser": c.impressionUser.map(Int64.init), "impressionCandidate": c.impressionCandidate.map(Int64.init),
            "impressionTime": c.impressionTime, "postAuthor": c.postAuthor.map(Int64.init), "postCreatedAt": c.postCreatedAt,
            "interactionUser": c.interactionUser.map(Int64.init), "interactionPost": c.interactionPost.map(Int64.init),
            "interactionKind": c.interactionKind.map(Int64.init), "interactionTime": c.interactionTime, "version": [c.version],
        ]
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func replayingTheChangeLogGivesWhatAFullReadGives(seed: UInt64) async throws {
        let dir = TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.path + "/s.sqlite")
        var rng = SeededRandom(seed: seed)
        func user() -> String { "u\(rng.next() % 40)" }
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
                case 10: return .impression(user: user(), candidate: user(), surface: "home", at: t - Timestamp(rng.next() % 200_000))
                default: return .user(id: "n\(rng.next() % 1_000)", createdAt: t)
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
        var (columns, _) = try await store.loadColumns()
        for round in 0..<3 {
            await append(events(200))
            for _ in 0..<30 {
                t += 7
                _ = try? await store.append([.interaction(user: user(), post: post(), kind: Interaction.Kind.allCases[Int(rng.next() % 6)], at: t)])
            }
            let changes = try await store.changes(since: columns.version, limit: 1_000_000)
            #expect(!changes.isEmpty)
            let replayedAll = columns.replay(changes)
            #expect(replayedAll, "round \(round): the replay gave up")
            let (full, _) = try await store.loadColumns()
            let a = Self.fields(columns), b = Self.fields(full)
            for key in b.keys.sorted() {
                #expect(a[key] == b[key], "round \(round), \(key): replayed \(a[key]?.count ?? 0) values, read \(b[key]?.count ?? 0)")
            }
        }
    }

    @Test func aBulkImportCannotBeReplayed() {
        var c = Snapshot.Columns()
        let bulk = c.replay([Change(version: 1, operation: .bulkImport, a: 0, b: 0, detail: 0, timestamp: 0)])
        #expect(!bulk)
        var d = Snapshot.Columns()
        let gap = d.replay([Change(version: 1, operation: .user, a: 5, b: 0, detail: 0, timestamp: 0)])
        #expect(!gap, "a user index out of order")
    }
}
