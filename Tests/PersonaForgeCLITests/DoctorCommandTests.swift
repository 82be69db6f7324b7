import Foundation
import PersonaForgeTestSupport
import Testing

/// `personaforge doctor`, `version` and `chat` as a user runs them, against the local stack.
@Suite struct DoctorCommandTests {
    @Test func doctorPassesAgainstTheLocalStack() async throws {
        let result = try await CLI.run(["doctor"])
        #expect(result.status == 0, "doctor failed:\n\(result.output)")
        #expect(result.standardOutput.contains("Redis"))
        #expect(result.standardOutput.contains("PostgreSQL"))
        #expect(result.standardOutput.contains("chat completion answered"))
        #expect(result.standardOutput.contains("All checks passed"))
    }

    @Test func doctorExplainsEachBrokenService() async throws {
        let redisPort = try Loopback.freePort()
        let result = try await CLI.run(["doctor", "--no-completion"], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://127.0.0.1:\(redisPort)/0",
            "PERSONAFORGE_DATABASE_URL": "postgresql://personaforge:not-the-password@127.0.0.1:\(postgresPort)/personaforge",
            "PERSONAFORGE_LLM_MODEL": "no-such-model",
        ])
        #expect(result.status == 1)
        let out = result.standardOutput
        #expect(out.contains("cannot connect to Redis at 127.0.0.1:\(redisPort)"))
        #expect(out.contains("deploy/local/stack.sh up redis"))
        #expect(out.contains("password authentication failed"))
        #expect(!out.contains("not-the-password"), "doctor printed a password")
        #expect(out.contains("model 'no-such-model' is not served here"))
        #expect(out.contains("3 checks failed"))
    }

    @Test func doctorNamesAMissingDatabaseAndAWrongRedisPassword() async throws {
        let result = try await CLI.run(["doctor", "--only", "redis,postgres"], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://:sekrit-pw@127.0.0.1:\(redisPort)/0",
            "PERSONAFORGE_DATABASE_URL": "postgresql://personaforge:personaforge@127.0.0.1:\(postgresPort)/no_such_db",
        ])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("does not exist"))
        #expect(result.standardOutput.contains("CREATE DATABASE"))
        #expect(result.standardOutput.contains("has none configured"))
        #expect(!result.standardOutput.contains("sekrit-pw"))
    }

    @Test func doctorRejectsUnknownServices() async throws {
        let result = try await CLI.run(["doctor", "--only", "kafka"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("unknown service 'kafka'"))
    }

    @Test func unreachableLLMIsExplained() async throws {
        let port = try Loopback.freePort()
        let result = try await CLI.run(["doctor", "--only", "llm"], environment: ["PERSONAFORGE_LLM_BASE_URL": "http://127.0.0.1:\(port)/v1"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("cannot connect"))
        #expect(result.standardOutput.contains("deploy/local/stack.sh up llm"))
    }

    @Test func versionNamesTheLinkedLibraries() async throws {
        let result = try await CLI.run(["version"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("personaforge "))
        #expect(result.standardOutput.contains("hiredis 0."))
        #expect(result.standardOutput.contains("libpq "))
        #expect(result.standardOutput.contains("libcurl/"))
    }

    @Test func chatPrintsARealCompletion() async throws {
        let result = try await CLI.run(["chat", "--max-tokens", "16", "--seed", "5", "--verbose", "Name a color."])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(result.standardError.contains("finish "))
    }

    @Test func chatReadsTheAPIKeyFileAndFailsClearlyWhenMissing() async throws {
        let result = try await CLI.run(["chat", "hi"], environment: ["PERSONAFORGE_LLM_API_KEY_FILE": "/nonexistent/key", "PERSONAFORGE_LLM_API_KEY": nil])
        #expect(result.status != 0)
        #expect(result.standardError.contains("cannot read the LLM API key file '/nonexistent/key'"))
    }

    var redisPort: Int { port(of: "PERSONAFORGE_REDIS_URL", default: 16379) }
    var postgresPort: Int { port(of: "PERSONAFORGE_DATABASE_URL", default: 15432) }

    /// The port of the local stack's service, from its URL in the environment.
    private func port(of variable: String, default fallback: Int) -> Int {
        guard let url = ProcessInfo.processInfo.environment[variable], let components = URLComponents(string: url) else { return fallback }
        return components.port ?? fallback
    }
}
