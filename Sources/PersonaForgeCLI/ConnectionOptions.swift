import ArgumentParser
import Foundation
import PersonaForgeLLM
import PersonaForgeRedis

/// Where the services are. Every command that talks to a service takes these, and
/// each reads the same environment variable when its flag is absent:
///
/// | flag                  | environment                       | default (the local stack)       |
/// |-----------------------|-----------------------------------|---------------------------------|
/// | `--redis-url`         | `PERSONAFORGE_REDIS_URL`          | `redis://127.0.0.1:16379/0`     |
/// | `--database-url`      | `PERSONAFORGE_DATABASE_URL`       | `postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge` |
/// | `--llm-base-url`      | `PERSONAFORGE_LLM_BASE_URL`       | `http://127.0.0.1:8088/v1`      |
/// | `--llm-model`         | `PERSONAFORGE_LLM_MODEL`          | `smollm2-135m-instruct`         |
/// | `--llm-api-key-file`  | `PERSONAFORGE_LLM_API_KEY_FILE`   | none                            |
/// |                       | `PERSONAFORGE_LLM_API_KEY`        | none (never a flag: flags show in `ps`) |
struct ConnectionOptions: ParsableArguments {
    static let defaultRedisURL = "redis://127.0.0.1:16379/0"
    static let defaultDatabaseURL = "postgresql://personaforge:personaforge@127.0.0.1:15432/personaforge"
    static let defaultLLMBaseURL = "http://127.0.0.1:8088/v1"
    static let defaultLLMModel = "smollm2-135m-instruct"

    @Option(help: ArgumentHelp("Redis URL, redis://[[user]:password@]host:port[/db].", discussion: "Env: PERSONAFORGE_REDIS_URL."))
    var redisURL: String?

    @Option(help: ArgumentHelp("PostgreSQL URL or libpq connection string.", discussion: "Env: PERSONAFORGE_DATABASE_URL."))
    var databaseURL: String?

    @Option(help: ArgumentHelp("OpenAI-compatible base URL, ending in /v1.", discussion: "Env: PERSONAFORGE_LLM_BASE_URL."))
    var llmBaseURL: String?

    @Option(help: ArgumentHelp("Model name to request.", discussion: "Env: PERSONAFORGE_LLM_MODEL."))
    var llmModel: String?

    @Option(help: ArgumentHelp(
        "File holding the LLM API key (e.g. a mounted Secret).",
        discussion: "Env: PERSONAFORGE_LLM_API_KEY_FILE. The key itself may come from PERSONAFORGE_LLM_API_KEY."
    ))
    var llmAPIKeyFile: String?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    private func value(_ flag: String?, _ variable: String, default fallback: String) -> (value: String, source: String) {
        flagOrEnvironment(flag, variable).map { ($0.value, $0.isFlag ? "flag" : variable) } ?? (fallback, "default")
    }

    var redis: (value: String, source: String) { value(redisURL, "PERSONAFORGE_REDIS_URL", default: Self.defaultRedisURL) }
    var database: (value: String, source: String) { value(databaseURL, "PERSONAFORGE_DATABASE_URL", default: Self.defaultDatabaseURL) }
    var llmBase: (value: String, source: String) { value(llmBaseURL, "PERSONAFORGE_LLM_BASE_URL", default: Self.defaultLLMBaseURL) }
    var model: (value: String, source: String) { value(llmModel, "PERSONAFORGE_LLM_MODEL", default: Self.defaultLLMModel) }

    func redisConfiguration() throws -> RedisConfiguration {
        try RedisConfiguration(url: redis.value)
    }

    /// The API key from PERSONAFORGE_LLM_API_KEY, else from the key file; nil when neither is set.
    func apiKey() throws -> APIKey? {
        if let key = environment["PERSONAFORGE_LLM_API_KEY"], !key.isEmpty {
            return APIKey(key)
        }
        let file = llmAPIKeyFile ?? environment["PERSONAFORGE_LLM_API_KEY_FILE"]
        guard let file, !file.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read the LLM API key file '\(file)' (from \(llmAPIKeyFile == nil ? "PERSONAFORGE_LLM_API_KEY_FILE" : "--llm-api-key-file")): check that it exists and is readable")
        }
        let key = APIKey(String(decoding: data, as: UTF8.self))
        if key.value.isEmpty {
            throw ValidationError("the LLM API key file '\(file)' is empty")
        }
        return key
    }

    func llmEndpoint() throws -> LLMEndpoint {
        LLMEndpoint(baseURL: llmBase.value, model: model.value, apiKey: try apiKey())
    }
}
