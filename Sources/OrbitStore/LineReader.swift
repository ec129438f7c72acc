import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a data file could not be read at all (as opposed to a bad row inside it).
public enum FileReadError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    case corrupt(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "\(path): cannot open: \(reason). Check the path and the file's permissions."
        case .corrupt(let path, let line, let reason):
            "\(path):\(line): the file is damaged (\(reason)). Re-download or re-compress it; nothing was imported."
        }
    }
}

/// Reads a text file line by line as raw bytes, decompressing `.gz` transparently.
///
/// Lines are handed out as buffers into an internal chunk, so reading allocates nothing per line;
/// a trailing `\r` is removed so CRLF files read like LF files.
public struct LineReader: ~Copyable {
    public let path: String
    private let file: gzFile
    private var buffer: UnsafeMutableBufferPointer<UInt8>
    private var start = 0
    private var end = 0
    private var eof = false
    /// 1-based number of the line most recently returned.
    public private(set) var lineNumber = 0
    /// Bytes of the file (compressed, for `.gz`) consumed so far, for progress.
    public var compressedOffset: Int64 { Int64(gzoffset(file)) }
    /// Bytes consumed so far from the decompressed stream.
    public private(set) var bytesRead: Int64 = 0

    public init(path: String, chunkSize: Int = 1 << 20) throws(FileReadError) {
        self.path = path
        guard let f = gzopen(path, "rb") else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        gzbuffer(f, 1 << 18)
        buffer = .allocate(capacity: chunkSize)
    }

    deinit {
        gzclose(file)
        buffer.deallocate()
    }

    /// Calls `body` with the next line's bytes (without the newline) and its 1-based number;
    /// returns nil at the end of the file.
    public mutating func next<R>(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> R) throws -> R? {
        while true {
            if let nl = findNewline() {
                let line = UnsafeBufferPointer(rebasing: buffer[start..<nl])
                start = nl + 1
                lineNumber += 1
                return try body(trimCR(line), lineNumber)
            }
            if eof {
                guard start < end else { return nil }
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                start = end
                lineNumber += 1
                return try body(trimCR(line), lineNumber)
            }
            try refill()
        }
    }

    private func trimCR(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let last = line.last, last == UInt8(ascii: "\r") {
            return UnsafeBufferPointer(rebasing: line.dropLast())
        }
        return line
    }

    private func findNewline() -> Int? {
        var i = start
        while i < end {
            if buffer[i] == 10 { return i }
            i += 1
        }
        return nil
    }

    private mutating func refill() throws(FileReadError) {
        // Move the partial line to the front; grow when one line fills the whole chunk.
        let partial = end - start
        if partial > 0, start > 0 {
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                from: buffer.baseAddress! + start, byteCount: partial)
        }
        start = 0
        end = partial
        if end == buffer.count {
            let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
            _ = bigger.initialize(from: buffer)
            buffer.deallocate()
            buffer = bigger
        }
        let want = buffer.count - end
        let n = gzread(file, buffer.baseAddress! + end, UInt32(want))
        if n < 0 {
            var code: Int32 = 0
            let msg = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
            throw .corrupt(path: path, line: lineNumber + 1, reason: msg)
        }
        if n == 0 {
            var code: Int32 = 0
            let msg = gzerror(file, &code)
            if code != Z_OK && code != Z_STREAM_END {
                throw .corrupt(path: path, line: lineNumber + 1, reason: msg.map { String(cString: $0) } ?? "read error")
            }
            eof = true
        }
        end += Int(n)
        bytesRead += Int64(n)
    }
}

/// Whole-file reads of small text files (`.gz` decompressed), for formats parsed elsewhere.
public enum TextFile {
    public static func read(path: String) throws(FileReadError) -> String {
        var reader = try LineReader(path: path)
        var bytes: [UInt8] = []
        do {
            while try reader.next({ line, _ -> Bool in
                bytes.append(contentsOf: line)
                bytes.append(10)
                return true
            }) != nil {}
        } catch let e as FileReadError {
            throw e
        } catch {
            throw .corrupt(path: path, line: reader.lineNumber, reason: "\(error)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
