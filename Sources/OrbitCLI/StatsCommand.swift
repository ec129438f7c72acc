import ArgumentParser
import Foundation
import OrbitCore
import OrbitStore

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print counts, degree percentiles and the engagement mix of the store.")

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        guard FileManager.default.fileExists(atPath: storeOptions.store) else {
            throw ValidationError("no store at \(storeOptions.store): import data first, or pass --store")
        }
        let store = try SQLiteStore(path: storeOptions.store)
        let start = Date()
        let loaded = try await store.loadSnapshot()
        let seconds = Date().timeIntervalSince(start)
        print(SnapshotSummary(loaded.snapshot))
        print(String(format: "snapshot loaded in %.2f s (store version %lld)", seconds, loaded.snapshot.version))
    }
}
