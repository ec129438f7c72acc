import Foundation
import Logging
import OrbitCore
import OrbitEngine
import OrbitStore

/// The only writer of the serving state: applies the store's change log to the overlay (after this
/// server's own writes, and when polling for other replicas' writes) and installs new engines.
///
/// Operations run one at a time, in order, even across suspension points (an actor alone is
/// reentrant at every `await`): a catch-up and a swap never interleave, so no change is lost.
actor Synchronizer {
    let store: any Store
    let state: StateBox
    let logger: Logger
    private let gate = AsyncGate()
    /// When the overlay last caught up with the store, for the ingest-lag metric.
    private(set) var lastCatchUp = Date.distantPast

    init(store: any Store, state: StateBox, logger: Logger) {
        self.store = store
        self.state = state
        self.logger = logger
    }

    private func serially<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await gate.acquire()
        defer { gate.release() }
        return try await body()
    }

    /// Applies every change the store has beyond the overlay; returns the version now served.
    /// Returns at once when the overlay is already at `version` or later.
    @discardableResult
    func catchUp(to version: Int64 = .max) async throws -> Int64 {
        if let s = state.current, s.overlay.version >= version { return s.overlay.version }
        return try await serially {
            guard var s = state.current else { return 0 }
            if s.overlay.version >= version { return s.overlay.version }
            try await Self.apply(changesTo: &s, from: store)
            state.replace(s)
            lastCatchUp = Date()
            return s.overlay.version
        }
    }

    /// Installs a new engine: replays the changes after its snapshot into a fresh overlay, then
    /// swaps, so every write acknowledged before the swap stays visible after it.
    func install(_ engine: Engine) async throws {
        try await serially {
            var s = LiveState(engine: engine)
            try await Self.apply(changesTo: &s, from: store)
            state.replace(s)
            lastCatchUp = Date()
        }
    }

    private static func apply(changesTo s: inout LiveState, from store: any Store) async throws {
        while true {
            let changes = try await store.changes(since: s.overlay.version, limit: 10_000)
            for c in changes where !s.overlay.apply(c, snapshot: s.engine.snapshot) {
                // A bulk import cannot be replayed event by event; the next rebuild picks it up.
                s.needsRebuild = true
                s.overlay.markApplied(version: c.version)
            }
            if changes.count < 10_000 { break }
        }
        // Learn the external ids of users and posts that are new since the snapshot.
        if s.overlay.userCount > s.newUsers.end || s.overlay.postCount > s.newPosts.end {
            let (users, posts) = try await store.externalIDs(usersFrom: Int32(s.newUsers.end), postsFrom: Int32(s.newPosts.end))
            for id in users.prefix(max(0, s.overlay.userCount - s.newUsers.end)) { s.newUsers.append(id) }
            for id in posts.prefix(max(0, s.overlay.postCount - s.newPosts.end)) { s.newPosts.append(id) }
        }
    }
}
