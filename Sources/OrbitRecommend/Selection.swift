/// One item of a best-first selection: a key that sorts best first (higher score, then lower
/// tie) and the item's position in the caller's list, which breaks any remaining tie. Comparing
/// two of these is two integer compares, so selecting and sorting them costs far less than
/// sorting tuples through closures.
struct Ranked: Comparable {
    var key: UInt64
    var position: UInt32

    /// `tie` and `position` must lie in `Int32`'s range (user indices and list positions do).
    @inline(__always)
    init(score: Float, tie: Int, position: Int) {
        // Order-preserving map of the float's bits to an unsigned integer; NaN ranks last and
        // -0 equals +0, as the float comparison would have it.
        let s = score == 0 ? Float(0) : score
        let bits = s.bitPattern
        let ascending: UInt32 = s.isNaN ? 0 : (bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000)
        key = UInt64(~ascending) << 32 | UInt64(UInt32(truncatingIfNeeded: tie &+ 0x8000_0000))
        self.position = UInt32(truncatingIfNeeded: position)
    }

    @inline(__always)
    static func < (a: Ranked, b: Ranked) -> Bool { a.key != b.key ? a.key < b.key : a.position < b.position }
}

@inline(__always)
private func sortRange<T: Comparable>(_ b: UnsafeMutableBufferPointer<T>, _ lo: Int, _ hi: Int) {
    var part = UnsafeMutableBufferPointer(rebasing: b[lo..<hi])
    part.sort()
}

/// Moves the `k` best items of `b[lo..<hi]` to `b[lo..<k]`, in no particular order
/// (quickselect with a median-of-three pivot; falls back to sorting if the partitions degrade).
private func partialSelect<T: Comparable>(_ b: UnsafeMutableBufferPointer<T>, _ lo0: Int, _ hi0: Int, _ k: Int) {
    var lo = lo0, hi = hi0
    var rounds = 0
    while hi - lo > 24 {
        guard k > lo, k < hi else { return }
        rounds += 1
        if rounds > 48 { break }
        let mid = lo + (hi - lo) / 2
        var a = b[lo], m = b[mid], z = b[hi - 1]
        if m < a { swap(&a, &m) }
        if z < m { swap(&m, &z); if m < a { swap(&a, &m) } }
        let pivot = m
        var i = lo, j = hi - 1
        while i <= j {
            while b[i] < pivot { i += 1 }
            while pivot < b[j] { j -= 1 }
            if i <= j { b.swapAt(i, j); i += 1; j -= 1 }
        }
        // Now b[lo...j] <= pivot <= b[i..<hi], and anything between equals the pivot.
        if k <= j + 1 { hi = j + 1 } else if k >= i { lo = i } else { return }
    }
    if k > lo, k < hi { sortRange(b, lo, hi) }
}

/// Orders the `k` best items of `items` best first at the front of the array; the rest follow in
/// no particular order.
func selectBest(_ items: inout [Ranked], k: Int) {
    let k = min(k, items.count)
    guard k > 0 else { return }
    items.withUnsafeMutableBufferPointer { b in
        if k < b.count { partialSelect(b, 0, b.count, k) }
        sortRange(b, 0, k)
    }
}

/// Calls `visit` with the items best first until it returns false, ordering only as much of the
/// array as it consumes: chunks of `firstChunk`, then twice as many each time, are selected and
/// sorted. Lets a source filter candidates in rank order and stop once it has enough. Items are
/// best first in their `<` order (`Ranked`, `RankedMass`).
func visitBestFirst<T: Comparable>(_ items: inout [T], firstChunk: Int, _ visit: (T) -> Bool) {
    items.withUnsafeMutableBufferPointer { b in
        var start = 0, size = max(firstChunk, 16)
        while start < b.count {
            let end = min(b.count, start + size)
            if end < b.count { partialSelect(b, start, b.count, end) }
            sortRange(b, start, end)
            for i in start..<end {
                if !visit(b[i]) { return }
            }
            start = end
            size *= 2
        }
    }
}

/// The `k` best of a stream, in a heap whose root is the worst kept: for `n ≫ k` (the simple
/// logic keeps 100 of a million scored users) one comparison rejects most items and memory stays
/// O(k), where ranking everything would cost 16 bytes per item.
struct BoundedBest {
    private(set) var heap: [Ranked] = []
    let k: Int

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k)
    }

    mutating func offer(_ e: Ranked) {
        if heap.count < k {
            heap.append(e)
            var i = heap.count - 1
            while i > 0, heap[(i - 1) / 2] < heap[i] {
                heap.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        } else if e < heap[0] {
            heap[0] = e
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, heap[m] < heap[l] { m = l }
                if r < heap.count, heap[m] < heap[r] { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
    }

    /// The kept items, best first.
    func sorted() -> [Ranked] { heap.sorted() }
}

/// Top-`k` selection by score without sorting everything. Ties keep input order, so callers that
/// pass deterministic input get deterministic output.
func topK<T>(_ items: [T], k: Int, by score: (T) -> Float) -> [T] {
    var position = 0
    return topK(items, k: k, by: score, tie: { _ in defer { position += 1 }; return position })
}

/// Top-`k` by score; among equal scores the lower `tie` key wins (a user index, so that input in
/// any order, such as a hash or scratch-counter walk, gives the same answer as input sorted by user),
/// then the earlier item. `tie` is called once per item, in input order, and must lie in `Int32`'s range.
func topK<T>(_ items: [T], k: Int, by score: (T) -> Float, tie: (T) -> Int) -> [T] {
    guard k > 0 else { return [] }
    func ranked(_ i: Int) -> Ranked { Ranked(score: score(items[i]), tie: tie(items[i]), position: i) }
    if items.count > 4 * k + 64 {
        var best = BoundedBest(k: k)
        for i in items.indices { best.offer(ranked(i)) }
        return best.sorted().map { items[Int($0.position)] }
    }
    var all = items.indices.map(ranked)
    selectBest(&all, k: k)
    return all.prefix(k).map { items[Int($0.position)] }
}
