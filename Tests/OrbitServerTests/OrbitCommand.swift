import Foundation
import Testing

/// The `orbit` executable built beside the test bundle, run as a child process.
struct OrbitCommand {
    struct Result {
        let status: Int32
        let out: String
        let err: String
    }

    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("orbit")
    }

    /// Runs `orbit args…` in `dir` and waits for it; standard output and error are kept in files
    /// (pipes could fill up and block a chatty command). The wait polls: `waitUntilExit` would hold
    /// one of the tests' few threads (`TestExecutor.tests`) for as long as the command runs.
    static func run(_ args: [String], in dir: String) async throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServeProcess.Failure(description: "no orbit executable at \(executable.path); run `swift build --build-tests` first")
        }
        let tag = UUID().uuidString.prefix(8)
        let outPath = "\(dir)/cmd-\(tag).out", errPath = "\(dir)/cmd-\(tag).err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = executable
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.arguments = args
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        try p.run()
        do {
            while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        } catch {
            p.terminate()  // the test was cancelled: leave no orbit running
            throw error
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      err: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// Runs and expects exit status 0, recording the output otherwise.
    @discardableResult
    static func succeed(_ args: [String], in dir: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Result {
        let r = try await run(args, in: dir)
        #expect(r.status == 0, "orbit \(args.joined(separator: " ")) exited \(r.status): \(r.err.suffix(2_000))", sourceLocation: sourceLocation)
        return r
    }
}
