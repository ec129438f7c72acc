import Foundation
import Logging
import OrbitEngine

/// Where a server's retraining runs (`ServerConfiguration.retrainIn`).
public enum RetrainPlacement: String, Sendable, Codable, CaseIterable {
    /// A child `orbit train all` at `retrainNice`: training's CPU time comes from what requests
    /// leave, its memory is the child's and returns to the system when it exits, and a training
    /// that crashes takes nothing down with it.
    case process
    /// A thread of the serving process: for services embedded without the `orbit` executable.
    case server
}

/// Why a retraining child failed; the models in service keep serving.
public struct RetrainProcessError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Runs `orbit train all` as a child process, niced, with the server's plan and model paths, and
/// waits for it. The store is passed in the environment (`ORBIT_STORE`), not on the command line,
/// where a PostgreSQL password would be visible to every user of the machine.
struct RetrainProcess: Sendable {
    let executable: String
    let configuration: ServerConfiguration
    let logger: Logger

    /// What the child reports back: the statuses of what it trained.
    var reportPath: String { configuration.followModel + ".retrain-report.json" }

    /// The arguments after the executable; the plan is read from `planPath`.
    func arguments(planPath: String) -> [String] {
        ["train", "all", "--plan", planPath, "--out", configuration.followModel, "--click-model", configuration.clickModel, "--report", reportPath]
    }

    /// The whole command line. chrt(1) and nice(1) set the scheduling class and niceness before
    /// orbit starts, so every thread of it has them (libdispatch sets its workers' niceness by
    /// QoS, so a niceness set on the running child would miss them; the idle class is inherited).
    func command(planPath: String) -> [String] {
        var command = [executable] + arguments(planPath: planPath)
        if configuration.retrainNice > 0 { command = ["/usr/bin/nice", "-n", "\(configuration.retrainNice)"] + command }
        if configuration.retrainIdle { command = ["/usr/bin/chrt", "--idle", "0"] + command }
        return command
    }

    /// Trains; returns the wall seconds it took and the child's report. Cancelling the calling
    /// task terminates the child.
    func run() async throws -> (seconds: Double, report: RetrainReport) {
        try? FileManager.default.removeItem(atPath: reportPath)
        let planPath = configuration.followModel + ".retrain-plan.json"
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(try encoder.encode(configuration.training), to: planPath)
        } catch {
            throw RetrainProcessError(description: "cannot write the training plan for the retraining process to \(planPath): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: planPath) }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw RetrainProcessError(description: "cannot start \(executable) for retraining: no executable file there")
        }
        let child = Child()
        let p = child.process
        let command = command(planPath: planPath)
        for tool in command.prefix(while: { $0 != executable }) where tool.hasPrefix("/") {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw RetrainProcessError(description: "\(tool) is missing: it lowers the retraining's priority (retrainIdle, retrainNice); "
                                          + "install it (util-linux, coreutils) or set retrainIdle false and retrainNice 0")
            }
        }
        p.executableURL = URL(fileURLWithPath: command[0])
        p.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["ORBIT_STORE"] = configuration.store
        p.environment = environment
        // The child's output goes to a file beside the model (kept until the next retraining), not
        // a pipe: nothing can block on a full pipe, and a failure's last lines can be read back.
        let logPath = configuration.followModel + ".retrain.log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw RetrainProcessError(description: "cannot create the retraining log \(logPath)")
        }
        defer { try? log.close() }
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        let start = Date()
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                p.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try p.run()
                } catch {
                    p.terminationHandler = nil
                    continuation.resume(throwing: RetrainProcessError(description: "cannot start \(executable) for retraining: \(error)"))
                    return
                }
                logger.info("retraining process started", metadata: [
                    "pid": "\(p.processIdentifier)", "command": "\(command.joined(separator: " "))",
                ])
            }
        } onCancel: {
            child.terminate()
        }
        let seconds = Date().timeIntervalSince(start)
        guard status == 0 else {
            let why = p.terminationReason == .uncaughtSignal ? "was killed by signal \(status)" : "exited with status \(status)"
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            let last = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).suffix(3).joined(separator: " | ")
            throw RetrainProcessError(description: "the retraining process \(why) after \(String(format: "%.1f", seconds)) s (log: \(logPath)): \(last)")
        }
        let report: RetrainReport
        do { report = try RetrainReport.read(from: reportPath) } catch {
            throw RetrainProcessError(description: "the retraining process exited 0 but its report is unreadable: \(error)")
        }
        logger.info("retraining process finished", metadata: ["seconds": "\(String(format: "%.1f", seconds))", "log": "\(logPath)"])
        return (seconds, report)
    }
}

/// The child process, shared with the cancellation handler (Foundation's `Process` is not
/// `Sendable`; it is only started, then terminated or waited for).
private final class Child: @unchecked Sendable {
    let process = Process()

    func terminate() {
        if process.isRunning { process.terminate() }
    }
}
