import ArgumentParser
import Foundation
import Logging
import OrbitCore
import OrbitEngine
import OrbitStore

/// `orbit dismiss add|undo|list`: the CLI side of `POST/DELETE/GET /v1/users/{id}/dismissals`,
/// writing the same store events.
struct Dismiss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dismiss a suggestion for a user (it is never suggested to them again), undo that, or list dismissals.",
        subcommands: [Add.self, Undo.self, List.self])

    struct Pair: ParsableArguments {
        @Option(help: "External id of the user the suggestion was shown to.")
        var user: String
        @Option(help: "External id of the suggested account.")
        var candidate: String

        func validate() throws {
            guard !user.isEmpty, !candidate.isEmpty else { throw ValidationError("--user and --candidate must not be empty") }
            guard user != candidate else { throw ValidationError("--user and --candidate name the same account; a user is never suggested to themselves") }
        }
    }

    static func write(_ event: Event, to store: StoreOptions) async throws {
        let opened = try await store.location.open(create: true, logger: Logger(label: "orbit.dismiss"))
        let version = try await opened.using { try await $0.append([event]) }
        print("written at store version \(version); a running server sees it at its next poll (or at once through the API)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dismiss --candidate for --user.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var pair: Pair
        @Option(help: "Why: \(DismissalReason.allCases.map(\.name).joined(separator: ", ")).")
        var reason: String = DismissalReason.notInterested.name

        func validate() throws {
            guard DismissalReason(name: reason) != nil else {
                throw ValidationError("unknown --reason \"\(reason)\"; one of \(DismissalReason.allCases.map(\.name).joined(separator: ", "))")
            }
        }

        func run() async throws {
            try await Dismiss.write(.dismiss(user: pair.user, candidate: pair.candidate, reason: DismissalReason(name: reason)!,
                                             at: Timestamp(Date().timeIntervalSince1970)), to: storeOptions)
        }
    }

    struct Undo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo a dismissal: --candidate may be suggested to --user again.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var pair: Pair

        func run() async throws {
            try await Dismiss.write(.undismiss(user: pair.user, candidate: pair.candidate, at: Timestamp(Date().timeIntervalSince1970)),
                                    to: storeOptions)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The suggestions --user dismissed.")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "External id of the user.")
        var user: String

        func run() async throws {
            let opened = try await storeOptions.location.open(create: false, logger: Logger(label: "orbit.dismiss"))
            let loaded = try await opened.using { try await $0.loadSnapshot() }
            guard let u = loaded.catalog.users.index(of: user) else { throw ValidationError("no user \"\(user)\" in the store") }
            let ids = LiveView(snapshot: loaded.snapshot).dismissals(of: u).map { loaded.catalog.users.externalID(of: $0) }
            print(ids.isEmpty ? "\(user) dismissed no suggestion" : ids.joined(separator: "\n"))
        }
    }
}
