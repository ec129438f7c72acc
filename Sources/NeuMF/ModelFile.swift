#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// File layout (little-endian):
//   magic "ORBNEUMF" (8) | version u32 | header length u32 (bytes after this field, multiple of 8)
//   header: kind u32, factors u32, layer count u32, layers u32 x n, [pad u32], users u64, items u64,
//           parameter count u64
//   payload: parameter count x f32
//   trailer: FNV-1a-64 over 64-bit words of everything before it (u64)
// Readers reject any mismatch instead of guessing, and writers go through a temporary file
// in the same directory plus rename(2), so a reader sees the old file or the new one.

/// Reading and writing model files.
public enum ModelFile {
    /// Format version this build writes and reads.
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("ORBNEUMF".utf8)

    /// Writes `model` atomically to `path` (temporary file, fsync, rename).
    public static func write(_ model: NeuMFModel, to path: String) throws(ModelFileError) {
        let header = encodeHeader(model.configuration, parameterCount: model.parameterCount)
        var hash = FNV64()
        hash.update(header)
        model.parameters.withUnsafeBytes { hash.update($0) }
        var trailer = [UInt8]()
        append(&trailer, hash.value)

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
        if let e = header.withUnsafeBytes({ writeAll(fd, $0, tmp) }) { throw e }
        if let e = model.parameters.withUnsafeBytes({ writeAll(fd, $0, tmp) }) { throw e }
        if let e = trailer.withUnsafeBytes({ writeAll(fd, $0, tmp) }) { throw e }
        if fsync(fd) != 0 { throw .ioFailure(path: tmp, operation: "fsync", reason: errnoString()) }
        ok = true
        close(fd)
        if rename(tmp, path) != 0 {
            let reason = errnoString()
            unlink(tmp)
            throw .ioFailure(path: path, operation: "rename", reason: reason)
        }
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads and verifies a model file.
    public static func read(from path: String) throws(ModelFileError) -> NeuMFModel {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw .cannotOpen(path: path, reason: errnoString()) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw .ioFailure(path: path, operation: "stat", reason: errnoString()) }
        let size = Int(st.st_size)
        let fixed = 16
        var head = [UInt8](repeating: 0, count: fixed)
        if size < fixed {
            if size >= 8 {
                try readAll(fd, &head, 0, 8, path)
                if Array(head[0..<8]) != magic { throw .notAModelFile(path: path) }
            }
            throw .truncated(path: path, expectedBytes: fixed, actualBytes: size)
        }
        try readAll(fd, &head, 0, fixed, path)
        if Array(head[0..<8]) != magic { throw .notAModelFile(path: path) }
        let version = u32(head, 8)
        if version != Self.version { throw .unsupportedVersion(path: path, found: version, supported: Self.version) }
        let headerLength = Int(u32(head, 12))
        if headerLength < 40 || headerLength > 1 << 20 || headerLength % 8 != 0 {
            throw .invalidConfiguration(path: path, reason: "header length \(headerLength)")
        }
        if size < fixed + headerLength {
            throw .truncated(path: path, expectedBytes: fixed + headerLength + 8, actualBytes: size)
        }
        var header = head
        header += [UInt8](repeating: 0, count: headerLength)
        try readAll(fd, &header, fixed, headerLength, path)
        let (config, count) = try decodeHeader(header, path: path)
        let layout = ParameterLayout(config)
        if count != layout.total {
            throw .invalidConfiguration(path: path, reason: "\(count) parameters stored, \(config) needs \(layout.total)")
        }
        let expected = fixed + headerLength + count * 4 + 8
        if size < expected { throw .truncated(path: path, expectedBytes: expected, actualBytes: size) }
        if size > expected { throw .trailingBytes(path: path, expectedBytes: expected, actualBytes: size) }
        var params = [Float](repeating: 0, count: count)
        let payloadError = params.withUnsafeMutableBytes { b -> ModelFileError? in
            var done = 0
            while done < b.count {
                let r = sysRead(fd, b.baseAddress! + done, min(b.count - done, 1 << 30))
                if r < 0 {
                    if errno == EINTR { continue }
                    return .ioFailure(path: path, operation: "read", reason: errnoString())
                }
                if r == 0 { return .truncated(path: path, expectedBytes: expected, actualBytes: fixed + headerLength + done) }
                done += r
            }
            return nil
        }
        if let e = payloadError { throw e }
        var trailer = [UInt8](repeating: 0, count: 8)
        try readAll(fd, &trailer, 0, 8, path)
        var hash = FNV64()
        hash.update(header)
        params.withUnsafeBytes { hash.update($0) }
        let stored = u64(trailer, 0)
        if stored != hash.value { throw .checksumMismatch(path: path, stored: stored, computed: hash.value) }
        do {
            return try NeuMFModel(configuration: config, parameters: params)
        } catch {
            throw .invalidConfiguration(path: path, reason: error.description)
        }
    }

