/// An approximate nearest-neighbour index (HNSW, Malkov & Yashunin) over fixed-dimension `Float`
/// vectors, compared by cosine or inner product; ids are the insertion positions `0..<count`.
///
/// A value type: copies share storage until one of them is mutated (copy-on-write), so a built
/// index can be handed to any number of concurrent readers, and `add` on a copy that is still
/// shared first duplicates the storage. Storage is a handful of flat arrays (about
/// `4*stride + 4*(2M+1) + 5` bytes per vector plus about 5% for upper layers), never one object per node.
public struct HNSWIndex: Sendable {
    public let configuration: HNSWConfiguration
    /// Number of vectors; their ids are `0..<count`.
    public internal(set) var count: Int = 0

    var vectors: [Float] = []
    var links0: [Int32] = []
    var levels: [UInt8] = []
    var upperOffset: [Int32] = []
    /// Starts with one unused block so that it is never empty (a block index of 0 means "none").
    var upperLinks: [Int32]
    var entryPoint: Int32 = -1
    var maxLevel: Int = -1
    let pool = ScratchPool()

    /// Largest number of vectors one index holds (ids are `Int32`).
    public static let maximumCount = Int(Int32.max)

    /// An empty index; fill it with `add(_:threads:)`.
    public init(configuration: HNSWConfiguration) throws(VectorIndexError) {
        try configuration.validate()
        self.configuration = configuration
        upperLinks = [Int32](repeating: 0, count: configuration.m + 1)
    }

    /// Builds an index over `vectors`, `count * dimension` floats laid out row after row.
    ///
    /// `threads`: 0 uses every core, 1 gives a deterministic build (same seed, same input, same
    /// graph). Parallel builds insert concurrently under per-node locks and are not reproducible
    /// bit for bit, though their quality is the same. Passing an array the caller no longer uses
    /// (`HNSWIndex(vectors: consume data, ...)`) lets the index adopt its buffer instead of copying
    /// it, when `dimension` is a multiple of 8; at 11M vectors of d = 16 that saves 700 MB.
    public init(vectors: consuming [Float], configuration: HNSWConfiguration, threads: Int = 0) throws(VectorIndexError) {
        try self.init(configuration: configuration)
        let d = configuration.dimension
        guard vectors.count % d == 0 else {
            throw .invalidInput("\(vectors.count) floats is not a multiple of the dimension \(d)")
        }
        let n = vectors.count / d
        if configuration.stride == d {
            if let e = vectors.withUnsafeBufferPointer({ Self.firstNonFinite($0, d) }) { throw e }
            guard n <= Self.maximumCount else { throw .capacityExceeded(requested: n, limit: Self.maximumCount) }
            // `consume` ends the parameter's lifetime here, so the buffer is uniquely referenced
            // (when the caller gave it up) and normalising in place does not copy it.
            self.vectors = consume vectors
            if configuration.metric == .cosine {
                self.vectors.withUnsafeMutableBufferPointer { b in
                    for i in 0..<n { normalize(b.baseAddress! + i * d, d) }
                }
            }
            growGraph(by: n)
            insertNodes(from: 0, to: n, threads: threads)
        } else {
            let result = vectors.withUnsafeBufferPointer { b in
                Result { () throws(VectorIndexError) in try add(b, threads: threads) }
            }
            _ = try result.get()
        }
    }

    /// Adds vectors (`k * dimension` floats) after the existing ones and links them into the graph;
    /// returns their ids. Searches see them as soon as this returns.
    @discardableResult
    public mutating func add(_ vectors: [Float], threads: Int = 1) throws(VectorIndexError) -> Range<Int32> {
        let result = vectors.withUnsafeBufferPointer { b in
            Result { () throws(VectorIndexError) in try add(b, threads: threads) }
        }
        return try result.get()
    }

    /// Adds vectors from a buffer; see `add(_:threads:)`.
    @discardableResult
    public mutating func add(_ vectors: UnsafeBufferPointer<Float>, threads: Int = 1) throws(VectorIndexError) -> Range<Int32> {
        let d = configuration.dimension, s = configuration.stride
        guard vectors.count % d == 0 else {
            throw .invalidInput("\(vectors.count) floats is not a multiple of the dimension \(d)")
        }
        let n = vectors.count / d
        guard n > 0 else { return Int32(count)..<Int32(count) }
        guard count + n <= Self.maximumCount else {
            throw .capacityExceeded(requested: count + n, limit: Self.maximumCount)
        }
        if let e = Self.firstNonFinite(vectors, d) { throw e }
        let first = count
        Self.reserve(&self.vectors, adding: n * s)
        for i in 0..<n {
            self.vectors.append(contentsOf: vectors[(i * d)..<(i * d + d)])
            if s > d { self.vectors.append(contentsOf: repeatElement(0, count: s - d)) }
        }
        if configuration.metric == .cosine {
            self.vectors.withUnsafeMutableBufferPointer { b in
                for i in first..<(first + n) { normalize(b.baseAddress! + i * s, s) }
            }
        }
        growGraph(by: n)
        insertNodes(from: first, to: first + n, threads: threads)
        return Int32(first)..<Int32(first + n)
    }

