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
        timeoutSeconds: Double = 120
    ) {
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
