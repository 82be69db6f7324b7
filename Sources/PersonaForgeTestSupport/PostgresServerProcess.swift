public import Foundation

/// A private PostgreSQL on a free loopback port that accepts only TLS connections,
/// with a throwaway CA and server certificate made by `openssl` at start, for tests
/// of `sslmode=verify-full` (the shared local one must not be reconfigured).
///
/// The server certificate names `localhost` only (not 127.0.0.1), so a client that
/// verifies the host name must say `host=localhost` (with `hostaddr=127.0.0.1`).
/// PostgreSQL refuses to run as root: when the tests run as root, `initdb` and
/// `postgres` run as the `postgres` user (through `setpriv`), in a directory it owns.
public final class PostgresServerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is set once in init and ended in deinit.
    public let port: Int
    /// The superuser's password (user `postgres`, database `postgres`).
    public let password = "pf-tls-\(UInt32.random(in: 0...UInt32.max))"
    /// The CA that signed the server certificate (PEM).
    public let certificateAuthority: String
    /// Another CA, which signed nothing this server has (PEM).
    public let otherCertificateAuthority: String
    private let directory: URL
    private var process: ChildProcess?

    public init() async throws {
        guard let binaries = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last.map({ "/usr/lib/postgresql/\($0)/bin" }),
              FileManager.default.isExecutableFile(atPath: "\(binaries)/postgres") else {
            throw TestSupportError("no PostgreSQL server under /usr/lib/postgresql: run deploy/local/install.sh")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw TestSupportError("openssl not found: apt-get install -y openssl")
        }
        port = try Loopback.freePort()
        directory = URL(fileURLWithPath: "/tmp/pf-pg-tls-\(port)-\(UUID().uuidString)")
        certificateAuthority = directory.appendingPathComponent("ca.crt").path
        otherCertificateAuthority = directory.appendingPathComponent("other-ca.crt").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        // A CA, a second unrelated CA, and a server key and certificate for `localhost`.
        let path = directory.path
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "other-ca"] {
            try await Self.run(["/usr/bin/openssl", "req", "-x509"] + ec + [
                "-keyout", "\(path)/\(name).key", "-out", "\(path)/\(name).crt", "-days", "2", "-subj", "/CN=PersonaForge test \(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: directory)
        }
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(path)/server.ext", atomically: true, encoding: .utf8)
        try await Self.run(["/usr/bin/openssl", "req"] + ec + ["-keyout", "\(path)/server.key", "-out", "\(path)/server.csr", "-subj", "/CN=localhost"], in: directory)
        try await Self.run([
            "/usr/bin/openssl", "x509", "-req", "-in", "\(path)/server.csr", "-CA", "\(path)/ca.crt", "-CAkey", "\(path)/ca.key",
            "-CAcreateserial", "-out", "\(path)/server.crt", "-days", "2", "-extfile", "\(path)/server.ext",
        ], in: directory)

        // PostgreSQL refuses a key file that others can read.
        guard chmod("\(path)/server.key", 0o600) == 0 else { throw TestSupportError("chmod server.key: \(String(cString: strerror(errno)))") }

        // The cluster: TLS only, password authentication.
        try "\(password)\n".write(toFile: "\(path)/pw", atomically: true, encoding: .utf8)
        let asPostgres = try Self.becomePostgres(owning: directory)
        try await Self.run(asPostgres + [
            "\(binaries)/initdb", "-D", "\(path)/data", "-U", "postgres", "--pwfile=\(path)/pw",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        ], in: directory)
        try """
            local all all trust
            hostssl all all 127.0.0.1/32 scram-sha-256
            hostnossl all all 127.0.0.1/32 reject

            """.write(toFile: "\(path)/data/pg_hba.conf", atomically: true, encoding: .utf8)
        if !asPostgres.isEmpty { try Self.chownToPostgres(directory) }
        process = try ChildProcess(asPostgres + [
            "\(binaries)/postgres", "-D", "\(path)/data", "-p", String(port), "-k", path,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "ssl=on",
            "-c", "ssl_cert_file=\(path)/server.crt", "-c", "ssl_key_file=\(path)/server.key",
        ], logPath: "\(path)/postgres.log")
        // It listens before it accepts connections ("the database system is starting up").
        // 90 s: with the whole suite running in parallel on 2 cores, a start once took
        // over 30 s (a test is not a benchmark; only a server that never comes up fails).
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            let probe = try ChildProcess(["\(binaries)/pg_isready", "-q", "-h", "127.0.0.1", "-p", String(port), "-t", "2"])
            if await probe.waitForExit(timeout: .seconds(5)) == 0 { break }
            guard ContinuousClock.now < deadline, process?.isRunning == true else {
                let log = (try? String(contentsOfFile: "\(path)/postgres.log", encoding: .utf8)) ?? ""
                throw TestSupportError("the TLS PostgreSQL did not start within 90 s; its log:\n\(log.isEmpty ? "(empty)" : String(log.suffix(2000)))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    deinit {
        // SIGINT: fast shutdown, so no backend or shared memory outlives the test.
        process?.terminate(signal: SIGINT)
        try? FileManager.default.removeItem(at: directory)
    }

    /// A libpq connection string (keywords) for the superuser on this server.
    public func connectionString(_ options: String) -> String {
        "user=postgres password=\(password) dbname=postgres port=\(port) connect_timeout=5 \(options)"
    }

    /// The server's log so far.
    public var log: String {
        (try? String(contentsOfFile: directory.appendingPathComponent("postgres.log").path, encoding: .utf8)) ?? ""
    }

    /// The prefix that runs a command as `postgres` when this process is root, else none.
    private static func becomePostgres(owning directory: URL) throws -> [String] {
        guard getuid() == 0 else { return [] }
        guard getpwnam("postgres") != nil else { throw TestSupportError("running as root and there is no postgres user to run PostgreSQL as") }
        try chownToPostgres(directory)
        return ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"]
    }

    private static func chownToPostgres(_ directory: URL) throws {
        guard let user = getpwnam("postgres") else { return }
        let (uid, gid) = (user.pointee.pw_uid, user.pointee.pw_gid)
        let files = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
        for path in [directory.path] + files.map({ directory.appendingPathComponent($0).path }) where chown(path, uid, gid) != 0 {
            throw TestSupportError("chown \(path) to postgres failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Runs a command to completion; throws with its output when it fails.
    private static func run(_ arguments: [String], in directory: URL) async throws {
        let log = directory.appendingPathComponent("setup-\(UUID().uuidString).log").path
        let process = try ChildProcess(arguments, logPath: log)
        let status = await process.waitForExit(timeout: .seconds(60))
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: log)
        guard status == 0 else {
            throw TestSupportError("\(arguments.joined(separator: " ")) failed (\(status.map(String.init) ?? "timeout")): \(output.suffix(2000))")
        }
    }
}
