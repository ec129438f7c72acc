/// Entry point of the whole graph: the node on the highest layer, and that layer.
struct EntryState: Sendable {
    var point: Int32
    var maxLevel: Int
}

/// Raw view of an index's flat storage, used by the insert and search algorithms.
///
/// Layout: node `i`'s vector is `vectors[i*stride ..< (i+1)*stride]`; its layer-0 list is the
/// block `links0[i*(maxM0+1) ...]` = [count, id0, id1, ...]; its list on layer `l >= 1` is block
/// `upperOffset[i] + l - 1` of `upperLinks`, each block `m + 1` Int32s in the same format.
///
/// `@unchecked Sendable` is safe under the discipline the index follows:
/// - `vectors`, `levels` and `upperOffset` are written before any worker starts and only read
///   while workers run (thread creation orders those writes before the reads);
/// - in a parallel build (`locks != nil`) every read or write of a neighbour list happens under
///   that node's stripe lock, and a worker never holds two stripe locks at once (no deadlock);
/// - without `locks` there is exactly one thread, or there are only readers (queries on an index
///   value nobody is mutating: Swift's exclusivity rules keep `mutating` adds away from it, and a
///   mutated copy gets its own buffers by copy-on-write).
struct Graph: @unchecked Sendable {
    let vectors: UnsafeMutablePointer<Float>
    let links0: UnsafeMutablePointer<Int32>
    let levels: UnsafePointer<UInt8>
    let upperOffset: UnsafePointer<Int32>
    let upperLinks: UnsafeMutablePointer<Int32>
    let stride: Int
    let m: Int
    let maxM0: Int
    let efConstruction: Int
    let locks: StripeView?

    @inline(__always)
    func vector(_ i: Int32) -> UnsafePointer<Float> { UnsafePointer(vectors + Int(i) &* stride) }

    @inline(__always)
    func list(_ i: Int32, _ level: Int) -> UnsafeMutablePointer<Int32> {
        if level == 0 { return links0 + Int(i) &* (maxM0 &+ 1) }
        return upperLinks + (Int(upperOffset[Int(i)]) &+ level &- 1) &* (m &+ 1)
    }

    @inline(__always)
    func distance(_ q: UnsafePointer<Float>, _ i: Int32) -> Float { -dot(q, vector(i), stride) }

    /// The neighbours of `node` on `level`: the list itself when nobody writes concurrently,
    /// otherwise a copy taken under the node's lock.
    @inline(__always)
    func neighbours(_ node: Int32, _ level: Int, _ scratch: Scratch) -> (UnsafePointer<Int32>, Int) {
        let l = list(node, level)
        guard let locks else { return (UnsafePointer(l + 1), Int(l[0])) }
        locks.lock(node)
        let n = Int(l[0])
        scratch.links.update(from: l + 1, count: n)
        locks.unlock(node)
        return (UnsafePointer(scratch.links), n)
    }

    /// Greedy walk on one upper layer (ef = 1), as in the paper's layers above the target.
    @inline(__always)
    func greedy(_ q: UnsafePointer<Float>, _ cur: inout Int32, _ curD: inout Float, _ level: Int, _ scratch: Scratch) {
        var changed = true
        while changed {
            changed = false
            let (nb, n) = neighbours(cur, level, scratch)
            for j in 0..<n {
                let e = nb[j]
                let d = distance(q, e)
                if d < curD {
                    curD = d
                    cur = e
                    changed = true
                }
            }
        }
    }

    /// Best-first search of one layer from `entry` (Algorithm 2); leaves the `ef` closest nodes
    /// that pass `allowed` in `scratch.results`. Nodes that fail `allowed` are still walked
    /// through, so a selective filter makes the search visit more of the graph.
    func searchLayer(_ q: UnsafePointer<Float>, entry: Int32, entryD: Float, ef: Int, level: Int,
                     scratch: Scratch, filtered: Bool, allowed: (Int32) -> Bool) {
        let gen = scratch.nextGeneration()
        let visited = scratch.visited
        let pendingIDs = scratch.pendingIDs
        let pendingD = scratch.pendingD
        var cand = scratch.candidates
        var res = scratch.results
        cand.count = 0
        res.count = 0
        defer {
            scratch.candidates = cand
            scratch.results = res
        }
        visited[Int(entry)] = gen
        cand.push(Item(d: -entryD, id: entry))
        if !filtered || allowed(entry) { res.push(Item(d: entryD, id: entry)) }

        while cand.count > 0 {
            let c = cand.top
            if res.count >= ef && -c.d > res.top.d { break }
            cand.pop()
            let (nb, n) = neighbours(c.id, level, scratch)
            // Two passes: first the visited checks, then the distances. The loads in each pass are
            // independent of each other, so the CPU overlaps their cache misses even when
            // `prefetch` is the no-op build (see Kernels.swift).
            for j in 0..<n { prefetch(UnsafePointer(visited + Int(nb[j]))) }
            var np = 0
            for j in 0..<n {
                let e = nb[j]
                if visited[Int(e)] != gen {
                    visited[Int(e)] = gen
                    pendingIDs[np] = e
                    np &+= 1
                    prefetch(vector(e))
                }
            }
            for j in 0..<np { pendingD[j] = distance(q, pendingIDs[j]) }
            for j in 0..<np {
                let d = pendingD[j]
                if res.count < ef || d < res.top.d {
                    let e = pendingIDs[j]
                    cand.push(Item(d: -d, id: e))
                    if !filtered || allowed(e) {
                        if res.count < ef {
                            res.push(Item(d: d, id: e))
                        } else {
                            res.replaceTop(Item(d: d, id: e))
                        }
                    }
                }
            }
            if cand.count > 0 { prefetch(UnsafePointer(list(cand.top.id, level))) }
        }
    }

