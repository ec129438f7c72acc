import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a thread of its own at the lowest CPU priority and awaits it. Swift Testing runs
/// every test on the cooperative pool, which has a thread per core (two here): a test that
/// computes for a minute on one of them starves the in-process servers and clients of the tests
/// beside it, whose requests then time out; on a thread at normal priority it would still take the
/// CPU that the servers and PostgreSQL need (on Linux the niceness is the thread's).
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread.detachNewThread {
            #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #endif
            c.resume(with: Result { try body() })
        }
    }
}
