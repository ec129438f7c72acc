import Foundation
import Synchronization
@testable import OrbitPostgres
import OrbitStore
import Testing
import TestThreads

/// The guard around a body running on a leased connection (`PostgresStore.unlessClosed`): a query
/// that PostgresNIO leaves unanswered on a closed connection must not hold its request for ever.
/// No server needed: the connection's state and the body are stand-ins.
@Suite(.testThreads) struct PostgresLeaseTests {
    struct Refused: Error {}

    @Test func aBodyLeftWaitingOnAClosedConnectionIsAnsweredUnavailable() async throws {
        // The body would answer only after two minutes: without the guard the expectation below
        // fails (it answers instead of throwing). No bound on the elapsed time: on a loaded
        // machine the watch's wake-ups are late, and a timed assertion would be flaky.
        await #expect {
            try await PostgresStore.unlessClosed({ true }, interval: .milliseconds(50), name: "test-db") { () async throws -> Int in
                try await Task.sleep(for: .seconds(120))
                return 0
            }
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains("test-db") && message.contains("connection closed before the database answered")
        }
    }

    @Test func aBodyOnAnOpenConnectionHasAllTheTimeItNeeds() async throws {
        // Many checks pass while the body works: an open connection never cuts it short.
        let value = try await PostgresStore.unlessClosed({ false }, interval: .milliseconds(20), name: "test-db") { () async throws -> Int in
            try await Task.sleep(for: .milliseconds(400))
            return 7
        }
        #expect(value == 7)
    }

    @Test func theWatchStopsWhenTheBodyAnswers() async throws {
        // Every store call runs one: left running, they would pile up on a healthy server.
        let checks = Counter()
        _ = try await PostgresStore.unlessClosed({ _ = checks.next(); return false }, interval: .milliseconds(20), name: "test-db") {
            () async throws -> Int in
            try await Task.sleep(for: .milliseconds(100))
            return 1
        }
        try await Task.sleep(for: .milliseconds(100))  // the cancelled watch wakes and ends
        let after = checks.next()
        try await Task.sleep(for: .milliseconds(300))
        #expect(checks.next() == after + 1, "the connection was still being checked after the answer")
    }

    @Test func aBodyThatFailsByItselfKeepsItsOwnError() async throws {
        // The driver's own error on a closed connection comes first and is the answer.
        await #expect(throws: Refused.self) {
            try await PostgresStore.unlessClosed({ true }, interval: .milliseconds(50), name: "test-db") { () async throws -> Int in
                throw Refused()
            }
        }
    }

    @Test func aConnectionSeenClosedOnceIsNotYetGivenUp() async throws {
        // Closed at one check and open again at the next (a flicker cannot happen on a real
        // channel, but the rule is two closed checks in a row): the body still answers.
        let checks = Counter()
        let value = try await PostgresStore.unlessClosed({ checks.next() % 2 == 0 }, interval: .milliseconds(30), name: "test-db") {
            () async throws -> Int in
            try await Task.sleep(for: .milliseconds(300))
            return 3
        }
        #expect(value == 3)
    }
}

/// A thread-safe counter for the stand-in connection state.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
