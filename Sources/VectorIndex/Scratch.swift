/// A candidate during graph search: its distance to the query (`-dot`, lower is closer) and id.
struct Item {
    var d: Float
    var id: Int32
}

/// Binary max-heap on `d` over a raw buffer owned by a `Scratch`; a min-heap is the same heap on `-d`.
/// It is a value of pointers, copied into locals for the hot loop so that no class property
/// (and no dynamic exclusivity check) is touched per operation.
struct ItemHeap {
    var base: UnsafeMutablePointer<Item>
    var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    func free() { base.deallocate() }

    @inline(__always) var top: Item { base[0] }

    @inline(__always)
    mutating func push(_ item: Item) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if base[parent].d >= item.d { break }
            base[i] = base[parent]
            i = parent
        }
        base[i] = item
    }

    @inline(__always)
    @discardableResult
    mutating func pop() -> Item {
        let result = base[0]
        count -= 1
        if count > 0 { siftDown(base[count]) }
        return result
    }

    /// Replaces the top with `item` (pop then push in one sift).
    @inline(__always)
    mutating func replaceTop(_ item: Item) {
        siftDown(item)
    }

    @inline(__always)
    private mutating func siftDown(_ item: Item) {
        var i = 0
        let n = count
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n && base[child + 1].d > base[child].d { child += 1 }
            if base[child].d <= item.d { break }
            base[i] = base[child]
            i = child
        }
        base[i] = item
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Item>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }
}

/// Per-thread working memory for searches and inserts: a visited set with generation counters
/// (no clearing between searches), the two heaps, and small buffers.
///
/// `@unchecked Sendable` is safe: a `Scratch` is used by one thread at a time. Build workers
/// create their own; query paths take one out of `ScratchPool` under its lock and give it back
/// after the search, so no two threads ever hold the same instance.
final class Scratch: @unchecked Sendable {
    var visited: UnsafeMutablePointer<UInt16>
    var visitedCapacity: Int
    var generation: UInt16 = 0
    var candidates: ItemHeap
    var results: ItemHeap
    /// Copy of one neighbour list, taken under the node's lock during parallel builds.
    let links: UnsafeMutablePointer<Int32>
    /// Unvisited neighbours of the node being expanded, and their distances.
    let pendingIDs: UnsafeMutablePointer<Int32>
    let pendingD: UnsafeMutablePointer<Float>
    /// Sorted candidates and the heuristic's selection.
    var sorted: UnsafeMutablePointer<Item>
    var sortedCapacity: Int
    let selected: UnsafeMutablePointer<Item>
    let pruned: UnsafeMutablePointer<Item>
    /// The query, padded and (for cosine) normalised.
    let query: UnsafeMutablePointer<Float>

    init(nodes: Int, stride: Int, maxM0: Int, ef: Int) {
        visitedCapacity = max(nodes, 1)
        visited = .allocate(capacity: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
        candidates = ItemHeap(capacity: 4 * ef)
        results = ItemHeap(capacity: ef + 1)
        links = .allocate(capacity: maxM0 + 1)
        pendingIDs = .allocate(capacity: maxM0 + 1)
        pendingD = .allocate(capacity: maxM0 + 1)
        sortedCapacity = max(ef, maxM0) + 1
        sorted = .allocate(capacity: sortedCapacity)
        selected = .allocate(capacity: maxM0 + 1)
        pruned = .allocate(capacity: maxM0 + 1)
        query = .allocate(capacity: stride)
        query.initialize(repeating: 0, count: stride)
    }

    deinit {
        visited.deallocate()
        candidates.free()
        results.free()
        links.deallocate()
        pendingIDs.deallocate()
        pendingD.deallocate()
        sorted.deallocate()
        selected.deallocate()
        pruned.deallocate()
        query.deallocate()
    }

    /// Makes the visited set cover `nodes` ids (the index may have grown since this scratch was made).
    func ensure(nodes: Int, ef: Int) {
        if nodes > visitedCapacity {
            visited.deallocate()
            visitedCapacity = nodes + nodes / 4
            visited = .allocate(capacity: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        if ef + 1 > sortedCapacity {
            sorted.deallocate()
            sortedCapacity = ef + 1
            sorted = .allocate(capacity: sortedCapacity)
        }
    }

    /// Starts a new search: returns the mark that means "visited in this search".
    @inline(__always)
    func nextGeneration() -> UInt16 {
        if generation == UInt16.max {
            // Wrapped: old marks could collide with new ones, so clear once every 65,535 searches.
            visited.update(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        generation += 1
        return generation
    }
}

/// Reusable `Scratch` objects for query-time searches, shared by all copies of an index value.
///
/// `Sendable` through `Locked`: the array of idle scratches is only touched under its mutex.
final class ScratchPool: Sendable {
    private let idle = Locked<[Scratch]>([])
    /// Each idle scratch keeps a visited array of 2 bytes per vector (22 MB at 11M vectors), so
    /// keep only about as many as there are cores to run searches at once; a burst of extra
    /// concurrent searchers allocates temporary ones (a few ms each at that size).
    private let retained = max(4, 2 * resolvedThreadCount(0))

    func take() -> Scratch? { idle.withLock { $0.popLast() } }

    func give(_ s: Scratch) {
        idle.withLock { if $0.count < retained { $0.append(s) } }
    }
}
