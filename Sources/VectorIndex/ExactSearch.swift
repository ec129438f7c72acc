extension HNSWIndex {
    /// The exact `k` nearest neighbours of `query` by scanning every stored vector, best first.
    /// The reference for measuring recall, and the right tool when only a few ids are candidates.
    public func exactSearch(_ query: [Float], k: Int) -> [VectorHit] {
        query.withUnsafeBufferPointer { exactSearch($0, k: k, filtered: false, allowed: { _ in true }) }
    }

    /// `exactSearch(_:k:)` on a buffer.
    public func exactSearch(_ query: UnsafeBufferPointer<Float>, k: Int) -> [VectorHit] {
        exactSearch(query, k: k, filtered: false, allowed: { _ in true })
    }

    /// `exactSearch(_:k:)` restricted to ids for which `allowed` returns true.
    public func exactSearch(_ query: [Float], k: Int, where allowed: (Int32) -> Bool) -> [VectorHit] {
        query.withUnsafeBufferPointer { exactSearch($0, k: k, filtered: true, allowed: allowed) }
    }

    private func exactSearch(_ query: UnsafeBufferPointer<Float>, k: Int, filtered: Bool,
                             allowed: (Int32) -> Bool) -> [VectorHit] {
        let c = configuration
        precondition(query.count == c.dimension, "query has \(query.count) floats, the index has dimension \(c.dimension)")
        guard k > 0, count > 0 else { return [] }
        let s = c.stride
        let q = UnsafeMutablePointer<Float>.allocate(capacity: s)
        defer { q.deallocate() }
        q.initialize(repeating: 0, count: s)
        q.update(from: query.baseAddress!, count: c.dimension)
        if c.metric == .cosine { normalize(q, s) }
        // Max-heap on -score = min-heap on score: its top is the worst of the best k so far.
        var heap = ItemHeap(capacity: k + 1)
        defer { heap.free() }
        let n = count
        vectors.withUnsafeBufferPointer { vb in
            let v = vb.baseAddress!
            @inline(__always) func offer(_ score: Float, _ i: Int) {
                if heap.count < k {
                    heap.push(Item(d: -score, id: Int32(i)))
                } else if -score < heap.top.d {
                    heap.replaceTop(Item(d: -score, id: Int32(i)))
                }
            }
            if filtered {
                for i in 0..<n where allowed(Int32(i)) { offer(dot(q, v + i * s, s), i) }
                return
            }
            var i = 0
            // Four independent dot products per step keep several loads in flight.
            while i + 4 <= n {
                let s0 = dot(q, v + i * s, s)
                let s1 = dot(q, v + (i + 1) * s, s)
                let s2 = dot(q, v + (i + 2) * s, s)
                let s3 = dot(q, v + (i + 3) * s, s)
                let worst = heap.count < k ? -Float.infinity : -heap.top.d
                if s0 > worst || s1 > worst || s2 > worst || s3 > worst {
                    offer(s0, i)
                    offer(s1, i + 1)
                    offer(s2, i + 2)
                    offer(s3, i + 3)
                }
                i += 4
            }
            while i < n {
                offer(dot(q, v + i * s, s), i)
                i += 1
            }
        }
        var out = [VectorHit](repeating: VectorHit(id: 0, score: 0), count: heap.count)
        var j = heap.count
        while j > 0 {
            j -= 1
            let it = heap.pop()
            out[j] = VectorHit(id: it.id, score: -it.d)
        }
        return out
    }
}
