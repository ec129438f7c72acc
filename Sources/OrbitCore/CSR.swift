/// A compressed sparse row adjacency: row `i` is `targets[offsets[i] ..< offsets[i + 1]]`.
///
/// Rows are sorted ascending and free of duplicates, so membership is a binary search.
public struct CSR: Sendable, Equatable {
    public private(set) var offsets: [Int]
    public private(set) var targets: [Int32]

    public init(offsets: [Int], targets: [Int32]) {
        precondition(offsets.first == 0 && offsets.last == targets.count, "CSR offsets must span targets")
        self.offsets = offsets
        self.targets = targets
    }

    /// An empty adjacency over `rows` rows.
    public init(rows: Int) {
        offsets = Array(repeating: 0, count: rows + 1)
        targets = []
    }

    public var rowCount: Int { offsets.count - 1 }
    public var edgeCount: Int { targets.count }

    @inlinable
    public func range(_ row: Int32) -> Range<Int> {
        let r = Int(row)
        guard r >= 0, r < offsets.count - 1 else { return 0..<0 }
        return offsets[r]..<offsets[r + 1]
    }

    @inlinable
    public func row(_ row: Int32) -> ArraySlice<Int32> { targets[range(row)] }

    @inlinable
    public func degree(_ row: Int32) -> Int { range(row).count }

    @inlinable
    public func contains(_ row: Int32, _ target: Int32) -> Bool {
        var lo = 0, hi = 0
        let r = range(row)
        lo = r.lowerBound
        hi = r.upperBound
        return targets.withUnsafeBufferPointer { t in
            while lo < hi {
                let mid = (lo + hi) >> 1
                let v = t[mid]
                if v == target { return true }
                if v < target { lo = mid + 1 } else { hi = mid }
            }
            return false
        }
    }

    /// Bytes held by the two arrays.
    public var byteCount: Int { offsets.count * MemoryLayout<Int>.stride + targets.count * 4 }

    /// Builds rows from `(row, target)` pairs in O(pairs + rows) with a counting sort, then sorts
    /// and de-duplicates each row. `payload` travels with each pair and is kept for the first
    /// occurrence of a duplicate; the permutation that was applied is returned so callers can
    /// reorder parallel arrays.
    public static func build(
        rows: Int, sources: [Int32], targets: [Int32]
    ) -> (csr: CSR, order: [Int]) {
        precondition(sources.count == targets.count)
        var counts = [Int](repeating: 0, count: rows + 1)
        sources.withUnsafeBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { c in
                for v in s { c[Int(v) + 1] += 1 }
            }
        }
        for i in 0..<rows { counts[i + 1] += counts[i] }
        var cursor = counts
        var order = [Int](repeating: 0, count: sources.count)
        var placed = [Int32](repeating: 0, count: sources.count)
        sources.withUnsafeBufferPointer { s in
            targets.withUnsafeBufferPointer { t in
                cursor.withUnsafeMutableBufferPointer { cur in
                    order.withUnsafeMutableBufferPointer { o in
                        placed.withUnsafeMutableBufferPointer { p in
                            for e in 0..<s.count {
                                let r = Int(s[e])
                                let at = cur[r]
                                cur[r] = at + 1
                                p[at] = t[e]
                                o[at] = e
                            }
                        }
                    }
                }
            }
        }
        // Sort each row (a stable counting sort of sorted input is already sorted, so this is a
        // check in the common case) and drop duplicates in place.
        var newOffsets = [Int](repeating: 0, count: rows + 1)
        var write = 0
        placed.withUnsafeMutableBufferPointer { p in
            order.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let lo = counts[r], hi = counts[r + 1]
                    var sorted = true
                    if hi - lo > 1 {
                        for i in (lo + 1)..<hi where p[i] <= p[i - 1] {
                            sorted = false
                            break
                        }
                    }
                    if !sorted {
                        var pairs = (lo..<hi).map { (p[$0], o[$0]) }
                        pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                        for (k, pr) in pairs.enumerated() {
                            p[lo + k] = pr.0
                            o[lo + k] = pr.1
                        }
                    }
                    for i in lo..<hi {
                        if write > newOffsets[r], p[write - 1] == p[i] { continue }
                        p[write] = p[i]
                        o[write] = o[i]
                        write += 1
                    }
                    newOffsets[r + 1] = write
                }
            }
        }
        placed.removeLast(placed.count - write)
        order.removeLast(order.count - write)
        return (CSR(offsets: newOffsets, targets: placed), order)
    }
}