    private static func firstNonFinite(_ v: UnsafeBufferPointer<Float>, _ d: Int) -> VectorIndexError? {
        for (i, x) in v.enumerated() where !x.isFinite {
            return .invalidInput("vector \(i / d) has a non-finite component (\(x)) at position \(i % d)")
        }
        return nil
    }

    /// Grows an array's capacity by at least half when it must grow, so many small adds stay
    /// amortised O(1) without the doubling that would briefly need twice a multi-GiB buffer.
    private static func reserve<T>(_ a: inout [T], adding extra: Int) {
        let needed = a.count + extra
        if needed > a.capacity { a.reserveCapacity(max(needed, a.capacity + a.capacity / 2)) }
    }

    /// Draws levels for `n` new nodes (whose vectors are stored) and allocates their empty lists.
    private mutating func growGraph(by n: Int) {
        let c = configuration
        let first = count
        Self.reserve(&levels, adding: n)
        Self.reserve(&upperOffset, adding: n)
        Self.reserve(&links0, adding: n * (c.maxM0 + 1))
        var blocks = upperLinks.count / (c.m + 1)
        let firstBlock = blocks
        for i in first..<(first + n) {
            let level = drawLevel(seed: c.seed, node: i, m: c.m)
            levels.append(level)
            if level > 0 {
                upperOffset.append(Int32(blocks))
                blocks += Int(level)
            } else {
                upperOffset.append(0)
            }
        }
        Self.reserve(&upperLinks, adding: (blocks - firstBlock) * (c.m + 1))
        upperLinks.append(contentsOf: repeatElement(0, count: (blocks - firstBlock) * (c.m + 1)))
        links0.append(contentsOf: repeatElement(0, count: n * (c.maxM0 + 1)))
        count = first + n
    }

    /// Links nodes `first..<end` into the graph.
    private mutating func insertNodes(from first: Int, to end: Int, threads requested: Int) {
        guard end > first else { return }
        var start = first
        if entryPoint < 0 {
            entryPoint = Int32(first)
            maxLevel = Int(levels[first])
            start += 1
        }
        let threads = min(resolvedThreadCount(requested), max(1, (end - start) / 64))
        let c = configuration
        let entry = Locked(EntryState(point: entryPoint, maxLevel: maxLevel))
        let nodes = count
        withGraph(locked: threads > 1) { g in
            if threads <= 1 {
                let scratch = Scratch(nodes: nodes, stride: c.stride, maxM0: c.maxM0, ef: c.efConstruction)
                for q in start..<end { g.insert(Int32(q), entry: entry, scratch: scratch) }
                return
            }
            // Chunks of 64 consecutive ids: the shared cursor is touched once per 64 inserts.
            let cursor = Locked(start)
            let chunk = 64
            parallelFor(threads) { _ in
                let scratch = Scratch(nodes: nodes, stride: c.stride, maxM0: c.maxM0, ef: c.efConstruction)
                while true {
                    let b = cursor.withLock { v in
                        let b = v
                        v += chunk
                        return b
                    }
                    if b >= end { break }
                    for q in b..<min(b + chunk, end) { g.insert(Int32(q), entry: entry, scratch: scratch) }
                }
            }
        }
        let final = entry.withLock { $0 }
        entryPoint = final.point
        maxLevel = final.maxLevel
    }

