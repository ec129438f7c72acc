import Foundation

/// The `orbit` executable built beside the test bundle.
func orbitExecutable() -> String {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return dir.appendingPathComponent("orbit").path
}
