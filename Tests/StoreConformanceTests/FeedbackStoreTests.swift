import Foundation
import OrbitCore
import OrbitStore
import StoreTestSupport
import Testing
import TestThreads

/// Dismissals and impressions are store events like every other write, on every backend.
@Suite(.testThreads) struct FeedbackStoreTests {
    @Test(arguments: Backend.available)
    func dismissalsAndImpressionsAreStoredLoggedReplayedAndImported(_ backend: Backend) async throws {
        try await withStore(backend) { store, fixture async throws in
            try await store.append([.follow(follower: "a", followee: "b", at: 1)])
            let v0 = try await store.currentVersion()
            try await store.append([
                .dismiss(user: "a", candidate: "c", reason: .dontKnow, at: 10),
                .dismiss(user: "a", candidate: "d", reason: .notInterested, at: 11),
                .dismiss(user: "a", candidate: "c", reason: .spam, at: 12),  // already dismissed: no change
                .dismiss(user: "a", candidate: "a", reason: .spam, at: 12),  // oneself: nothing
                .impression(user: "a", candidate: "e", surface: "home", at: 13),
                .impression(user: "a", candidate: "e", surface: "home", at: 14),  // every showing counts
            ])
            let v1 = try await store.append([.undismiss(user: "a", candidate: "d", at: 15), .undismiss(user: "a", candidate: "b", at: 15)])
            let changes = try await store.changes(since: v0, limit: 100)
            #expect(changes.map(\.operation) == [.user, .dismiss, .user, .dismiss, .user, .impression, .impression, .undismiss])
            #expect(changes[1].detail == DismissalReason.dontKnow.rawValue)
            #expect(changes.last?.version == v1)
            let counts = try await store.counts()
            #expect(counts.dismissals == 1 && counts.impressions == 2)

            // The snapshot holds them; an overlay replaying the change log from before agrees.
            let loaded = try await store.loadSnapshot()
            let ids = loaded.catalog.users
            let a = ids.index(of: "a")!, c = ids.index(of: "c")!, d = ids.index(of: "d")!, e = ids.index(of: "e")!
            let s = loaded.snapshot
            #expect(s.hasDismissed(a, c) && !s.hasDismissed(a, d))
            #expect(Array(s.impressions.times(a, e)) == [13, 14])
            var overlay = Overlay(snapshot: s)
            for change in changes { _ = overlay.apply(change, snapshot: s) }
            let view = LiveView(snapshot: s, overlay: overlay)
            #expect(view.dismissals(of: a) == [c] && view.impressions(of: a)[e]?.count == 4)

            // A restart (a new store instance on the same data) sees the same.
            let again = try await fixture.open()
            #expect(try await again.loadSnapshot().snapshot.hasDismissed(a, c))

            // Bulk import of a dismissals file, bad reasons refused with their line.
            let good = fixture.dir.file("dismissals.csv", "uid,dismissed,reason,created_at\na,f,spam,20\ng,a,,21\na,c,other,22\n")
            let summary = try await store.importFiles([ImportSource(path: good, format: .dismissals)], options: ImportOptions(), progress: nil)
            #expect(summary.dismissalsAdded == 2)
            let bad = fixture.dir.file("more.csv", "uid,dismissed,reason\na,h,rude\n")
            await #expect {
                try await store.importFiles([ImportSource(path: bad, format: .dismissals)], options: ImportOptions(), progress: nil)
            } throws: { error in
                guard case ImportError.badRows(let report) = error else { return false }
                return report.badRows.first.map { "\($0)".contains("unknown dismissal reason \"rude\"") && $0.line == 2 } ?? false
            }
            let after = try await store.loadSnapshot()
            let f = after.catalog.users.index(of: "f")!, g = after.catalog.users.index(of: "g")!
            #expect(after.snapshot.hasDismissed(a, f) && after.snapshot.hasDismissed(g, a) && after.catalog.users.index(of: "h") == nil)
            #expect(ImportFormat.sniff(firstLine: "uid,dismissed,reason") == .dismissals)
            #expect(ImportFormat.detect(path: "dismissals.csv") == .dismissals)
        }
    }
}
