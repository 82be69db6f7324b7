import Foundation
import PersonaForgeQueue
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// PersonaForge against a private Redis whose default user is off and whose
/// `personaforge` user has exactly the ACL rules of docs/operations.md ("Redis
/// ACL", `QueueLayout.redisACLRules`): only the harness namespace's keys and the
/// commands PersonaForge sends. An `admin` user reads the server's ACL log.
@Suite(.serialized) struct RedisACLPipelineTests {
    static let password = "pf-acl-3c9d1e"
    static let adminPassword = "pf-admin-77a0"

    static func server(namespace: String) throws -> RedisServerProcess {
        try RedisServerProcess(extraArguments: [
            "--user", "default", "off",
            "--user", "admin", "on", ">\(adminPassword)", "~*", "&*", "+@all",
            "--user", "personaforge", "on", ">\(password)",
        ] + QueueLayout(namespace: namespace).redisACLRules)
    }

    @Test func aRunCompletesAsAnACLUserLimitedToItsNamespaceWithNoCommandDenied() async throws {
        let harness = try PipelineHarness(llm: "ok")
        let redis = try Self.server(namespace: harness.namespace)
        let through = ["PERSONAFORGE_REDIS_URL": "redis://personaforge:\(Self.password)@127.0.0.1:\(redis.port)/0"]
        let config = try harness.writeConfig(name: "acl", personas: 8, shardSize: 2)
        let result = try await harness.run(["run", config, "--workers", "2", "--progress-interval", "1"], timeout: .seconds(120), environment: through)
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        let runID = try #require(result.output.firstMatch(of: /submitted run ([0-9a-f-]{36})/).map { String($0.1) })
        let counts = try await harness.counts(runID)
        #expect(counts.state == "completed")
        #expect(counts.records == 8)
        #expect(counts.distinctKeys == 8)

        let status = try await harness.run(["status", runID], environment: through)
        #expect(status.status == 0, "\(status.output)")
        let doctor = try await harness.run(["doctor", "--only", "redis"], environment: through)
        #expect(doctor.status == 0, "\(doctor.output)")
        #expect(doctor.output.contains("reachable, authenticated as user personaforge"), "\(doctor.output)")
        #expect(doctor.output.contains("may use the keys of namespace '\(harness.namespace)' (pf:{\(harness.namespace)}:*)"), "\(doctor.output)")
        #expect(doctor.output.contains("CONFIG is not permitted for this user"), "\(doctor.output)")

        // Nothing PersonaForge sent was refused; doctor's CONFIG GET is the one denial.
        let admin = RedisConnection(configuration: try RedisConfiguration(url: "redis://admin:\(Self.adminPassword)@127.0.0.1:\(redis.port)/0"))
        let denials = try await Self.denials(admin)
        #expect(denials == ["config|get"], "\(denials)")
        // The run really wrote through the limited user, inside its namespace only.
        let keys = try await admin.send("KEYS", "*").array?.compactMap(\.string) ?? []
        #expect(!keys.isEmpty)
        #expect(keys.allSatisfy { $0.hasPrefix("pf:{\(harness.namespace)}:") }, "\(keys)")
    }

    @Test func doctorExplainsAWrongPasswordAndAnotherNamespace() async throws {
        let harness = try PipelineHarness(llm: nil)
        let redis = try Self.server(namespace: harness.namespace)
        let wrong = try await harness.run(["doctor", "--only", "redis"], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://personaforge:not-the-password@127.0.0.1:\(redis.port)/0",
        ])
        #expect(wrong.status == 1, "\(wrong.output)")
        #expect(wrong.output.contains("Redis rejected the username/password in the URL"), "\(wrong.output)")
        #expect(wrong.output.contains("check the username/password in PERSONAFORGE_REDIS_URL"), "\(wrong.output)")
        #expect(!wrong.output.contains("not-the-password"))

        let elsewhere = try await harness.run(["doctor", "--only", "redis"], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://personaforge:\(Self.password)@127.0.0.1:\(redis.port)/0",
            "PERSONAFORGE_NAMESPACE": "other",
        ])
        #expect(elsewhere.status == 1, "\(elsewhere.output)")
        #expect(elsewhere.output.contains("the Redis user may not use the keys of namespace 'other' (pf:{other}:*)"), "\(elsewhere.output)")
        #expect(elsewhere.output.contains("ACL SETUSER personaforge resetkeys ~pf:{other}:* resetchannels -@all +ping"), "\(elsewhere.output)")
        #expect(!elsewhere.output.contains(Self.password))
    }

    @Test func aSubmitToAnotherNamespaceFailsWithTheACLErrorAndStoresNothing() async throws {
        let harness = try PipelineHarness(llm: nil)
        let redis = try Self.server(namespace: harness.namespace)
        let other = "other\(UInt32.random(in: 0...UInt32.max))"
        let config = try harness.writeConfig(name: "acl-elsewhere", personas: 2, shardSize: 2)
        let result = try await harness.run(["submit", config], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://personaforge:\(Self.password)@127.0.0.1:\(redis.port)/0",
            "PERSONAFORGE_NAMESPACE": other,
        ])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("NOPERM this user has no permissions to access one of the keys"), "\(result.output)")
        #expect(result.output.contains("Redis ACL of user 'personaforge'"), "\(result.output)")
        let database = try await harness.database()
        let stored = try await database.query("SELECT count(*) AS n FROM runs WHERE namespace = $1", [other])[0]["n"].int
        await database.close()
        #expect(stored == 0)
    }

    /// The commands the server refused, from `ACL LOG`.
    static func denials(_ admin: RedisConnection) async throws -> [String] {
        let entries = try await admin.send("ACL", "LOG").array ?? []
        return entries.compactMap { entry -> String? in
            guard let fields = entry.array else { return nil }
            for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "object" {
                return fields[index + 1].string
            }
            return nil
        }
    }
}
