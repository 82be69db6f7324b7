import PersonaForgeRedis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func parsesFullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:s%40cret@redis.example:6380/3")
        #expect(configuration.host == "redis.example")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == 3)
    }

    @Test func parsesPasswordOnlyAndDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://:pw@10.0.0.1")
        #expect(configuration.username == nil)
        #expect(configuration.password == "pw")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 7000)
    }

    @Test(arguments: [
        ("http://host:6379", "starts with redis://"),
        ("redis://host:notaport", "invalid port"),
        ("redis://host:6379/x", "database"),
        ("rediss://:pw@host:6379", "TLS"),
        ("redis://:pw@:6379", "no host"),
    ])
    func rejectsBadURLs(url: String, expected: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidURL && error.message.contains(expected) && !error.message.contains(":pw@")
        }
    }

    @Test func redactsPasswords() {
        #expect(RedisConfiguration.redact("redis://user:secret@h:1/0") == "redis://user:***@h:1/0")
        #expect(RedisConfiguration.redact("redis://secret@h:1/0") == "redis://***@h:1/0")
        #expect(RedisConfiguration.redact("redis://h:1/0") == "redis://h:1/0")
    }
}
