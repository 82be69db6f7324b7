import Foundation
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeTestSupport
import Testing

/// Error classification against a misbehaving fixture endpoint.
@Suite struct LLMClientFaultTests {
    let server: HTTPFixtureServer
    let http = HTTPClient()

    init() throws {
        server = try HTTPFixtureServer()
    }

    func client(_ mode: String, key: String? = "sk-fixture-secret") -> LLMClient {
        LLMClient(endpoint: LLMEndpoint(baseURL: "\(server.baseURL)/fault/\(mode)/v1/", model: "fixture-model", apiKey: key.map(APIKey.init)), http: http)
    }

    let request = ChatCompletionRequest(model: "fixture-model", messages: [.user("hello")], maxTokens: 5, count: 2)

    @Test func parsesAValidCompletion() async throws {
        let completion = try await client("ok").chat(request)
        #expect(completion.choices.count == 2)
        #expect(completion.choices[0].content == "echo: hello")
        #expect(completion.choices[0].finishReason == .stop)
        #expect(completion.promptTokens == 7)
        #expect(completion.completionTokens == 3)
        #expect(try await client("ok").models() == ["fixture-model"])
    }

    @Test func textCompletionsGoToTheCompletionsRouteWithOnePrompt() async throws {
        let request = ChatCompletionRequest(model: "fixture-model", messages: [.system("Be brief."), .user("hello")], maxTokens: 5, seed: 9)
        #expect(request.completionPrompt == "Be brief.\n\nhello\n")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.encodedAsCompletion())) as? [String: Any])
        #expect(body["prompt"] as? String == "Be brief.\n\nhello\n")
        #expect(body["messages"] == nil)
        #expect(body["max_tokens"] as? Int == 5)
        #expect(body["seed"] as? Int == 9)
        // The fixture answers /completions with "completion: PROMPT" in choices[].text.
        let completion = try await client("ok").complete(request)
        #expect(completion.choices.first?.content == "completion: Be brief.\n\nhello\n")
        #expect(completion.completionTokens == 3)
    }

    @Test func lengthFinishReasonIsReported() async throws {
        let completion = try await client("length").chat(request)
        #expect(completion.choices[0].finishReason == .length)
    }

    @Test(arguments: [
        ("garbage", LLMError.Code.invalidResponse, true),
        ("noChoices", .invalidResponse, true),
        ("429", .rateLimited, true),
        ("500", .serverError, true),
        ("401", .unauthorized, false),
        ("404", .notFound, false),
    ])
    func faultsAreClassified(mode: String, code: LLMError.Code, retryable: Bool) async throws {
        await #expect {
            try await client(mode).chat(request)
        } throws: { error in
            guard let error = error as? LLMError else { return false }
            return error.code == code && error.isRetryable == retryable && !error.message.contains("sk-fixture-secret")
        }
    }

    @Test func retryAfterIsParsed() async throws {
        do {
            _ = try await client("429").chat(request)
            Issue.record("expected 429")
        } catch {
            #expect(error.retryAfter == .seconds(2))
            #expect(error.message.contains("slow down"))
        }
    }

    @Test func unreachableEndpointIsATransportError() async throws {
        let port = try Loopback.freePort()
        let client = LLMClient(endpoint: LLMEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", model: "m"), http: http)
        await #expect {
            try await client.chat(request)
        } throws: { error in
            (error as? LLMError)?.code == .transport && (error as? LLMError)?.transport?.code == .connectionFailed
        }
    }

    @Test func requestEncodingOmitsUnsetOptions() throws {
        let minimal = try ChatCompletionRequest(model: "m", messages: [.user("x")]).encoded()
        #expect(String(decoding: minimal, as: UTF8.self) == #"{"messages":[{"content":"x","role":"user"}],"model":"m"}"#)
        let full = try ChatCompletionRequest(
            model: "m", messages: [.system("s"), .user("u")], temperature: 0.5, maxTokens: 9, seed: 42, stop: ["\n\n"],
            responseFormat: .jsonObject
        ).encoded()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(full)) as? [String: Any])
        #expect(object["max_tokens"] as? Int == 9)
        #expect(object["seed"] as? Int == 42)
        #expect((object["response_format"] as? [String: String])?["type"] == "json_object")
    }

    @Test func requestJSONEscapesEveryStringAndKeepsNumbersExact() throws {
        let hostile = "quote \" backslash \\ newline \n tab \t cr \r bell \u{7} nul \u{0} slash / emoji 🧪 é \u{2028}"
        let request = ChatCompletionRequest(
            model: "m/\"x\"", messages: [.system(hostile), .user("")], temperature: 0.7, topP: 1, maxTokens: 256, count: 3,
            seed: UInt64.max, stop: ["\n\n", "\""],
            responseFormat: .jsonSchema(name: "q\"", schema: #"{"type":"object","required":["a/b"]}"#))
        for bytes in [try request.encoded(), try request.encodedAsCompletion()] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(object["model"] as? String == "m/\"x\"")
            #expect(object["temperature"] as? Double == 0.7)
            #expect(object["top_p"] as? Double == 1)
            #expect(object["max_tokens"] as? Int == 256)
            #expect(object["n"] as? Int == 3)
            #expect((object["seed"] as? NSNumber)?.uint64Value == UInt64.max)
            #expect(object["stop"] as? [String] == ["\n\n", "\""])
            let format = try #require(object["response_format"] as? [String: Any])
            let schema = try #require(format["json_schema"] as? [String: Any])
            #expect(schema["name"] as? String == "q\"")
            #expect((schema["schema"] as? [String: Any])?["required"] as? [String] == ["a/b"])
        }
        let chat = try #require(try JSONSerialization.jsonObject(with: Data(request.encoded())) as? [String: Any])
        let messages = try #require(chat["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": hostile], ["role": "user", "content": ""]])
        let completion = try #require(try JSONSerialization.jsonObject(with: Data(request.encodedAsCompletion())) as? [String: Any])
        #expect(completion["prompt"] as? String == hostile + "\n\n\n")
        #expect(throws: (any Error).self) {
            try ChatCompletionRequest(model: "m", messages: [.user("x")], temperature: .nan).encoded()
        }
        // Keys in sorted order, as JSONSerialization wrote them (stable bodies).
        let options = try ChatCompletionRequest(
            model: "m", messages: [.user("u")], temperature: 0.5, topP: 0.9, maxTokens: 9, count: 2, seed: 42, stop: ["."],
            responseFormat: .jsonObject).encodedAsCompletion()
        #expect(String(decoding: options, as: UTF8.self)
            == #"{"max_tokens":9,"model":"m","n":2,"prompt":"u\n","response_format":{"type":"json_object"},"seed":42,"stop":["."],"temperature":0.5,"top_p":0.9}"#)
    }

    @Test func apiKeyNeverPrints() {
        let endpoint = LLMEndpoint(baseURL: "http://x/v1", model: "m", apiKey: APIKey("sk-very-secret\n"))
        #expect(!"\(endpoint)".contains("sk-very-secret"))
        #expect(!String(reflecting: endpoint.apiKey!).contains("sk-very-secret"))
        #expect(endpoint.apiKey?.value == "sk-very-secret")
    }
}

