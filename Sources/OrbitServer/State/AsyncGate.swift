import Synchronization

/// A lock for async code: one holder at a time, waiters served in arrival order. Actors alone
/// do not give this (they are reentrant at every `await`).
final class AsyncGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let enter = state.withLock { s in
                if s.busy { s.waiters.append(c); return false }
                s.busy = true
                return true
            }
            if enter { c.resume() }
        }
    }

    /// Hands the gate to the next waiter (it stays busy), or opens it.
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty { s.busy = false; return nil }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
