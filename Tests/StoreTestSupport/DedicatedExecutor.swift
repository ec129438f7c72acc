import Foundation

/// A task executor with threads of its own, for the in-process servers of the tests.
///
/// Swift Testing runs every test on the cooperative pool, one thread per core (two here). A test
/// that blocks one of them (a child process waited for, a model fitted synchronously) and another
/// that blocks the other stall every task on the pool, and an in-process server's handlers are such
/// tasks: its clients then time out after 20 s although the server has nothing wrong. Run under
/// `withTaskExecutorPreference(DedicatedExecutor.servers)`, the server's tasks (and the structured
/// tasks they start, down to each connection's handler) run on these threads instead, which nothing
/// else blocks.
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor the servers of a test process share: its threads live as long as the
    /// process, so a job that arrives after its test ended still runs.
    public static let servers = DedicatedExecutor(threads: 4, name: "orbit-test-server")

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// Starts `threads` threads named `name-i` that run the jobs enqueued, in order of arrival.
    public init(threads: Int, name: String) {
        for i in 0..<threads {
            let thread = Thread { self.work() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        let me = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            // Drop the run part of the queue now and then, not on every job.
            if head >= 1_024, head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: me)
        }
    }
}