/// Against the real local SmolLM2 server (deploy/local/stack.sh up llm).
@Suite struct LocalModelTests {
    static let baseURL = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1"
    static let model = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_MODEL"] ?? "smollm2-135m-instruct"
    let client = LLMClient(endpoint: LLMEndpoint(baseURL: baseURL, model: model), http: HTTPClient())

    @Test func servesTheModel() async throws {
        #expect(try await client.models().contains(Self.model))
    }

    @Test func realChatCompletion() async throws {
        let completion = try await client.chat(ChatCompletionRequest(
            model: Self.model,
            messages: [.system("You are a concise assistant."), .user("Name one planet of the solar system.")],
            temperature: 0, maxTokens: 24, seed: 7
        ))
        let choice = try #require(completion.choices.first)
        #expect(!choice.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(choice.finishReason == .stop || choice.finishReason == .length)
        #expect((completion.completionTokens ?? 0) > 0)
        #expect((completion.promptTokens ?? 0) > 0)
    }

    @Test func realTextCompletion() async throws {
        let request = ChatCompletionRequest(
            model: Self.model, messages: [.user("The three primary colors are")], temperature: 0, maxTokens: 16, seed: 7
        )
        let completion = try await client.complete(request)
        let choice = try #require(completion.choices.first)
        #expect(!choice.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(choice.finishReason == .stop || choice.finishReason == .length)
        #expect((completion.completionTokens ?? 0) > 0)
        // The prompt is sent as text, not through the chat template: far fewer prompt
        // tokens than the same message as a chat (whose template adds a system prompt).
        let chat = try await client.chat(request)
        #expect((completion.promptTokens ?? 0) > 0)
        #expect((completion.promptTokens ?? 0) < (chat.promptTokens ?? 0), "completion \(completion.promptTokens ?? -1) vs chat \(chat.promptTokens ?? -1)")
    }

    @Test func sameSeedSameText() async throws {
        let request = ChatCompletionRequest(
            model: Self.model, messages: [.user("Write a short sentence about the sea.")],
            temperature: 0.9, maxTokens: 20, seed: 1234
        )
        let first = try await client.chat(request)
        let second = try await client.chat(request)
        #expect(first.choices.first?.content == second.choices.first?.content)
    }

    @Test func jsonModeReturnsJSON() async throws {
        let completion = try await client.chat(ChatCompletionRequest(
            model: Self.model,
            messages: [.user("Give a JSON object with a field \"city\" naming a city.")],
            temperature: 0, maxTokens: 40, seed: 3, responseFormat: .jsonObject
        ))
        let text = try #require(completion.choices.first?.content)
        // Grammar-constrained output: valid JSON unless cut off by max_tokens.
        if completion.choices.first?.finishReason == .stop {
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "not a JSON object: \(text)")
        }
    }
}
