#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// File layout (little-endian, every section padded with zeros to a multiple of 8 bytes; the
// arrays are written from memory as they are, which is little-endian on every platform Orbit
// targets, x86-64 and arm64):
//   magic "ORBHNSW\0" (8) | version u32 | header length u32 (bytes after this field)
//   header (64): metric u32, dimension u32, m u32, efConstruction u32, seed u64, count u64,
//                entry point i32, max level i32, upper link count u64, stride u32, maxM0 u32,
//                reserved u64
//   levels u8 x count | upper offsets i32 x count | vectors f32 x count*stride
//   | layer-0 links i32 x count*(maxM0+1) | upper links i32 x upper link count
//   trailer: FNV-1a-64 over 64-bit words of everything before it (u64)
// The checksum catches damage; the structural checks after it catch a writer that disagrees
// with this reader, so a loaded graph never points outside its arrays.

/// Saving and loading HNSW indexes.
public enum HNSWIndexFile {
    /// Format version this build writes and reads.
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("ORBHNSW\0".utf8)
    static let headerLength = 64
    static let prefixLength = 16

    static func encodeHeader(_ index: HNSWIndex) -> [UInt8] {
        let c = index.configuration
        var out = magic
        append32(&out, version)
        append32(&out, UInt32(headerLength))
        append32(&out, c.metric.rawValue)
        append32(&out, UInt32(c.dimension))
        append32(&out, UInt32(c.m))
        append32(&out, UInt32(c.efConstruction))
        append64(&out, c.seed)
        append64(&out, UInt64(index.count))
        append32(&out, UInt32(bitPattern: index.entryPoint))
        append32(&out, UInt32(bitPattern: Int32(index.maxLevel)))
        append64(&out, UInt64(index.upperLinks.count))
        append32(&out, UInt32(c.stride))
        append32(&out, UInt32(c.maxM0))
        append64(&out, 0)
        return out
    }

    static func write(_ index: HNSWIndex, to path: String) throws(VectorIndexFileError) {
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw .cannotOpen(path: tmp, reason: errnoString()) }
        var ok = false
        defer {
            if !ok {
                close(fd)
                unlink(tmp)
            }
        }
        var sink = Sink(fd: fd, path: tmp)
        let header = encodeHeader(index)
        if let e = header.withUnsafeBytes({ sink.section($0) }) { throw e }
        if let e = index.levels.withUnsafeBytes({ sink.section($0) }) { throw e }
        if let e = index.upperOffset.withUnsafeBytes({ sink.section($0) }) { throw e }
        if let e = index.vectors.withUnsafeBytes({ sink.section($0) }) { throw e }
        if let e = index.links0.withUnsafeBytes({ sink.section($0) }) { throw e }
        if let e = index.upperLinks.withUnsafeBytes({ sink.section($0) }) { throw e }
        var trailer = [UInt8]()
        append64(&trailer, sink.hash.value)
        if let e = trailer.withUnsafeBytes({ writeAll(fd, $0, tmp) }) { throw e }
        if fsync(fd) != 0 { throw .ioFailure(path: tmp, operation: "fsync", reason: errnoString()) }
        ok = true
        close(fd)
        if rename(tmp, path) != 0 {
            let reason = errnoString()
            unlink(tmp)
            throw .ioFailure(path: path, operation: "rename", reason: reason)
        }
        // Make the rename itself durable.
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    static func read(from path: String) throws(VectorIndexFileError) -> HNSWIndex {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw .cannotOpen(path: path, reason: errnoString()) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .ioFailure(path: path, operation: "stat", reason: errnoString()) }
        let size = Int(st.st_size)
        var source = Source(fd: fd, path: path, size: size)

        let fixed = prefixLength + headerLength
        var head = [UInt8](repeating: 0, count: fixed)
        if size < fixed {
            if size >= 8 {
                try source.raw(&head, count: 8)
                if Array(head[0..<8]) != magic { throw .notAnIndexFile(path: path) }
            }
            throw .truncated(path: path, expectedBytes: fixed, actualBytes: size)
        }
        try source.raw(&head, count: fixed)
        if Array(head[0..<8]) != magic { throw .notAnIndexFile(path: path) }
        let version = u32(head, 8)
        if version != Self.version { throw .unsupportedVersion(path: path, found: version, supported: Self.version) }
        if Int(u32(head, 12)) != headerLength {
            throw .invalidContents(path: path, reason: "header length \(u32(head, 12)), expected \(headerLength)")
        }
        source.hash.update(head)

