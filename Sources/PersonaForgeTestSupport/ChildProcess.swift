public import Foundation

/// A child process started with posix_spawn, for tests that need real servers.
///
/// Not Foundation.Process: its `waitUntilExit` can hang when called from Swift's
/// cooperative pool on Linux. The child's signal mask is reset, because the spawning
/// thread may block signals (dispatch threads do) and a child inherits that mask.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `pid` changes only in terminate(), which tests call from
    // one task at a time.
    public private(set) var pid: pid_t?
    public let arguments: [String]

    /// Starts `arguments[0]` (an absolute path) with the rest as arguments; standard
    /// output goes to `logPath` (or /dev/null), standard error to `errorPath` (or with
    /// standard output).
    public init(_ arguments: [String], environment: [String: String]? = nil, logPath: String? = nil, errorPath: String? = nil) throws {
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = logPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var cEnvironment = environmentStrings.map { strdup($0) } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, &attributes, &cArguments, &cEnvironment)
        guard status == 0 else {
            throw TestSupportError("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    deinit {
        terminate(signal: SIGKILL)
    }

    /// Sends `signal` and waits for the process to exit; returns its wait status.
    @discardableResult
    public func terminate(signal: Int32 = SIGTERM) -> Int32 {
        guard let pid else { return 0 }
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        self.pid = nil
        return status
    }

    /// Whether the process is still running (a process that has exited is reaped).
    public var isRunning: Bool {
        guard let pid else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            self.pid = nil
            return false
        }
        return true
    }

    /// Sends a signal without waiting.
    public func send(signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// Waits for the process to exit by itself (up to `timeout`); returns the exit code,
    /// or nil if it is still running.
    public func waitForExit(timeout: Duration) async -> Int32? {
        guard let pid else { return nil }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                self.pid = nil
                // WIFEXITED / WEXITSTATUS are macros: decode by hand.
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
