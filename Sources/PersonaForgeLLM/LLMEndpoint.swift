/// An OpenAI-compatible endpoint: base URL (ending in `/v1`, as OpenAI's, vLLM's,
/// SGLang's and llama.cpp's servers expect), model name and optional API key.
public struct LLMEndpoint: Sendable, CustomStringConvertible {
    public var baseURL: String
    public var model: String
    public var apiKey: APIKey?

    public init(baseURL: String, model: String, apiKey: APIKey? = nil) {
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.baseURL = trimmed
        self.model = model
        self.apiKey = apiKey
    }

    /// `baseURL` + `/` + `path`.
    public func url(_ path: String) -> String { "\(baseURL)/\(path)" }

    /// Never shows the key.
    public var description: String { "\(baseURL) (model \(model)\(apiKey == nil ? "" : ", API key set"))" }
}

/// An API key. Its description is redacted, so it cannot leak through logs or errors
/// by accident; only the HTTP layer reads ``value``.
public struct APIKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) {
        // Secret files often end with a newline.
        var trimmed = Substring(value)
        while let last = trimmed.last, last.isWhitespace { trimmed = trimmed.dropLast() }
        while let first = trimmed.first, first.isWhitespace { trimmed = trimmed.dropFirst() }
        self.value = String(trimmed)
    }

    public var description: String { "***" }
    public var debugDescription: String { "APIKey(***)" }
}