    static func encodeHeader(_ c: NeuMFConfiguration, parameterCount: Int) -> [UInt8] {
        var body = [UInt8]()
        append32(&body, c.kind.rawValue)
        append32(&body, UInt32(c.factors))
        append32(&body, UInt32(c.layers.count))
        for l in c.layers { append32(&body, UInt32(l)) }
        if body.count % 8 != 0 { append32(&body, 0) }
        append(&body, UInt64(c.userCount))
        append(&body, UInt64(c.itemCount))
        append(&body, UInt64(parameterCount))
        var out = magic
        append32(&out, version)
        append32(&out, UInt32(body.count))
        return out + body
    }

    static func decodeHeader(_ h: [UInt8], path: String) throws(ModelFileError) -> (NeuMFConfiguration, Int) {
        guard let kind = NeuMFKind(rawValue: u32(h, 16)) else {
            throw .invalidConfiguration(path: path, reason: "unknown model kind \(u32(h, 16))")
        }
        let factors = Int(u32(h, 20))
        let n = Int(u32(h, 24))
        var pos = 28
        if n > 64 || pos + 4 * n + 24 > h.count { throw .invalidConfiguration(path: path, reason: "\(n) layers") }
        var layers: [Int] = []
        for _ in 0..<n {
            layers.append(Int(u32(h, pos)))
            pos += 4
        }
        if (pos - 16) % 8 != 0 { pos += 4 }
        if pos + 24 != h.count { throw .invalidConfiguration(path: path, reason: "header length does not match \(n) layers") }
        let users = u64(h, pos), items = u64(h, pos + 8), count = u64(h, pos + 16)
        if users > UInt64(Int32.max) || items > UInt64(Int32.max) || count > UInt64(Int.max / 8) {
            throw .invalidConfiguration(path: path, reason: "sizes out of range (users \(users), items \(items), parameters \(count))")
        }
        let config = NeuMFConfiguration(kind: kind, factors: factors, layers: layers,
                                        userCount: Int(users), itemCount: Int(items))
        do {
            try config.validate()
        } catch {
            throw .invalidConfiguration(path: path, reason: error.description)
        }
        return (config, Int(count))
    }
}

extension NeuMFModel {
    /// Writes the model atomically to `path` (see `ModelFile`).
    public func save(to path: String) throws(ModelFileError) { try ModelFile.write(self, to: path) }

    /// Reads a model written by `save(to:)`, refusing truncated, corrupted or foreign files.
    public static func load(from path: String) throws(ModelFileError) -> NeuMFModel { try ModelFile.read(from: path) }

    /// The checksum its model file carries (FNV-1a-64 over header and parameters): identifies the
    /// exact parameters, so files derived from a model (its relation index) can name the model they
    /// were built from, and a reader can refuse a pair that does not belong together.
    public var checksum: UInt64 {
        var hash = FNV64()
        ModelFile.encodeHeader(configuration, parameterCount: parameterCount).withUnsafeBytes { hash.update($0) }
        parameters.withUnsafeBytes { hash.update($0) }
        return hash.value
    }
}

/// FNV-1a over 64-bit little-endian words (bytes for a tail shorter than 8); streaming inputs
/// must be word-aligned except the last, which the header padding guarantees. Also the digest of
/// answers that `orbit bench` prints.
package struct FNV64 {
    package private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    package init() {}

    /// One 64-bit word, as `update` hashes eight little-endian bytes.
    package mutating func update(word: UInt64) { value = (value ^ word) &* Self.prime }

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

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
}

private func append32(_ a: inout [UInt8], _ v: UInt32) {
    withUnsafeBytes(of: v.littleEndian) { a += $0 }
}

private func append(_ a: inout [UInt8], _ v: UInt64) {
    withUnsafeBytes(of: v.littleEndian) { a += $0 }
}

private func u32(_ a: [UInt8], _ at: Int) -> UInt32 {
    var v: UInt32 = 0
    for k in 0..<4 { v |= UInt32(a[at + k]) << (8 * k) }
    return v
}

private func u64(_ a: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<8 { v |= UInt64(a[at + k]) << (8 * k) }
    return v
}

private func errnoString() -> String { String(cString: strerror(errno)) }

private func writeAll(_ fd: Int32, _ b: UnsafeRawBufferPointer, _ path: String) -> ModelFileError? {
    var done = 0
    while done < b.count {
        let w = write(fd, b.baseAddress! + done, min(b.count - done, 1 << 30))
        if w < 0 {
            if errno == EINTR { continue }
            return .ioFailure(path: path, operation: "write", reason: errnoString())
        }
        done += w
    }
    return nil
}

private func readAll(_ fd: Int32, _ a: inout [UInt8], _ at: Int, _ count: Int, _ path: String) throws(ModelFileError) {
    let failure = a.withUnsafeMutableBytes { b -> ModelFileError? in
        var done = 0
        while done < count {
            let r = read(fd, b.baseAddress! + at + done, count - done)
            if r < 0 {
                if errno == EINTR { continue }
                return .ioFailure(path: path, operation: "read", reason: errnoString())
            }
            if r == 0 { return .truncated(path: path, expectedBytes: at + count, actualBytes: at + done) }
            done += r
        }
        return nil
    }
    if let e = failure { throw e }
}

#if _endian(big)
#error("model files are little-endian; add byte swapping for big-endian hosts")
#endif

/// `read(2)` under a name the static `ModelFile.read(from:)` does not shadow.
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
