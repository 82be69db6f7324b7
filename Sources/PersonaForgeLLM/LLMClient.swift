import Foundation
public import PersonaForgeHTTP

/// A client for one OpenAI-compatible endpoint over ``HTTPClient``.
///
/// It performs exactly one HTTP request per call and classifies the outcome; retries,
/// backoff and concurrency control belong to the caller (the worker), which knows
/// the run's budget.
public struct LLMClient: Sendable {
    public let endpoint: LLMEndpoint
    public let http: HTTPClient
    public var timeout: Duration

    public init(endpoint: LLMEndpoint, http: HTTPClient, timeout: Duration = .seconds(120)) {
        self.endpoint = endpoint
        self.http = http
        self.timeout = timeout
    }

    /// `POST /chat/completions`.
    public func chat(_ request: ChatCompletionRequest) async throws(LLMError) -> ChatCompletion {
        let body: [UInt8]
        do {
            body = try request.encoded()
        } catch {
            throw LLMError(.badRequest, "cannot encode the request: \(error)")
        }
        let response = try await send(HTTPRequest.postJSON(url: endpoint.url("chat/completions"), body: body, headers: authorization, timeout: timeout))
        return try ChatCompletion.decode(response.body)
    }

    /// `POST /completions` (the legacy text API, for base models and servers without a
    /// chat template): `request`'s messages become one prompt
    /// (``ChatCompletionRequest/completionPrompt``); sampling options, `n`, `seed`, `stop`
    /// and `response_format` are sent as for chat. The answer's `choices[].text` is
    /// returned as each choice's content.
    public func complete(_ request: ChatCompletionRequest) async throws(LLMError) -> ChatCompletion {
        let body: [UInt8]
        do {
            body = try request.encodedAsCompletion()
        } catch {
            throw LLMError(.badRequest, "cannot encode the request: \(error)")
        }
        let response = try await send(HTTPRequest.postJSON(url: endpoint.url("completions"), body: body, headers: authorization, timeout: timeout))
        return try ChatCompletion.decode(response.body)
    }

    /// `POST /embeddings`: one vector per input, in input order. An empty input list
    /// makes no request.
    public func embeddings(_ request: EmbeddingRequest) async throws(LLMError) -> EmbeddingResponse {
        if request.inputs.isEmpty { return EmbeddingResponse(model: request.model, vectors: [], promptTokens: 0) }
        let body: [UInt8]
        do {
            body = try request.encoded()
        } catch {
            throw LLMError(.badRequest, "cannot encode the embeddings request: \(error)")
        }
        let response = try await send(HTTPRequest.postJSON(url: endpoint.url("embeddings"), body: body, headers: authorization, timeout: timeout))
        return try EmbeddingResponse.decode(response.body, expectedCount: request.inputs.count)
    }

    /// `GET /models`: the model names the endpoint serves.
    public func models() async throws(LLMError) -> [String] {
        let response = try await send(HTTPRequest(url: endpoint.url("models"), headers: authorization, timeout: .seconds(10)))
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let data = object["data"] as? [[String: Any]] else {
            throw LLMError(.invalidResponse, "GET \(endpoint.url("models")) did not return a model list: \(LLMError.excerpt(response.body))")
        }
        return data.compactMap { $0["id"] as? String }
    }

    private var authorization: [(name: String, value: String)] {
        guard let key = endpoint.apiKey, !key.value.isEmpty else { return [] }
        return [("Authorization", "Bearer \(key.value)")]
    }

    /// Sends and turns every non-2xx into a classified error.
    private func send(_ request: HTTPRequest) async throws(LLMError) -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw LLMError(.transport, error.message, transport: error)
        }
        if response.isSuccess { return response }
        let target = "\(request.method) \(request.url)"
        let detail = LLMClient.serverMessage(response.body)
        switch response.status {
        case 429:
            let retryAfter = LLMClient.retryAfter(response.header("Retry-After"))
            throw LLMError(.rateLimited, "\(target): 429 rate limited\(retryAfter.map { ", retry after \($0)" } ?? ""): \(detail)",
                           status: 429, retryAfter: retryAfter)
        case 401, 403:
            throw LLMError(.unauthorized, "\(target): \(response.status): the endpoint rejected the API key (set PERSONAFORGE_LLM_API_KEY or PERSONAFORGE_LLM_API_KEY_FILE): \(detail)",
                           status: response.status)
        case 404:
            throw LLMError(.notFound, "\(target): 404 (does the base URL end in /v1? is the model name right?): \(detail)", status: 404)
        case 501:
            // Not implemented is permanent: e.g. llama.cpp serves /embeddings only when started with --embeddings.
            throw LLMError(.notFound, "\(target): 501 the server does not implement this route (for embeddings, use a server started in embedding mode): \(detail)", status: 501)
        case 500...:
            throw LLMError(.serverError, "\(target): server error \(response.status): \(detail)",
                           status: response.status, retryAfter: LLMClient.retryAfter(response.header("Retry-After")))
        default:
            throw LLMError(.badRequest, "\(target): \(response.status): \(detail)", status: response.status)
        }
    }

    /// The `error.message` of an OpenAI-style error body, else an excerpt.
    static func serverMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = object["error"] as? String { return message }
            if let message = object["message"] as? String { return message }
        }
        return LLMError.excerpt(body)
    }

    /// `Retry-After` in its seconds form (the HTTP-date form is ignored).
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value, let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return nil }
        return .milliseconds(Int64(seconds * 1000))
    }
}
