import Foundation

/// Runs `body` on a thread of its own and awaits it. Swift Testing runs every test on the
/// cooperative pool, which has a thread per core (two here): a test that computes for a minute on
/// one of them starves the in-process servers and clients of the tests beside it, whose requests
/// then time out. Heavy synchronous test work goes through this.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in Thread.detachNewThread { c.resume(with: Result { try body() }) } }
}
