import Foundation
import Testing

/// A task executor that starts a thread whenever a job finds all of its threads busy, up to a
/// cap, for the tests.
///
/// Swift Testing runs every test on the cooperative pool, one thread per core (two here), and so
/// do the tasks that NIO, PostgresNIO and the in-process servers start. Two tests that compute or
/// wait synchronously on both threads stall every other task in the process: a PostgreSQL lease
/// times out after 3 s, an HTTP client after 20 s, although nothing is wrong but the test
/// harness. Under `.testThreads` a test's body, and every structured task it starts, runs on
/// `tests` instead, and an in-process server under `withTaskExecutorPreference(servers)` on
/// threads of its own: the cooperative pool is left to the short tasks of NIO, PostgresNIO and
/// the timers.
public final class TestExecutor: TaskExecutor, @unchecked Sendable {
    /// The executor of the tests under `.testThreads`. Three threads: more tests computing at
    /// once on two cores starve NIO's event loops and PostgreSQL (a connect then takes over 5 s).
    /// Its threads live as long as the process, so a job that arrives after its test ended runs.
    public static let tests = TestExecutor(maxThreads: 3, name: "orbit-test")

    /// The executor of the tests' in-process servers and HTTP clients, apart from `tests`: a
    /// server's handlers, and a client that times its requests, must not wait behind tests that
    /// compute for a minute. Six threads: a few of these tests block one for seconds (raw sockets
    /// with receive timeouts, a fixture built synchronously).
    public static let servers = TestExecutor(maxThreads: 6, name: "orbit-srv")

    // All guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var threads = 0
    /// Threads inside `wait()`, including any already signalled but not yet running.
    private var waiting = 0
    private let maxThreads: Int
    private let name: String

    /// An executor that starts no thread until its first job, and at most `maxThreads`, named
    /// `name-1`, `name-2`… (Linux keeps 15 characters of a thread's name).
    public init(maxThreads: Int, name: String) {
        self.maxThreads = maxThreads
        self.name = name
    }

    /// Queues `job` for the first free thread, starting a thread when none waits and the cap allows.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        // Decided on the queue's length, not on a count of wake-ups sent: a job taken by a thread
        // that just finished another, or a spurious wake-up, cannot leave the count wrong.
        if jobs.count - head > waiting, threads < maxThreads {
            threads += 1
            let thread = Thread { self.work() }
            thread.name = "\(name)-\(threads)"
            thread.start()
        } else {
            condition.signal()
        }
    }

    private func work() {
        let me = asUnownedTaskExecutor()
        condition.lock()
        while true {
            while head == jobs.count {
                waiting += 1
                condition.wait()
                waiting -= 1
            }
            let job = jobs[head]
            head += 1
            if head >= 1_024, head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: me)
            condition.lock()
        }
    }
}

/// Runs each test of a suite (or a single test) under `TestExecutor.tests` instead of on the
/// cooperative pool: `@Suite(.testThreads)`.
public struct TestThreadsTrait: TestTrait, SuiteTrait, TestScoping {
    /// The trait of a suite reaches every test in it.
    public var isRecursive: Bool { true }

    /// A scope for each test case, none for the suite itself.
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? { testCase == nil ? nil : self }

    /// Runs the test case with `TestExecutor.tests` as its preferred executor.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(TestExecutor.tests) { try await function() }
    }
}

extension Trait where Self == TestThreadsTrait {
    /// Each test runs on `TestExecutor.tests`, off the cooperative pool.
    public static var testThreads: Self { TestThreadsTrait() }
}
