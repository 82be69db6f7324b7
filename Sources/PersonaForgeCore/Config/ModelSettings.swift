import Foundation

/// The LLM endpoint and default sampling parameters (`model:` in the config).
///
/// Secrets never live here: only the *name* of an environment variable
/// (`api_key_env`) or the path of a mounted secret file (`api_key_file`).
/// At run time `PERSONAFORGE_LLM_BASE_URL` and `PERSONAFORGE_LLM_API_KEY`
/// (or `PERSONAFORGE_LLM_API_KEY_FILE`) override these; see ``overriding(with:)``.
public struct ModelSettings: Sendable, Hashable {
    /// Which OpenAI-compatible API to call.
    public enum API: String, Sendable, Hashable, CaseIterable {
        /// `POST /chat/completions` with system and user messages.
        case chat
        /// `POST /completions` with system and user text concatenated.
        case completions
    }

    /// Default base URL: a local llama.cpp/vLLM server.
    public static let defaultBaseURL = "http://127.0.0.1:8088/v1"
    /// Default model name.
    public static let defaultName = "smollm2-135m-instruct"

    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:8088/v1`.
    public var baseURL: String
    /// Model name sent in requests.
    public var name: String
    /// Chat or plain completions.
    public var api: API
    /// Name of the environment variable that holds the API key.
    public var apiKeyEnvironmentVariable: String?
    /// Path of a file that holds the API key (relative to the config file).
    public var apiKeyFile: String?
    /// Sampling temperature (default 0.8).
    public var temperature: Double
    /// Nucleus sampling (default 1.0).
    public var topP: Double
    /// Completion token cap per step (default 256).
    public var maxTokens: Int
    /// Per-request timeout in seconds (default 120).
    public var timeoutSeconds: Double
    /// Fleet-wide request limit per endpoint, across every worker of every machine
    /// (`requests_per_minute`); nil: no limit. An endpoint's own value wins.
    public var requestsPerMinute: Double?
    /// Fleet-wide token limit (prompt + completion) per endpoint (`tokens_per_minute`); nil: no limit.
    public var tokensPerMinute: Double?
    /// Several servers for this run (`endpoints:`); empty: the one ``baseURL``.
    public var endpoints: [Endpoint]
    /// Samples asked for in one request (`n`, OpenAI's `n`): samples of one condition
    /// with the same first-step prompt share a request; default 1.
    public var samplesPerRequest: Int = 1
    /// Price per million prompt / completion tokens (`price_per_million_prompt_tokens`,
    /// `price_per_million_completion_tokens`), in any currency; an endpoint's own wins.
    public var promptPrice: Double?
    public var completionPrice: Double?

    /// One server of a pool (`model.endpoints[]`).
    public struct Endpoint: Sendable, Hashable {
        /// OpenAI-compatible base URL.
        public var baseURL: String
        /// Share of the requests relative to the others (default 1); 0 makes it a
        /// fallback, used only while no endpoint with a weight is healthy.
        public var weight: Double
        /// The name in logs, metrics and `status` (default: host:port).
        public var name: String
        /// The model name on this server (default: `model.name`).
        public var model: String?
        /// The environment variable with this server's API key (default: the model's key).
        public var apiKeyEnvironmentVariable: String?
        public var requestsPerMinute: Double?
        public var tokensPerMinute: Double?
        /// Price per million prompt / completion tokens on this server.
        public var promptPrice: Double?
        public var completionPrice: Double?

        public init(
            baseURL: String, weight: Double = 1, name: String? = nil, model: String? = nil,
            apiKeyEnvironmentVariable: String? = nil, requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil,
            promptPrice: Double? = nil, completionPrice: Double? = nil
        ) {
            self.promptPrice = promptPrice
            self.completionPrice = completionPrice
            self.baseURL = baseURL
            self.weight = weight
            self.name = name ?? Self.defaultName(of: baseURL)
            self.model = model
            self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
        }

        /// What a call cost at this endpoint's prices; nil when it has none.
        public func cost(promptTokens: Int, completionTokens: Int) -> Double? {
            guard promptPrice != nil || completionPrice != nil else { return nil }
            return (Double(promptTokens) * (promptPrice ?? 0) + Double(completionTokens) * (completionPrice ?? 0)) / 1_000_000
        }

        /// `host:port` of a base URL (the URL itself if it has no host).
        public static func defaultName(of baseURL: String) -> String {
            guard let components = URLComponents(string: baseURL), let host = components.host else { return baseURL }
            return components.port.map { "\(host):\($0)" } ?? host
        }
    }

    /// The servers requests go to: ``endpoints``, or one built from ``baseURL`` and the
    /// model-wide limits when none are listed. Each endpoint's unset limits and key
    /// are the model-wide ones.
    public var pool: [Endpoint] {
        guard !endpoints.isEmpty else {
            return [Endpoint(baseURL: baseURL, apiKeyEnvironmentVariable: apiKeyEnvironmentVariable,
                             requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute,
                             promptPrice: promptPrice, completionPrice: completionPrice)]
        }
        return endpoints.map { endpoint in
            var endpoint = endpoint
            endpoint.requestsPerMinute = endpoint.requestsPerMinute ?? requestsPerMinute
            endpoint.tokensPerMinute = endpoint.tokensPerMinute ?? tokensPerMinute
            endpoint.apiKeyEnvironmentVariable = endpoint.apiKeyEnvironmentVariable ?? apiKeyEnvironmentVariable
            if endpoint.promptPrice == nil, endpoint.completionPrice == nil {
                endpoint.promptPrice = promptPrice
                endpoint.completionPrice = completionPrice
            }
            return endpoint
        }
    }

    /// Creates settings with the documented defaults.
    public init(
        baseURL: String = ModelSettings.defaultBaseURL,
        name: String = ModelSettings.defaultName,
        api: API = .chat,
        apiKeyEnvironmentVariable: String? = nil,
        apiKeyFile: String? = nil,
        temperature: Double = 0.8,
        topP: Double = 1.0,
        maxTokens: Int = 256,
        timeoutSeconds: Double = 120,
        requestsPerMinute: Double? = nil,
        tokensPerMinute: Double? = nil,
        endpoints: [Endpoint] = []
    ) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.endpoints = endpoints
        self.baseURL = baseURL
        self.name = name
        self.api = api
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.apiKeyFile = apiKeyFile
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.timeoutSeconds = timeoutSeconds
    }

    /// Where the API key comes from once the environment is applied.
    public enum APIKeySource: Sendable, Hashable {
        /// No key (local servers).
        case none
        /// Read the named environment variable.
        case environment(String)
        /// Read the file at this path.
        case file(String)
    }

    /// These settings with the run-time environment applied: a non-empty
    /// `PERSONAFORGE_LLM_BASE_URL` replaces ``baseURL``; `PERSONAFORGE_LLM_API_KEY`
    /// or `PERSONAFORGE_LLM_API_KEY_FILE`, when set, replace the configured key source.
    /// Pure: the caller passes the environment in.
    public func overriding(with environment: [String: String]) -> (settings: ModelSettings, apiKey: APIKeySource) {
        var settings = self
        if let url = environment["PERSONAFORGE_LLM_BASE_URL"], !url.isEmpty {
            settings.baseURL = url
        }
        let apiKey: APIKeySource
        if let key = environment["PERSONAFORGE_LLM_API_KEY"], !key.isEmpty {
            apiKey = .environment("PERSONAFORGE_LLM_API_KEY")
        } else if let file = environment["PERSONAFORGE_LLM_API_KEY_FILE"], !file.isEmpty {
            apiKey = .file(file)
        } else if let variable = apiKeyEnvironmentVariable {
            apiKey = .environment(variable)
        } else if let file = apiKeyFile {
            apiKey = .file(file)
        } else {
            apiKey = .none
        }
        return (settings, apiKey)
    }
}
