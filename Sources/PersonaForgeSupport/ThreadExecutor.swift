#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A serial executor that runs every job on one dedicated OS thread.
///
/// Blocking C calls (hiredis, libpq) must never run on Swift's shared cooperative
/// pool, which has as many threads as cores (two on the build machines). An actor
/// that returns this executor from `unownedExecutor` runs all of its isolated code
/// on its own thread, so a blocking read stalls only that actor.
///
/// The thread lives until ``shutdown()`` is called; jobs enqueued afterwards
/// still run (on the caller's thread) so that no continuation is ever leaked.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `stopping` are only touched with `mutex` held;
    // `thread` is written once in init before any other thread can see `self`.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var thread = pthread_t()
    /// What the thread serves, for diagnostics.
    public let name: String

    /// Starts a dedicated thread for the executor.
    public init(name: String) {
        self.name = name
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        let unmanaged = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, nil, { argument in
            let executor = Unmanaged<ThreadExecutor>.fromOpaque(argument!).takeRetainedValue()
            executor.runLoop()
            return nil
        }, unmanaged.toOpaque())
        precondition(result == 0, "pthread_create failed with \(result)")
        pthread_detach(thread)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        if stopping {
            pthread_mutex_unlock(&mutex)
            unowned.runSynchronously(on: asUnownedSerialExecutor())
            return
        }
        jobs.append(unowned)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish the jobs already queued, then exit.
    public func shutdown() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty && !stopping {
                pthread_cond_wait(&condition, &mutex)
            }
            if jobs.isEmpty && stopping {
                pthread_mutex_unlock(&mutex)
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(&mutex)
            let executor = asUnownedSerialExecutor()
            for job in batch {
                job.runSynchronously(on: executor)
            }
        }
    }
}
