import Foundation

/// One message of a chat.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// Structured output requested from the server.
public enum ResponseFormat: Sendable, Equatable {
    /// Any JSON object (`{"type": "json_object"}`).
    case jsonObject
    /// JSON matching a schema (`{"type": "json_schema", ...}`); `schema` is the schema's JSON text.
    case jsonSchema(name: String, schema: String)
}

/// The body of `POST /v1/chat/completions`. Unset options are omitted, so the
/// server's defaults apply.
public struct ChatCompletionRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    /// Completions per request (`n`); not every server supports n > 1.
    public var count: Int?
    public var seed: UInt64?
    public var stop: [String]?
    public var responseFormat: ResponseFormat?

    public init(
        model: String, messages: [ChatMessage], temperature: Double? = nil, topP: Double? = nil, maxTokens: Int? = nil,
        count: Int? = nil, seed: UInt64? = nil, stop: [String]? = nil, responseFormat: ResponseFormat? = nil
    ) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.count = count
        self.seed = seed
        self.stop = stop
        self.responseFormat = responseFormat
    }

    /// The messages as one text prompt for `/completions`: each message's content,
    /// separated by a blank line, in order (system, then demonstrations and user), and a
    /// final newline so the model starts its answer on a new line. Roles are not
    /// written: a base model continues text, and a template would be a guess about it.
    public var completionPrompt: String {
        messages.map(\.content).joined(separator: "\n\n") + "\n"
    }

    /// The request as JSON bytes for `/chat/completions`.
    public func encoded() throws -> [UInt8] {
        try encode(["model": model, "messages": messages.map { ["role": $0.role, "content": $0.content] }])
    }

    /// The request as JSON bytes for `/completions`: ``completionPrompt`` as `prompt`.
    public func encodedAsCompletion() throws -> [UInt8] {
        try encode(["model": model, "prompt": completionPrompt])
    }

    private func encode(_ base: [String: Any]) throws -> [UInt8] {
        var object = base
        if let temperature { object["temperature"] = temperature }
        if let topP { object["top_p"] = topP }
        if let maxTokens { object["max_tokens"] = maxTokens }
        if let count { object["n"] = count }
        if let seed { object["seed"] = seed }
        if let stop, !stop.isEmpty { object["stop"] = stop }
        switch responseFormat {
        case .jsonObject:
            object["response_format"] = ["type": "json_object"]
        case .jsonSchema(let name, let schema):
            let parsed = try JSONSerialization.jsonObject(with: Data(schema.utf8))
            object["response_format"] = ["type": "json_schema", "json_schema": ["name": name, "schema": parsed, "strict": true]]
        case nil:
            break
        }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

/// Why the model stopped, as OpenAI-compatible servers report it.
public enum FinishReason: Sendable, Equatable {
    case stop
    /// Cut off by `max_tokens` or the context size.
    case length
    case contentFilter
    case toolCalls
    case other(String)
    /// The server sent none.
    case missing

    init(_ raw: String?) {
        switch raw {
        case "stop", "eos", "stop_sequence": self = .stop
        case "length", "max_tokens": self = .length
        case "content_filter": self = .contentFilter
        case "tool_calls", "function_call": self = .toolCalls
        case nil: self = .missing
        case let value?: self = .other(value)
        }
    }

    public var name: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .contentFilter: "content_filter"
        case .toolCalls: "tool_calls"
        case .other(let value): value
        case .missing: "missing"
        }
    }
}

/// A parsed chat completion.
public struct ChatCompletion: Sendable, Equatable {
    public struct Choice: Sendable, Equatable {
        public var index: Int
        public var content: String
        public var finishReason: FinishReason
    }

    public var id: String?
    public var model: String?
    public var choices: [Choice]
    public var promptTokens: Int?
    public var completionTokens: Int?

    /// Parses a response body; anything that is not a chat completion throws
    /// ``LLMError`` with code ``LLMError/Code/invalidResponse`` and a short excerpt.
    public static func decode(_ body: [UInt8]) throws(LLMError) -> ChatCompletion {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw LLMError(.invalidResponse, "response is JSON but not an object: \(LLMError.excerpt(body))")
            }
            object = parsed
        } catch let error as LLMError {
            throw error
        } catch {
            throw LLMError(.invalidResponse, "response is not JSON: \(LLMError.excerpt(body))")
        }
        guard let rawChoices = object["choices"] as? [[String: Any]] else {
            throw LLMError(.invalidResponse, "response has no 'choices' array: \(LLMError.excerpt(body))")
        }
        var choices: [Choice] = []
        for (position, raw) in rawChoices.enumerated() {
            let message = raw["message"] as? [String: Any]
            // A null content (e.g. only tool calls) is an empty text, classified by the caller.
            let content = (message?["content"] as? String) ?? (raw["text"] as? String) ?? ""
            if message == nil && raw["text"] == nil {
                throw LLMError(.invalidResponse, "choice \(position) has no message: \(LLMError.excerpt(body))")
            }
            choices.append(Choice(
                index: (raw["index"] as? Int) ?? position,
                content: content,
                finishReason: FinishReason(raw["finish_reason"] as? String)
            ))
        }
        let usage = object["usage"] as? [String: Any]
        return ChatCompletion(
            id: object["id"] as? String,
            model: object["model"] as? String,
            choices: choices,
            promptTokens: usage?["prompt_tokens"] as? Int,
            completionTokens: usage?["completion_tokens"] as? Int
        )
    }
}