    /// Runs `body` on a raw view of the storage for inserting.
    private mutating func withGraph(locked: Bool, _ body: (Graph) -> Void) {
        let c = configuration
        let stripes = locked ? LockStripes() : nil
        let locks = stripes?.view
        defer { withExtendedLifetime(stripes) {} }
        vectors.withUnsafeMutableBufferPointer { v in
            links0.withUnsafeMutableBufferPointer { l0 in
                upperLinks.withUnsafeMutableBufferPointer { up in
                    levels.withUnsafeBufferPointer { lv in
                        upperOffset.withUnsafeBufferPointer { uo in
                            body(Graph(vectors: v.baseAddress!, links0: l0.baseAddress!, levels: lv.baseAddress!,
                                       upperOffset: uo.baseAddress!, upperLinks: up.baseAddress!,
                                       stride: c.stride, m: c.m, maxM0: c.maxM0,
                                       efConstruction: c.efConstruction, locks: locks))
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` on a read-only raw view of the storage (searches never write through it).
    func readGraph<R>(_ body: (Graph) -> R) -> R {
        let c = configuration
        return vectors.withUnsafeBufferPointer { v in
            links0.withUnsafeBufferPointer { l0 in
                upperLinks.withUnsafeBufferPointer { up in
                    levels.withUnsafeBufferPointer { lv in
                        upperOffset.withUnsafeBufferPointer { uo in
                            body(Graph(vectors: UnsafeMutablePointer(mutating: v.baseAddress!),
                                       links0: UnsafeMutablePointer(mutating: l0.baseAddress!),
                                       levels: lv.baseAddress!, upperOffset: uo.baseAddress!,
                                       upperLinks: UnsafeMutablePointer(mutating: up.baseAddress!),
                                       stride: c.stride, m: c.m, maxM0: c.maxM0,
                                       efConstruction: c.efConstruction, locks: nil))
                        }
                    }
                }
            }
        }
    }

    // MARK: search

    /// The `k` approximate nearest neighbours of `query` (`dimension` floats), best first.
    /// `ef` (raised to `k` if smaller) trades speed for recall: the number of candidates kept
    /// while walking the bottom layer.
    public func search(_ query: [Float], k: Int, ef: Int = 64) -> [VectorHit] {
        query.withUnsafeBufferPointer { search($0, k: k, ef: ef) }
    }

    /// `search(_:k:ef:)` on a buffer.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int = 64) -> [VectorHit] {
        search(query, k: k, ef: ef, filtered: false, allowed: { _ in true })
    }

    /// Like `search(_:k:ef:)`, but only ids for which `allowed` returns true are returned.
    /// Rejected nodes are still used as stepping stones; when few ids pass, the walk visits a
    /// large part of the graph, and an exact search over the allowed ids may be cheaper.
    public func search(_ query: [Float], k: Int, ef: Int = 64, where allowed: (Int32) -> Bool) -> [VectorHit] {
        query.withUnsafeBufferPointer { search($0, k: k, ef: ef, filtered: true, allowed: allowed) }
    }

    /// Searches many queries (`q * dimension` floats) on `threads` threads (0 = every core);
    /// result `i` belongs to query `i`.
    public func search(batch queries: [Float], k: Int, ef: Int = 64, threads: Int = 0) -> [[VectorHit]] {
        let d = configuration.dimension
        precondition(queries.count % d == 0, "query batch of \(queries.count) floats is not a multiple of dimension \(d)")
        let q = queries.count / d
        let results = Locked([[VectorHit]](repeating: [], count: q))
        let workers = min(resolvedThreadCount(threads), max(1, q))
        parallelFor(workers) { w in
            var local: [(Int, [VectorHit])] = []
            var i = w
            while i < q {
                let hits = queries.withUnsafeBufferPointer {
                    search(UnsafeBufferPointer(rebasing: $0[(i * d)..<(i * d + d)]), k: k, ef: ef)
                }
                local.append((i, hits))
                i += workers
            }
            results.withLock { r in for (i, h) in local { r[i] = h } }
        }
        return results.withLock { $0 }
    }

    private func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, filtered: Bool,
                        allowed: (Int32) -> Bool) -> [VectorHit] {
        let c = configuration
        precondition(query.count == c.dimension, "query has \(query.count) floats, the index has dimension \(c.dimension)")
        guard k > 0, count > 0 else { return [] }
        let ef = max(ef, k)
        let scratch = pool.take() ?? Scratch(nodes: count, stride: c.stride, maxM0: c.maxM0, ef: ef)
        defer { pool.give(scratch) }
        scratch.ensure(nodes: count, ef: ef)
        let q = scratch.query
        q.update(from: query.baseAddress!, count: c.dimension)
        if c.metric == .cosine { normalize(q, c.stride) }
        let ep = entryPoint, top = maxLevel
        return readGraph { g in
            var cur = ep
            var curD = g.distance(q, cur)
            var l = top
            while l > 0 {
                g.greedy(q, &cur, &curD, l, scratch)
                l -= 1
            }
            g.searchLayer(q, entry: cur, entryD: curD, ef: ef, level: 0, scratch: scratch,
                          filtered: filtered, allowed: allowed)
            let n = g.drainSorted(scratch)
            let out = scratch.sorted
            return (0..<min(k, n)).map { VectorHit(id: out[$0].id, score: -out[$0].d) }
        }
    }

    // MARK: inspection

    /// The stored vector `id` (normalised to unit length under the cosine metric).
    public func vector(_ id: Int32) -> [Float] {
        precondition(id >= 0 && Int(id) < count, "id \(id) outside 0..<\(count)")
        let s = configuration.stride, d = configuration.dimension
        return Array(vectors[(Int(id) * s)..<(Int(id) * s + d)])
    }

    /// The neighbour ids of `id` on `level` (0 is the bottom layer); empty above the node's top level.
    public func neighbours(of id: Int32, level: Int = 0) -> [Int32] {
        precondition(id >= 0 && Int(id) < count, "id \(id) outside 0..<\(count)")
        guard level >= 0, level <= Int(levels[Int(id)]) else { return [] }
        return readGraph { g in
            let l = g.list(id, level)
            return Array(UnsafeBufferPointer(start: l + 1, count: Int(l[0])))
        }
    }

    /// Number of layers (the top layer's number plus one); 0 when empty.
    public var layerCount: Int { maxLevel + 1 }

    /// Bytes held by the index's storage (vectors, links, levels); excludes per-thread search scratch.
    public var storageBytes: Int {
        vectors.count * 4 + links0.count * 4 + upperLinks.count * 4 + upperOffset.count * 4 + levels.count
    }
}
