import ArgumentParser
import Foundation
import Logging
import OrbitCore
import OrbitEngine

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print counts, degree percentiles and the engagement mix of the store.")

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let opened = try await storeOptions.location.open(create: false, logger: Logger(label: "orbit.stats"))
        let start = Date()
        let columns = try await opened.using { try await $0.loadColumns().0 }
        let readSeconds = Date().timeIntervalSince(start)
        let buildStart = Date()
        let snapshot = Snapshot.build(columns)
        let buildSeconds = Date().timeIntervalSince(buildStart)
        print(SnapshotSummary(snapshot))
        print(String(format: "snapshot: read from the store in %.2f s, built in %.2f s (store version %lld)",
                     readSeconds, buildSeconds, snapshot.version))
    }
}
