import Foundation
import PersonaForgeRedis

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
    private var pid: pid_t?
    private let directory: URL

    init(password: String? = nil) throws {
        self.port = try TestRedisServer.freePort()
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
        // posix_spawn rather than Foundation.Process: Process.waitUntilExit can hang
        // when called from the cooperative pool on Linux.
        let executable = try TestRedisServer.redisServerPath().path
        var arguments = [executable, "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no",
                         "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path]
        if let password { arguments += ["--requirepass", password] }
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        // The spawning thread may block signals (dispatch threads do) and a child
        // inherits that mask: reset it, or the server would ignore SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, nil, &attributes, &cArguments, environ)
        guard status == 0 else { throw TestServerError(message: "posix_spawn redis-server failed: \(status)") }
        self.pid = child
        // Wait until it accepts connections.
        for _ in 0..<200 {
            if TestRedisServer.canConnect(port: port) { return }
            usleep(20_000)
        }
        throw TestServerError(message: "redis-server on port \(port) did not start")
    }

    func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        self.pid = nil
    }

    static func redisServerPath() throws -> URL {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return URL(fileURLWithPath: candidate)
        }
        throw TestServerError(message: "redis-server not found: run deploy/local/install.sh")
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestServerError(message: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
