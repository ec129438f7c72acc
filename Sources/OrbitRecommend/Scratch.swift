import OrbitCore
import Synchronization

/// Per-user counters for graph expansion: a dense array indexed by user plus the list of users
/// touched, so counting is an array increment instead of a hash lookup, and clearing costs only
/// what was touched. One request owns a set at a time (taken from a `ScratchPool`).
public final class ExpansionScratch: @unchecked Sendable {
    /// Counts per user (how many paths led to it).
    var count: [Int32]
    /// A weight per user, for sources that sum weights as well as counting.
    var weight: [Float]
    /// Users with a non-zero count, in the order first touched.
    var touched: [UserIndex] = []

    init(users: Int) {
        count = Array(repeating: 0, count: users)
        weight = Array(repeating: 0, count: users)
    }

    @inline(__always) func add(_ u: UserIndex, weight w: Float = 0) {
        let i = Int(u)
        if count[i] == 0 { touched.append(u) }
        count[i] &+= 1
        weight[i] += w
    }

    func clear() {
        for u in touched { count[Int(u)] = 0; weight[Int(u)] = 0 }
        touched.removeAll(keepingCapacity: true)
    }
}

/// Hands out cleared `ExpansionScratch` sets sized for a snapshot and takes them back, so a busy
/// server reuses a few sets instead of allocating megabytes per request.
public final class ScratchPool: Sendable {
    private let users: Int
    private let free = Mutex<[ExpansionScratch]>([])

    public init(users: Int) { self.users = users }

    /// Runs `body` with a cleared scratch set of its own.
    func with<R>(_ body: (ExpansionScratch) -> R) -> R {
        let s = free.withLock { $0.popLast() } ?? ExpansionScratch(users: users)
        defer {
            s.clear()
            free.withLock { if $0.count < 16 { $0.append(s) } }
        }
        return body(s)
    }
}
