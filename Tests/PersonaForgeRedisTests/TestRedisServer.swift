import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport

/// The Redis the suite shares (the local stack's), from PERSONAFORGE_REDIS_URL.
enum SharedRedis {
    static let url = ProcessInfo.processInfo.environment["PERSONAFORGE_REDIS_URL"] ?? "redis://127.0.0.1:16379/0"

    static func connection() throws -> RedisConnection {
        RedisConnection(configuration: try RedisConfiguration(url: url))
    }

    /// A key no other test uses.
    static func uniqueKey(_ name: String) -> String {
        "pf:test:\(name):\(UInt64.random(in: 0...UInt64.max))"
    }
}

/// A private redis-server on a free loopback port, for tests that restart or
/// reconfigure the server (which the shared one must not be).
final class TestRedisServer: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by start()/stop(), which tests
    // call sequentially.
    let port: Int
    let password: String?
    private var process: ChildProcess?
    private let directory: URL

    init(password: String? = nil) throws {
        self.port = try Loopback.freePort()
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-redis-\(port)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String {
        if let password { return "redis://:\(password)@127.0.0.1:\(port)/0" }
        return "redis://127.0.0.1:\(port)/0"
    }

    func start() throws {
        var arguments = [try TestRedisServer.redisServerPath(), "--bind", "127.0.0.1", "--port", String(port),
                         "--save", "", "--appendonly", "no", "--dir", directory.path]
        if let password { arguments += ["--requirepass", password] }
        process = try ChildProcess(arguments, logPath: directory.appendingPathComponent("redis.log").path)
        try Loopback.waitUntilListening(port: port)
    }

    func stop() {
        process?.terminate()
        process = nil
    }

    static func redisServerPath() throws -> String {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSupportError("redis-server not found: run deploy/local/install.sh")
    }
}
