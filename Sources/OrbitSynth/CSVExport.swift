import Foundation
import OrbitCore

/// Writes a generated network as the CSV files `orbit import` reads.
extension SyntheticNetwork {
    /// The file names, in the order they must be imported (posts before interactions).
    public static let fileNames = ["users.csv", "follows.csv", "blocks.csv", "posts.csv", "interactions.csv"]

    /// Writes users, follows, blocks, posts and interactions into `directory`, each file to a
    /// temporary name first and renamed when complete. Returns the paths in import order.
    @discardableResult
    public func writeCSV(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var paths: [String] = []
        func file(_ name: String, header: String, rows: Int, _ row: (Int, inout ByteWriter) -> Void) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            var w = try ByteWriter(path: path + ".tmp")
            w.text(header)
            w.byte(10)
            for i in 0..<rows {
                row(i, &w)
                w.byte(10)
            }
            try w.close()
            _ = try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
            paths.append(path)
        }
        try file("users.csv", header: "id,created_at,flags", rows: userCount) { i, w in
            w.text("u"); w.int(Int64(i)); w.byte(44); w.int(joinedAt[i]); w.byte(44)
            if !flags[i].isEmpty { w.text("\"\(flags[i].description)\"") }
        }
        try file("follows.csv", header: "uid,fid,created_at", rows: follows.count) { i, w in
            let f = follows[i]
            w.text("u"); w.int(Int64(f.follower)); w.text(",u"); w.int(Int64(f.followee)); w.byte(44); w.int(f.createdAt)
        }
        try file("blocks.csv", header: "uid,blocked,created_at", rows: blocks.count) { i, w in
            let b = blocks[i]
            w.text("u"); w.int(Int64(b.user)); w.text(",u"); w.int(Int64(b.blocked)); w.byte(44); w.int(b.createdAt)
        }
        try file("posts.csv", header: "id,author,created_at", rows: posts.count) { i, w in
            let p = posts[i]
            w.text("p"); w.int(Int64(p.index)); w.text(",u"); w.int(Int64(p.author)); w.byte(44); w.int(p.createdAt)
        }
        try file("interactions.csv", header: "uid,post,kind,ts", rows: interactions.count) { i, w in
            let x = interactions[i]
            w.text("u"); w.int(Int64(x.user)); w.text(",p"); w.int(Int64(x.post)); w.byte(44)
            w.text(x.kind.name); w.byte(44); w.int(x.timestamp)
        }
        return paths
    }
}

/// A buffered file writer for large generated files: formatting through String would dominate.
public struct ByteWriter: ~Copyable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 22)
    }

    public mutating func byte(_ b: UInt8) {
        buffer.append(b)
        if buffer.count >= 1 << 22 { flush() }
    }

    public mutating func text(_ s: String) { buffer.append(contentsOf: s.utf8) }

    public mutating func int(_ v: Int64) {
        if v < 0 { buffer.append(45) }
        var x = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(48 + x % 10)
                x /= 10
                n += 1
            } while x > 0
            for i in stride(from: n - 1, through: 0, by: -1) { buffer.append(d[i]) }
        }
    }

    private mutating func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    public consuming func close() throws {
        flush()
        try handle.synchronize()
        try handle.close()
    }
}
