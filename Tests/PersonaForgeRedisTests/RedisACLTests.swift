import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// `redis://user:password@host` against a private redis-server whose default user is
/// off and whose `app` user may use only the keys `pf:{pf}:*` (Redis 6+ ACL).
@Suite struct RedisACLTests {
    static let password = "acl-pw-7f3e"

    static func server() throws -> RedisServerProcess {
        try RedisServerProcess(extraArguments: [
            "--user", "default", "off",
            "--user", "app", "on", ">\(password)", "resetkeys", "~pf:{pf}:*", "resetchannels", "-@all",
            "+ping", "+get", "+set", "+xadd", "+xlen", "+acl|whoami",
        ])
    }

    @Test func authenticatesAsTheUserOfTheURL() async throws {
        let server = try Self.server()
        let redis = RedisConnection(configuration: try RedisConfiguration(url: "redis://app:\(Self.password)@127.0.0.1:\(server.port)/0"))
        #expect(try await redis.send("ACL", "WHOAMI").string == "app")
        try await redis.send("SET", "pf:{pf}:probe", "1")
        #expect(try await redis.send("GET", "pf:{pf}:probe").string == "1")
        #expect(try await redis.send("XADD", "pf:{pf}:shards", "*", "f", "v").string != nil)
    }

    @Test(arguments: ["other:key", "pf:{other}:shards"])
    func aKeyOutsideTheNamespaceIsRefusedWithAClearError(key: String) async throws {
        let server = try Self.server()
        let redis = RedisConnection(configuration: try RedisConfiguration(url: "redis://app:\(Self.password)@127.0.0.1:\(server.port)/0"))
        await #expect {
            try await redis.send("GET", key)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .server && error.serverCode == "NOPERM"
                && error.message.contains("no permissions to access one of the keys")
                && error.message.contains("Redis ACL of user 'app'")
                && !error.message.contains(Self.password)
        }
        // A command outside the list: refused too, and the connection stays usable.
        await #expect {
            try await redis.send("DEL", "pf:{pf}:probe")
        } throws: { ($0 as? RedisError)?.serverCode == "NOPERM" }
        #expect(try await redis.send("PING") == .status("PONG"))
    }

    @Test(arguments: [
        "redis://app:wrong-pw@HOST/0",
        "redis://nobody:\(password)@HOST/0",
        "redis://:\(password)@HOST/0",
    ])
    func wrongCredentialsAreAnAuthenticationFailure(template: String) async throws {
        let server = try Self.server()
        let url = template.replacingOccurrences(of: "HOST", with: "127.0.0.1:\(server.port)")
        let redis = RedisConnection(configuration: try RedisConfiguration(url: url))
        await #expect {
            try await redis.connect()
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .authenticationFailed && !error.message.contains("wrong-pw") && !error.message.contains(Self.password)
        }
    }

    @Test func noCredentialsAtAllIsAnAuthenticationRequired() async throws {
        let server = try Self.server()
        let redis = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        await #expect {
            try await redis.send("PING")
        } throws: { ($0 as? RedisError)?.code == .authenticationRequired }
    }
}
