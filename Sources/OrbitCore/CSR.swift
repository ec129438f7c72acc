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
