import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a thread of its own at the lowest CPU priority and awaits it: for a test that
/// computes for a minute. On one of `TestExecutor.tests`' three threads it would hold up the tests
/// queued behind it; on a thread at normal priority it would still take the CPU that the servers
/// and PostgreSQL of the tests beside it need (on Linux the niceness is the thread's). `nice: 0`
/// keeps normal priority, for a thread that only waits on a child that must not inherit 19.
public func offThePool<T: Sendable>(nice: Int32 = 19, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread.detachNewThread {
            #if canImport(Glibc)
            if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
            #endif
            c.resume(with: Result { try body() })
        }
    }
}
