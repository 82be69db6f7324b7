import Foundation

/// A private redis-server on a free loopback port, for tests that stop, restart or
/// reconfigure Redis (the shared one must not be disturbed), optionally with a password.
public final class RedisServerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by start()/stop(), which a test
    // calls from one task at a time.
    public let port: Int
    /// The server's `requirepass`, when it has one.
    public let password: String?
    private var process: ChildProcess?
    private let directory: URL

    /// With an append-only file fsynced on every write, as production Redis runs
    /// (deploy/compose.yaml, k8s): streams and groups survive a restart.
    public let persistent: Bool
    /// `appendfsync` of a persistent server: `always` (as deployed) or `everysec`.
    public let fsync: String
    /// More redis-server arguments, e.g. ACL users:
    /// `["--user", "default", "off", "--user", "app", "on", ">pw", "~app:*", "+get"]`.
    public let extraArguments: [String]

    public init(password: String? = nil, persistent: Bool = false, fsync: String = "always", extraArguments: [String] = []) throws {
        port = try Loopback.freePort()
        self.password = password
        self.persistent = persistent
        self.fsync = fsync
        self.extraArguments = extraArguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-redis-\(port)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    public var url: String {
        if let password { return "redis://:\(password)@127.0.0.1:\(port)/0" }
        return "redis://127.0.0.1:\(port)/0"
    }

    /// The server's process id while it runs.
    public var pid: Int32? { process?.pid }

    /// Starts (or restarts) the server on the same port.
    public func start() throws {
        guard let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestSupportError("redis-server not found: run deploy/local/install.sh")
        }
        var arguments = [path, "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--dir", directory.path]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", fsync] : ["--appendonly", "no"]
        if let password { arguments += ["--requirepass", password] }
        arguments += extraArguments
        process = try ChildProcess(arguments, logPath: directory.appendingPathComponent("redis.log").path)
        try Loopback.waitUntilListening(port: port)
    }

    /// Stops the server (SIGTERM, waits for it to exit).
    public func stop() {
        process?.terminate()
        process = nil
    }
}
