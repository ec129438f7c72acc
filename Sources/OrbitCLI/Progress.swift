#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Progress of a long operation: a redrawn bar on a terminal, plain lines every few seconds otherwise.
final class ProgressReporter: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private struct State { var last = Date.distantPast; var stage = ""; var drewBar = false }
    private let state = Mutex(State())

    func update(_ stage: String, _ fraction: Double) {
        let now = Date()
        let line: String? = state.withLock { s in
            let newStage = stage != s.stage
            let interval = isTerminal ? 0.1 : 5
            guard newStage || now.timeIntervalSince(s.last) >= interval || fraction >= 1 else { return nil }
            s.last = now
            s.stage = stage
            let pct = Int((min(max(fraction, 0), 1) * 100).rounded())
            if isTerminal {
                let width = 30
                let filled = width * pct / 100
                s.drewBar = true
                return "\r\(stage.padding(toLength: 14, withPad: " ", startingAt: 0)) ["
                    + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(pct)%"
            }
            return "\(stage): \(pct)%\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends the bar's line so later output starts on a fresh one.
    func finish() {
        let drew = state.withLock { s in
            defer { s.drewBar = false }
            return s.drewBar
        }
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func message(_ text: String) {
        finish()
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
