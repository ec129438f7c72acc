import OrbitCore

/// Interns external ids straight from input bytes: a lookup hashes and compares bytes, so an id
/// already known costs no String at all. Bulk imports look up two ids per row; building a String
/// and hashing it with SipHash for each was most of the parse time.
struct ByteIDTable {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var slots: [Int32]  // -1 = empty, else index
    private var hashes: [UInt32]
    private var mask: Int

    init(ids: [String]) {
        var capacity = 1024
        while capacity < ids.count * 2 { capacity <<= 1 }
        slots = Array(repeating: -1, count: capacity)
        hashes = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        arena.reserveCapacity(ids.count * 8)
        starts.reserveCapacity(ids.count + 1)
        for id in ids {
            var s = id
            s.withUTF8 { _ = insertNew($0, hash: Self.hash($0)) }
        }
    }

    var count: Int { starts.count - 1 }

    /// FNV-1a over the bytes, finished with a multiply-shift mix for the table's low bits.
    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return (h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9
    }

    /// The index of the id spelled by `bytes`, if known.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: h) & mask
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        return arena.withUnsafeBufferPointer { a in
            while true {
                let s = slots[i]
                if s < 0 { return nil }
                if hashes[i] == tag {
                    let lo = starts[Int(s)], hi = starts[Int(s) + 1]
                    if hi - lo == bytes.count, memcmpEqual(a.baseAddress! + lo, bytes.baseAddress, bytes.count) { return s }
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds an id known to be absent and returns its index (the next one).
    @discardableResult
    mutating func insertNew(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32 {
        if (count + 1) * 2 > slots.count { grow() }
        let index = Int32(count)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        place(index, hash: h)
        return index
    }

    private mutating func place(_ index: Int32, hash h: UInt64) {
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = index
        hashes[i] = UInt32(truncatingIfNeeded: h >> 32)
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = Array(repeating: -1, count: capacity)
        hashes = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        for k in 0..<count {
            let lo = starts[k], hi = starts[k + 1]
            let h = arena.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[lo..<hi])) }
            place(Int32(k), hash: h)
        }
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
    guard let b else { return n == 0 }
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}

/// The ids of one import: byte tables for fast lookups, kept in step with the catalog's id maps.
struct ImportIDs {
    var users: ByteIDTable
    var posts: ByteIDTable

    init(_ c: Catalog) {
        users = ByteIDTable(ids: c.users.externalIDs)
        posts = ByteIDTable(ids: c.posts.externalIDs)
    }
}
