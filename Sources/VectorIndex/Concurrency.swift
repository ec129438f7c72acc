import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// pthread mutexes rather than Synchronization.Mutex: the package still declares macOS 14,
// where Mutex is unavailable, and a raw array of them is the cheapest way to get many small
// locks (the uncontended path is one atomic exchange on both glibc and Darwin).

/// A fixed array of mutexes; node `i` is guarded by stripe `i & mask`.
///
/// `@unchecked Sendable` is safe: the mutexes live at a stable heap address for the object's
/// lifetime and are only touched through pthread calls, which are themselves thread-safe.
final class LockStripes: @unchecked Sendable {
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private let mask: Int

    /// `count` is rounded up to a power of two; with 2 to 8 threads, 65,536 stripes make two threads
    /// wanting the same stripe for unrelated nodes rare.
    init(count: Int = 1 << 16) {
        var n = 1
        while n < count { n <<= 1 }
        mask = n - 1
        locks = .allocate(capacity: n)
        for i in 0..<n { pthread_mutex_init(locks + i, nil) }
    }

    deinit {
        for i in 0...mask { pthread_mutex_destroy(locks + i) }
        locks.deallocate()
    }

    /// A view for hot loops: copying it costs no reference counting, which matters because two
    /// threads bumping one object's reference count on every neighbour-list read would bounce
    /// its cache line between cores. Valid while this object is alive.
    var view: StripeView { StripeView(locks: locks, mask: mask) }
}

/// Unowned view of a `LockStripes`; see `LockStripes.view`.
///
/// `@unchecked Sendable` is safe for the same reason as `LockStripes`: only pthread calls touch the
/// mutexes; the creator keeps the owning object alive for as long as views are used.
struct StripeView: @unchecked Sendable {
    let locks: UnsafeMutablePointer<pthread_mutex_t>
    let mask: Int

    @inline(__always)
    func lock(_ node: Int32) { pthread_mutex_lock(locks + (Int(node) & mask)) }

    @inline(__always)
    func unlock(_ node: Int32) { pthread_mutex_unlock(locks + (Int(node) & mask)) }
}

/// One mutex guarding a value of type `Value`.
///
/// `@unchecked Sendable` is safe: `value` is only read or written inside `withLock`, under the mutex.
final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// Number of threads to use when the caller passes 0 ("all cores").
func resolvedThreadCount(_ requested: Int) -> Int {
    if requested > 0 { return requested }
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #elseif canImport(Darwin)
    return max(1, Int(sysconf(_SC_NPROCESSORS_ONLN)))
    #else
    return 1
    #endif
}

/// Runs `body(worker)` for `count` workers in parallel (inline when `count == 1`).
func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 {
        body(0)
    } else {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}
