import Foundation
import OrbitStore

/// A fresh folder under the system temporary directory, removed by `remove()`.
public struct TempDir: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "orbit-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String, _ contents: String) -> String {
        let p = path + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(contents.utf8))
        return p
    }

    public func file(_ name: String, bytes: [UInt8]) -> String {
        let p = path + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs a command and returns its exit status.
@discardableResult
public func run(_ executable: String, _ args: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

extension Store {
    /// Imports one file with default options (or skipping bad rows).
    public func importOne(_ path: String, _ format: ImportFormat, skipBadRows: Bool = false) async throws -> ImportSummary {
        try await importFiles([ImportSource(path: path, format: format)], options: ImportOptions(skipBadRows: skipBadRows), progress: nil)
    }
}
