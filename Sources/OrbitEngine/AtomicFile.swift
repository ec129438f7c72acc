import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that a reader sees the old content or the new, never a mix, and the new
/// content survives a crash once the call returns: a temporary name in the same folder, fsync,
/// rename(2), then fsync of the folder. Makes the folder when it is missing.
package enum AtomicFile {
    package static func write(_ data: Data, to path: String) throws(EngineError) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .unreadableFile(path: dir, cause: "cannot create the folder: \(error.localizedDescription)")
            }
        }
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .unreadableFile(path: tmp, cause: "cannot create: \(String(cString: strerror(errno)))") }
        var written = 0
        let ok: Bool = data.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(tmp)
            throw .unreadableFile(path: tmp, cause: "cannot write: \(reason)")
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw .unreadableFile(path: path, cause: "cannot rename the temporary file over it: \(why)")
        }
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