        func bad(_ reason: String) -> VectorIndexFileError { .invalidContents(path: path, reason: reason) }
        guard let metric = VectorMetric(rawValue: u32(head, 16)) else { throw bad("unknown metric \(u32(head, 16))") }
        let config = HNSWConfiguration(dimension: Int(u32(head, 20)), metric: metric, m: Int(u32(head, 24)),
                                       efConstruction: Int(u32(head, 28)), seed: u64(head, 32))
        do {
            try config.validate()
        } catch {
            throw bad(error.description)
        }
        let count64 = u64(head, 40)
        let entry = Int32(bitPattern: u32(head, 48))
        let maxLevel = Int(Int32(bitPattern: u32(head, 52)))
        let upperCount64 = u64(head, 56)
        let stride = Int(u32(head, 64)), maxM0 = Int(u32(head, 68))
        guard stride == config.stride, maxM0 == config.maxM0 else {
            throw bad("stride \(stride) / layer-0 capacity \(maxM0) do not match \(config)")
        }
        guard count64 <= UInt64(HNSWIndex.maximumCount) else { throw bad("count \(count64) exceeds the Int32 id space") }
        let blockSize = config.m + 1
        // Upper layers hold about n/(M-1) blocks; 32 per node is far beyond any real file.
        guard upperCount64 >= UInt64(blockSize), upperCount64 % UInt64(blockSize) == 0,
              upperCount64 <= (count64 + 1) * 32 * UInt64(blockSize) else {
            throw bad("upper link count \(upperCount64) is not a whole number of \(blockSize)-int blocks in range")
        }
        let n = Int(count64), upperCount = Int(upperCount64)
        func padded(_ bytes: Int) -> Int { (bytes + 7) & ~7 }
        let expected = fixed + padded(n) + padded(4 * n) + padded(4 * n * stride) + padded(4 * n * (maxM0 + 1))
            + padded(4 * upperCount) + 8
        if size < expected { throw .truncated(path: path, expectedBytes: expected, actualBytes: size) }
        if size > expected { throw .trailingBytes(path: path, expectedBytes: expected, actualBytes: size) }

        let levels: [UInt8] = try source.section(count: n)
        let upperOffset: [Int32] = try source.section(count: n)
        let vectors: [Float] = try source.section(count: n * stride)
        let links0: [Int32] = try source.section(count: n * (maxM0 + 1))
        let upperLinks: [Int32] = try source.section(count: upperCount)
        let computed = source.hash.value
        var trailer = [UInt8](repeating: 0, count: 8)
        try source.raw(&trailer, count: 8)
        let stored = u64(trailer, 0)
        if stored != computed { throw .checksumMismatch(path: path, stored: stored, computed: computed) }

        if n == 0 {
            guard entry == -1, maxLevel == -1 else { throw bad("an empty index with entry point \(entry)") }
        } else {
            guard entry >= 0, Int(entry) < n, maxLevel == Int(levels[Int(entry)]) else {
                throw bad("entry point \(entry) at level \(maxLevel) does not match the stored levels")
            }
        }
        if let problem = checkGraph(levels: levels, upperOffset: upperOffset, links0: links0,
                                    upperLinks: upperLinks, maxLevel: maxLevel, m: config.m, maxM0: maxM0) {
            throw bad(problem)
        }
        var index: HNSWIndex
        do {
            index = try HNSWIndex(configuration: config)
        } catch {
            throw bad(error.description)
        }
        index.restore(count: n, vectors: vectors, links0: links0, levels: levels, upperOffset: upperOffset,
                      upperLinks: upperLinks, entryPoint: entry, maxLevel: maxLevel)
        return index
    }

    /// Returns what is wrong with the stored graph, or nil when every list fits its node and
    /// every id is in range.
    static func checkGraph(levels: [UInt8], upperOffset: [Int32], links0: [Int32], upperLinks: [Int32],
                           maxLevel: Int, m: Int, maxM0: Int) -> String? {
        let n = levels.count
        let blocks = upperLinks.count / (m + 1)
        for i in 0..<n {
            let level = Int(levels[i])
            if level > maxLevel { return "node \(i) has level \(level) above the top level \(maxLevel)" }
            let base0 = i * (maxM0 + 1)
            let c0 = Int(links0[base0])
            if c0 < 0 || c0 > maxM0 { return "node \(i) has \(c0) layer-0 links (capacity \(maxM0))" }
            for j in 0..<c0 where links0[base0 + 1 + j] < 0 || Int(links0[base0 + 1 + j]) >= n {
                return "node \(i) links to \(links0[base0 + 1 + j]) outside 0..<\(n)"
            }
            guard level > 0 else { continue }
            let off = Int(upperOffset[i])
            if off < 1 || off + level > blocks { return "node \(i) upper-layer block \(off) out of range" }
            for l in 0..<level {
                let b = (off + l) * (m + 1)
                let c = Int(upperLinks[b])
                if c < 0 || c > m { return "node \(i) has \(c) links on layer \(l + 1) (capacity \(m))" }
                for j in 0..<c {
                    let e = Int(upperLinks[b + 1 + j])
                    if e < 0 || e >= n || Int(levels[e]) < l + 1 {
                        return "node \(i) links on layer \(l + 1) to \(e), which is not on that layer"
                    }
                }
            }
        }
        return nil
    }
}

