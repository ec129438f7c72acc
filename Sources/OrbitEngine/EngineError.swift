import Foundation

/// Why the engine could not do what a command or route asked; each case says what to do next.
public enum EngineError: Error, CustomStringConvertible, Sendable {
    /// No SQLite store at the path (commands that read need one).
    case noStore(path: String)
    /// The store could not be opened or read; `cause` is the store's own error.
    case store(location: String, cause: String)
    /// A file (plan, model, pairs) could not be read.
    case unreadableFile(path: String, cause: String)
    /// A training plan setting no training can run with.
    case invalidPlan(where: String, reason: String)
    /// A model or index file exists but cannot be used (damaged, another format version, or built
    /// for another model or id space).
    case unusableModel(path: String, reason: String)
    /// Training itself failed (bad data, a diverging loss).
    case training(cause: String)
    /// The request names a logic that has nothing to run on (no model, no relation index).
    case logicUnavailable(logic: String, reason: String)
    /// An unknown user id.
    case unknownUser(id: String, location: String)

    public var description: String {
        switch self {
        case .noStore(let path): "no store at \(path): import data first (orbit import --store \(path) FILE…), or pass --store"
        case .store(let location, let cause): "store \(location): \(cause)"
        case .unreadableFile(let path, let cause): "cannot read \(path): \(cause)"
        case .invalidPlan(let key, let reason): "training plan \(key): \(reason)"
        case .unusableModel(let path, let reason): "cannot use \(path): \(reason)"
        case .training(let cause): "training failed: \(cause)"
        case .logicUnavailable(let logic, let reason): "logic \(logic) is not available: \(reason)"
        case .unknownUser(let id, let location): "unknown user \"\(id)\": no such id in \(location)"
        }
    }
}
