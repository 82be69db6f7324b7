import Foundation
import PersonaForgeCore

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

    /// The request as JSON bytes for `/chat/completions`, keys in sorted order.
    public func encoded() throws -> [UInt8] {
        try encode { json in
            json.key("messages")
            json.bytes.append(UInt8(ascii: "["))
            for (position, message) in messages.enumerated() {
                if position > 0 { json.bytes.append(UInt8(ascii: ",")) }
                json.bytes.append(UInt8(ascii: "{"))
                json.key("content", first: true)
                json.string(message.content)
                json.key("role")
                json.string(message.role)
                json.bytes.append(UInt8(ascii: "}"))
            }
            json.bytes.append(UInt8(ascii: "]"))
            json.key("model")
            json.string(model)
        }
    }

    /// The request as JSON bytes for `/completions`: ``completionPrompt`` as `prompt`.
    public func encodedAsCompletion() throws -> [UInt8] {
        try encode({ json in
            json.key("model")
            json.string(model)
        }, afterCount: { json in
            json.key("prompt")
            json.string(completionPrompt)
        })
    }

    /// Writes the object directly (JSONSerialization of a `[String: Any]` cost a
    /// worker about 15 % of its CPU per record), keys in sorted order: `body` writes
    /// the keys between `max_tokens` and `n` (`messages`, `model`), `afterCount` those
    /// between `n` and `response_format` (`prompt`), each key after a comma.
    private func encode(
        _ body: (inout JSONTextWriter) throws -> Void, afterCount: (inout JSONTextWriter) throws -> Void = { _ in }
    ) throws -> [UInt8] {
        var json = JSONTextWriter()
        json.bytes.reserveCapacity(256 + messages.reduce(0) { $0 + $1.content.utf8.count + 32 })
        json.bytes.append(UInt8(ascii: "{"))
        var first = true
        if let maxTokens {
            json.key("max_tokens", first: true)
            json.raw(String(maxTokens))
            first = false
        }
        if first {
            // The body's first key needs no comma: write into a scratch writer and drop it.
            var inner = JSONTextWriter()
            try body(&inner)
            json.bytes.append(contentsOf: inner.bytes.dropFirst())
        } else {
            try body(&json)
        }
        if let count {
            json.key("n")
            json.raw(String(count))
        }
        try afterCount(&json)
        switch responseFormat {
        case .jsonObject:
            json.key("response_format")
            json.raw(#"{"type":"json_object"}"#)
        case .jsonSchema(let name, let schema):
            let parsed = try JSONSerialization.jsonObject(with: Data(schema.utf8))
            let schemaJSON = try JSONSerialization.data(withJSONObject: parsed, options: [.sortedKeys, .withoutEscapingSlashes])
            json.key("response_format")
            json.raw(#"{"json_schema":{"name":"#)
            json.string(name)
            json.raw(#","schema":"#)
            json.bytes.append(contentsOf: schemaJSON)
            json.raw(#","strict":true},"type":"json_schema"}"#)
        case nil:
            break
        }
        if let seed {
            json.key("seed")
            json.raw(String(seed))
        }
        if let stop, !stop.isEmpty {
            json.key("stop")
            json.bytes.append(UInt8(ascii: "["))
            for (position, value) in stop.enumerated() {
                if position > 0 { json.bytes.append(UInt8(ascii: ",")) }
                json.string(value)
            }
            json.bytes.append(UInt8(ascii: "]"))
        }
        for (name, value) in [("temperature", temperature), ("top_p", topP)] {
            guard let value else { continue }
            guard value.isFinite else {
                throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(name) is not a finite number"))
            }
            json.key(name)
            json.number(value)
        }
        json.bytes.append(UInt8(ascii: "}"))
        return json.bytes
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
        let read: CompletionReader.Completion
        do {
            read = try CompletionReader.read(body)
        } catch {
            switch error {
            case .invalid: throw LLMError(.invalidResponse, "response is not JSON: \(LLMError.excerpt(body))")
            case .notAnObject: throw LLMError(.invalidResponse, "response is JSON but not an object: \(LLMError.excerpt(body))")
            case .noChoices: throw LLMError(.invalidResponse, "response has no 'choices' array: \(LLMError.excerpt(body))")
            case .noMessage(let position): throw LLMError(.invalidResponse, "choice \(position) has no message: \(LLMError.excerpt(body))")
            }
        }
        return ChatCompletion(
            id: read.id, model: read.model,
            choices: read.choices.enumerated().map { position, choice in
                Choice(index: choice.index ?? position, content: choice.content, finishReason: FinishReason(choice.finishReason))
            },
            promptTokens: read.promptTokens, completionTokens: read.completionTokens
        )
    }
}

extension JSONTextWriter {
    /// `,"name":` (or `"name":` for the first key of an object).
    mutating func key(_ name: String, first: Bool = false) {
        if !first { comma() }
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }
}