    /// Moves `scratch.results` into `scratch.sorted`, closest first; returns the count.
    @inline(__always)
    func drainSorted(_ scratch: Scratch) -> Int {
        var res = scratch.results
        let n = res.count
        let out = scratch.sorted
        var i = n
        while i > 0 {
            i -= 1
            out[i] = res.pop()
        }
        scratch.results = res
        return n
    }

    /// The paper's neighbour-selection heuristic (Algorithm 4, without extending or keeping
    /// pruned candidates, as hnswlib does): take candidates closest first and keep one only if
    /// it is closer to the base than to every neighbour kept so far, which spreads links across
    /// directions and keeps clusters connected.
    @inline(__always)
    func selectNeighbours(_ sorted: UnsafePointer<Item>, _ n: Int, _ limit: Int, into out: UnsafeMutablePointer<Item>) -> Int {
        if n <= limit {
            out.update(from: sorted, count: n)
            return n
        }
        var k = 0
        for i in 0..<n {
            if k >= limit { break }
            let c = sorted[i]
            let cv = vector(c.id)
            var good = true
            for j in 0..<k where distance(cv, out[j].id) < c.d {
                good = false
                break
            }
            if good {
                out[k] = c
                k += 1
            }
        }
        return k
    }

    /// Inserts node `q` (its vector and level already stored) into the graph (Algorithm 1).
    func insert(_ q: Int32, entry: Locked<EntryState>, scratch: Scratch) {
        let level = Int(levels[Int(q)])
        let current = entry.withLock { $0 }
        if level <= current.maxLevel {
            link(q, level: level, from: current, scratch: scratch)
            return
        }
        // A node that raises the top layer holds the entry lock for its whole insert, so that no
        // other thread starts from a half-linked entry point. It happens about log_M(n) times;
        // the lock order (entry, then stripes) is the same everywhere, so this cannot deadlock.
        entry.withLock { state in
            link(q, level: level, from: state, scratch: scratch)
            if level > state.maxLevel { state = EntryState(point: q, maxLevel: level) }
        }
    }

    private func link(_ q: Int32, level: Int, from start: EntryState, scratch: Scratch) {
        let qv = vector(q)
        var cur = start.point
        var curD = distance(qv, cur)
        var l = start.maxLevel
        while l > level {
            greedy(qv, &cur, &curD, l, scratch)
            l -= 1
        }
        l = min(level, start.maxLevel)
        while l >= 0 {
            searchLayer(qv, entry: cur, entryD: curD, ef: efConstruction, level: l, scratch: scratch,
                        filtered: false, allowed: { _ in true })
            let n = drainSorted(scratch)
            cur = scratch.sorted[0].id
            curD = scratch.sorted[0].d
            let k = selectNeighbours(scratch.sorted, n, m, into: scratch.selected)

            let ql = list(q, l)
            locks?.lock(q)
            ql[0] = Int32(k)
            for j in 0..<k { ql[1 + j] = scratch.selected[j].id }
            locks?.unlock(q)

            let cap = l == 0 ? maxM0 : m
            for j in 0..<k {
                connect(scratch.selected[j].id, to: q, distance: scratch.selected[j].d, level: l, cap: cap, scratch: scratch)
            }
            l -= 1
        }
    }

    /// Adds the back link `node -> q`; a full list is re-pruned with the heuristic over its old
    /// links plus `q`.
    private func connect(_ node: Int32, to q: Int32, distance dq: Float, level: Int, cap: Int, scratch: Scratch) {
        let nl = list(node, level)
        locks?.lock(node)
        defer { locks?.unlock(node) }
        let cnt = Int(nl[0])
        if cnt < cap {
            nl[1 + cnt] = q
            nl[0] = Int32(cnt + 1)
            return
        }
        let nv = vector(node)
        let items = scratch.sorted
        items[0] = Item(d: dq, id: q)
        for j in 0..<cnt {
            let e = nl[1 + j]
            items[j + 1] = Item(d: distance(nv, e), id: e)
        }
        // At most 2M+1 items: insertion sort beats anything fancier here.
        let n = cnt + 1
        for i in 1..<n {
            let x = items[i]
            var j = i
            while j > 0 && items[j - 1].d > x.d {
                items[j] = items[j - 1]
                j -= 1
            }
            items[j] = x
        }
        let out = scratch.pruned
        let k = selectNeighbours(items, n, cap, into: out)
        nl[0] = Int32(k)
        for j in 0..<k { nl[1 + j] = out[j].id }
    }
}
