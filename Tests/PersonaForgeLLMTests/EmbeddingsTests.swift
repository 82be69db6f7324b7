import Foundation
import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeTestSupport
import Testing

/// `/v1/embeddings` against the misbehaving fixture endpoint.
@Suite struct EmbeddingsFaultTests {
    let server: HTTPFixtureServer
    let http = HTTPClient()

    init() throws {
        server = try HTTPFixtureServer()
    }

    func client(_ mode: String) -> LLMClient {
        LLMClient(endpoint: LLMEndpoint(baseURL: "\(server.baseURL)/fault/\(mode)/v1", model: "fixture-model", apiKey: APIKey("sk-fixture-secret")), http: http)
    }

    let request = EmbeddingRequest(model: "fixture-model", inputs: ["alpha", "beta gamma", "alpha"])

    @Test func vectorsComeBackInInputOrder() async throws {
        // The fixture lists the vectors in reverse order; their `index` fields say where they go.
        let response = try await client("ok").embeddings(request)
        #expect(response.vectors.count == 3)
        #expect(response.vectors.allSatisfy { $0.count == 8 })
        #expect(response.vectors[0] == response.vectors[2])
        #expect(response.vectors[0] != response.vectors[1])
        #expect(response.promptTokens == 3)
        #expect(try await client("ok").embeddings(EmbeddingRequest(model: "m", inputs: [])).vectors.isEmpty)
    }

    @Test(arguments: [
        ("garbage", LLMError.Code.invalidResponse, "not JSON"),
        ("noChoices", .invalidResponse, "no 'data' array"),
        ("short", .invalidResponse, "2 vectors for 3 inputs"),
        ("strings", .invalidResponse, "not a finite number"),
        ("429", .rateLimited, "slow down"),
        ("500", .serverError, "fixture 500"),
        ("401", .unauthorized, "API key"),
        ("404", .notFound, "404"),
        ("501", .notFound, "embedding mode"),
    ])
    func faultsAreClassified(mode: String, code: LLMError.Code, message: String) async throws {
        do {
            _ = try await client(mode).embeddings(request)
            Issue.record("expected an error for \(mode)")
        } catch {
            #expect(error.code == code)
            #expect(error.message.contains(message), "\(error.message)")
            #expect(!error.message.contains("sk-fixture-secret"))
        }
    }

    @Test func notImplementedIsNotRetried() async throws {
        await #expect {
            try await client("501").embeddings(request)
        } throws: { error in
            (error as? LLMError)?.isRetryable == false && (error as? LLMError)?.status == 501
        }
    }

    @Test func requestEncoding() throws {
        let body = String(decoding: try EmbeddingRequest(model: "m", inputs: ["a", "b"]).encoded(), as: UTF8.self)
        #expect(body == #"{"encoding_format":"float","input":["a","b"],"model":"m"}"#)
    }
}

/// Against real llama.cpp servers: a second SmolLM2 server in embedding mode started
/// by the test kit, and the stack's chat server (which does not serve embeddings).
@Suite(.serialized) struct RealEmbeddingServerTests {
    @Test func realServerEmbedsDeterministically() async throws {
        let server = try EmbeddingServer()
        defer { server.stop() }
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = LLMClient(endpoint: LLMEndpoint(baseURL: server.baseURL, model: server.model), http: http)
        let texts = ["The ship sailed north along the river.", "Fractions are parts of a whole.", "The ship sailed north along the river."]
        let response = try await client.embeddings(EmbeddingRequest(model: server.model, inputs: texts))
        #expect(response.vectors.count == 3)
        let dimension = response.vectors[0].count
        #expect(dimension == 576)  // SmolLM2-135M's hidden size
        #expect(response.vectors.allSatisfy { $0.count == dimension && $0.allSatisfy(\.isFinite) })
        func cosine(_ a: [Double], _ b: [Double]) -> Double {
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            return dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        #expect(cosine(response.vectors[0], response.vectors[2]) > 0.9999)
        #expect(cosine(response.vectors[0], response.vectors[1]) < 0.999)
        // The same text alone gives the same vector (no batch effects beyond float noise).
        let alone = try await client.embeddings(EmbeddingRequest(model: server.model, inputs: [texts[1]]))
        #expect(cosine(alone.vectors[0], response.vectors[1]) > 0.9999)
        // Chat still works on the embedding server.
        let chat = try await client.chat(ChatCompletionRequest(model: server.model, messages: [.user("Say hi.")], maxTokens: 4, seed: 1))
        let content = chat.choices.first?.content ?? ""
        #expect(content.isEmpty == false)
    }

    @Test func chatOnlyServerSaysItDoesNotServeEmbeddings() async throws {
        let baseURL = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_BASE_URL"] ?? "http://127.0.0.1:8088/v1"
        let model = ProcessInfo.processInfo.environment["PERSONAFORGE_LLM_MODEL"] ?? "smollm2-135m-instruct"
        let client = LLMClient(endpoint: LLMEndpoint(baseURL: baseURL, model: model), http: HTTPClient())
        do {
            _ = try await client.embeddings(EmbeddingRequest(model: model, inputs: ["hello"]))
            Issue.record("the stack's chat server unexpectedly served embeddings")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.status == 501)
            #expect(error.message.contains("--embeddings"), "\(error.message)")
        }
    }
}