extension HNSWIndex {
    /// Writes the index atomically to `path`: a temporary file in the same directory, fsync, rename.
    public func save(to path: String) throws(VectorIndexFileError) { try HNSWIndexFile.write(self, to: path) }

    /// Reads an index written by `save(to:)`, refusing truncated, corrupted or foreign files.
    public static func load(from path: String) throws(VectorIndexFileError) -> HNSWIndex {
        try HNSWIndexFile.read(from: path)
    }

    mutating func restore(count: Int, vectors: [Float], links0: [Int32], levels: [UInt8], upperOffset: [Int32],
                          upperLinks: [Int32], entryPoint: Int32, maxLevel: Int) {
        self.count = count
        self.vectors = vectors
        self.links0 = links0
        self.levels = levels
        self.upperOffset = upperOffset
        self.upperLinks = upperLinks
        self.entryPoint = entryPoint
        self.maxLevel = maxLevel
    }
}

/// Writes sections padded to 8 bytes and hashes exactly what it writes.
private struct Sink {
    let fd: Int32
    let path: String
    var hash = FNV64()

    mutating func section(_ bytes: UnsafeRawBufferPointer) -> VectorIndexFileError? {
        if let e = writeAll(fd, bytes, path) { return e }
        hash.update(bytes)
        let pad = (8 - bytes.count % 8) % 8
        if pad > 0 {
            let zeros = [UInt8](repeating: 0, count: pad)
            if let e = zeros.withUnsafeBytes({ writeAll(fd, $0, path) }) { return e }
            hash.update(zeros)
        }
        return nil
    }
}

/// Reads sections padded to 8 bytes and hashes everything it reads.
private struct Source {
    let fd: Int32
    let path: String
    let size: Int
    var offset = 0
    var hash = FNV64()

    mutating func raw(_ buffer: inout [UInt8], count: Int) throws(VectorIndexFileError) {
        if let e = buffer.withUnsafeMutableBytes({ fill($0.baseAddress!, count) }) { throw e }
    }

    mutating func section<T>(count: Int) throws(VectorIndexFileError) -> [T] {
        let bytes = count * MemoryLayout<T>.stride
        var failure: VectorIndexFileError?
        // T is plain old data (UInt8, Int32, Float): raw bytes are valid values, so the
        // array counts as initialised even when the read fails midway (it is then discarded).
        let out = [T](unsafeUninitializedCapacity: count) { b, initialized in
            if bytes > 0 {
                failure = fill(UnsafeMutableRawPointer(b.baseAddress!), bytes)
                if failure == nil { hash.update(UnsafeRawBufferPointer(start: b.baseAddress!, count: bytes)) }
            }
            initialized = count
        }
        if let failure { throw failure }
        let pad = (8 - bytes % 8) % 8
        if pad > 0 {
            var zeros = [UInt8](repeating: 0, count: pad)
            try raw(&zeros, count: pad)
            zeros.withUnsafeBytes { hash.update($0) }
        }
        return out
    }

    private mutating func fill(_ p: UnsafeMutableRawPointer, _ count: Int) -> VectorIndexFileError? {
        var done = 0
        while done < count {
            let r = sysRead(fd, p + done, min(count - done, 1 << 30))
            if r < 0 {
                if errno == EINTR { continue }
                return .ioFailure(path: path, operation: "read", reason: errnoString())
            }
            if r == 0 { return .truncated(path: path, expectedBytes: size, actualBytes: offset + done) }
            done += r
        }
        offset += count
        return nil
    }
}

/// FNV-1a over 64-bit little-endian words (bytes for a tail shorter than 8); every section is
/// padded to 8 bytes, so streaming updates stay word-aligned.
struct FNV64 {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var h = value
        var i = 0
        if let base = bytes.baseAddress {
            while i + 8 <= n {
                h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* Self.prime
                i += 8
            }
            while i < n {
                h = (h ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* Self.prime
                i += 1
            }
        }
        value = h
    }
}

private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String) -> VectorIndexFileError? {
    guard let base = bytes.baseAddress else { return nil }
    var done = 0
    while done < bytes.count {
        let w = write(fd, base + done, min(bytes.count - done, 1 << 30))
        if w < 0 {
            if errno == EINTR { continue }
            return .ioFailure(path: path, operation: "write", reason: errnoString())
        }
        done += w
    }
    return nil
}

@inline(__always)
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, p, n)
    #else
    Darwin.read(fd, p, n)
    #endif
}

private func errnoString() -> String { String(cString: strerror(errno)) }

private func append32(_ out: inout [UInt8], _ v: UInt32) {
    for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
}

private func append64(_ out: inout [UInt8], _ v: UInt64) {
    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}

private func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(b[at + i]) << (8 * UInt32(i)) }
    return v
}

private func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}
