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

    @Test func doctorChecksEveryEndpointOfARunConfig() async throws {
        let local = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1"
        let model = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_MODEL"] ?? "smollm2-135m-instruct"
        let dead = try Loopback.freePort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pf-doctor-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            name: pool
            axes:
              - name: persona
                source: {values: [a]}
            model:
              name: \(model)
              requests_per_minute: 600
              endpoints:
                - {base_url: "\(local)", name: local, weight: 2}
                - {base_url: "http://127.0.0.1:\(dead)/v1", name: gone, weight: 0, api_key_env: PF_DOCTOR_TEST_UNSET_KEY}
            steps:
              - name: s
                user: "{{persona}}"
            """.write(toFile: path, atomically: true, encoding: .utf8)
        // The flags' endpoint is not what is checked: the config's are.
        let result = try await CLI.run(["doctor", "--only", "llm", "--no-completion", "--config", path], environment: [
            "PERSONAFORGE_LLM_BASE_URL": "http://127.0.0.1:1/v1",
        ])
        #expect(result.status == 1, "\(result.output)")
        let out = result.standardOutput
        #expect(out.contains("local: \(local), model \(model), weight 2, 600 requests/min"), "\(out)")
        #expect(out.contains("reachable; serves"), "\(out)")
        #expect(out.contains("gone: http://127.0.0.1:\(dead)/v1, model \(model), fallback, 600 requests/min"), "\(out)")
        #expect(out.contains("no key: PF_DOCTOR_TEST_UNSET_KEY is not set here"), "\(out)")
        #expect(out.contains("cannot connect"), "\(out)")
        #expect(!out.contains("127.0.0.1:1/v1"), "\(out)")
        #expect(out.contains("1 check failed"), "\(out)")
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
