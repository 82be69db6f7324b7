import Foundation
public import PersonaForgeCore
public import PersonaForgeLLM

/// What the worker's flags/environment say about the LLM endpoint: set parts override
/// the run config (the endpoint is a property of where the worker runs), unset parts
/// leave it alone.
public struct LLMEndpointOverride: Sendable {
    public var baseURL: String?
    public var model: String?
    public var apiKey: APIKey?

    public init(baseURL: String? = nil, model: String? = nil, apiKey: APIKey? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
    }

    /// The endpoint for a run config. Without an override key, the config's
    /// `api_key_env` / `api_key_file` are read here, on the worker.
    func endpoint(configBaseURL: String, configModel: String, keyVariable: String?, keyFile: String?) -> LLMEndpoint {
        var key = apiKey
        if key == nil, let keyVariable, let value = ProcessInfo.processInfo.environment[keyVariable], !value.isEmpty {
            key = APIKey(value)
        }
        if key == nil, let keyFile, let data = FileManager.default.contents(atPath: keyFile) {
            key = APIKey(String(decoding: data, as: UTF8.self))
        }
        return LLMEndpoint(baseURL: baseURL ?? configBaseURL, model: model ?? configModel, apiKey: key)
    }

    /// The servers of a run: its `model.endpoints` (or its one `base_url`), or, when
    /// this override names a base URL, that one server instead of them all (the
    /// worker's `--llm-base-url` points every run at a server of its own choosing).
    /// An override model or key applies to every endpoint.
    public func pool(for model: ModelSettings) -> [(endpoint: LLMEndpoint, settings: ModelSettings.Endpoint)] {
        var model = model
        if let baseURL {
            // The run as if it named this one server: the pool of one, with the model-wide limits and prices.
            model.baseURL = baseURL
            model.endpoints = []
        }
        return model.pool.map { member in
            let endpoint = endpoint(
                configBaseURL: member.baseURL, configModel: member.model ?? model.name,
                keyVariable: member.apiKeyEnvironmentVariable, keyFile: model.apiKeyFile
            )
            return (endpoint, member)
        }
    }
}