/// Rewrites a row layout (`offsets` over a values array) with some rows changed and the rest
/// copied in runs: what patching a snapshot costs is a copy, not a sort.
enum RowLayout {
    /// New offsets for `rows` rows (at least as many as `offsets` has; the added rows start empty).
    /// Rows in `editedRows` (ascending, unique) are rewritten by `rewrite(row, oldRange)`, which
    /// appends the row's new values; every run of other rows is appended whole by `copy(oldRange)`;
    /// `written()` is the number of values appended so far.
    static func patch(
        offsets: [Int], rows: Int, editedRows: [Int], copy: (Range<Int>) -> Void, rewrite: (Int32, Range<Int>) -> Void,
        written: () -> Int
    ) -> [Int] {
        let oldRows = offsets.count - 1
        precondition(rows >= oldRows, "a patched layout cannot lose rows")
        var newOffsets = [Int](repeating: 0, count: rows + 1)
        var next = 0  // the first row not written yet
        var shift = 0  // new offset minus old offset, for the rows being copied
        newOffsets.withUnsafeMutableBufferPointer { newO in
            offsets.withUnsafeBufferPointer { old in
                func start(_ r: Int) -> Int { old[min(r, oldRows)] }
                func copyRows(upTo end: Int) {
                    guard end > next else { return }
                    copy(start(next)..<start(end))
                    for r in next..<end { newO[r + 1] = start(r + 1) + shift }
                    next = end
                }
                for r in editedRows {
                    copyRows(upTo: r)
                    rewrite(Int32(r), start(r)..<start(r + 1))
                    newO[r + 1] = written()
                    shift = newO[r + 1] - start(r + 1)
                    next = r + 1
                }
                copyRows(upTo: rows)
            }
        }
        return newOffsets
    }

    /// The distinct rows of row keys sorted ascending: `editedRows` for `patch`.
    static func distinct(_ sortedRows: some Sequence<Int32>) -> [Int] {
        var out: [Int] = []
        for r in sortedRows where out.last != Int(r) { out.append(Int(r)) }
        return out
    }
}

extension CSR {
    /// These rows with `edits` (sorted by row then target, one per pair) applied, over `rows` rows:
    /// a kept pair is there afterwards, a dropped one is not.
    func patched(rows: Int, edits: [RowEdit]) -> CSR {
        var none: [Timestamp] = []
        return patched(rows: rows, edits: edits, carrying: false, times: &none)
    }

    /// The same, with `times` parallel to the targets: a kept pair carries its edit's time.
    func patched(rows: Int, edits: [RowEdit], times: [Timestamp]) -> (CSR, [Timestamp]) {
        var t = times
        let csr = patched(rows: rows, edits: edits, carrying: true, times: &t)
        return (csr, t)
    }

    private func patched(rows: Int, edits: [RowEdit], carrying: Bool, times: inout [Timestamp]) -> CSR {
        var t: [Int32] = [], ts: [Timestamp] = []
        t.reserveCapacity(targets.count + edits.count)
        if carrying { ts.reserveCapacity(targets.count + edits.count) }
        var next = 0
        let old = times
        let offsets = RowLayout.patch(
            offsets: offsets, rows: rows, editedRows: RowLayout.distinct(edits.lazy.map(\.row)),
            copy: { r in
                t.append(contentsOf: targets[r])
                if carrying { ts.append(contentsOf: old[r]) }
            },
            rewrite: { row, r in
                var i = r.lowerBound
                while next < edits.count, edits[next].row == row {
                    let e = edits[next]
                    next += 1
                    while i < r.upperBound, targets[i] < e.target {
                        t.append(targets[i])
                        if carrying { ts.append(old[i]) }
                        i += 1
                    }
                    if i < r.upperBound, targets[i] == e.target { i += 1 }
                    if e.keep {
                        t.append(e.target)
                        if carrying { ts.append(e.time) }
                    }
                }
                t.append(contentsOf: targets[i..<r.upperBound])
                if carrying { ts.append(contentsOf: old[i..<r.upperBound]) }
            },
            written: { t.count })
        if carrying { times = ts }
        return CSR(offsets: offsets, targets: t)
    }
}
