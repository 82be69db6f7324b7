public import PersonaForgeHTTP

/// A failed LLM call, classified so the caller can retry, slow down or give up.
public struct LLMError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No HTTP response: see ``LLMError/transport``.
        case transport
        /// 429: too many requests; see ``LLMError/retryAfter``.
        case rateLimited
        /// 503/502/504 or another 5xx: the server is overloaded or failing.
        case serverError
        /// 401/403: the API key is missing or rejected.
        case unauthorized
        /// 404 on the model or the route, or 501 (the server does not implement the route).
        case notFound
        /// Another 4xx: the request itself is wrong and retrying will not help.
        case badRequest
        /// A 2xx whose body is not a usable completion.
        case invalidResponse
    }

    public let code: Code
    public let message: String
    public var status: Int?
    /// The server's `Retry-After`, when it sent one (seconds form).
    public var retryAfter: Duration?
    public var transport: HTTPError?

    public init(_ code: Code, _ message: String, status: Int? = nil, retryAfter: Duration? = nil, transport: HTTPError? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
        self.transport = transport
    }

    public var description: String { "llm: \(message)" }

    /// Whether the same request may succeed later.
    public var isRetryable: Bool {
        switch code {
        case .rateLimited, .serverError: true
        case .transport: transport?.isRetryable ?? false
        // Garbage from a 2xx is often a transient proxy or server fault.
        case .invalidResponse: true
        case .unauthorized, .notFound, .badRequest: false
        }
    }

    /// The first bytes of a body, printable, for error messages.
    static func excerpt(_ body: [UInt8], limit: Int = 200) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
            .map { $0.isNewline ? " " : String($0) }.joined()
        return body.count > limit ? "'\(text)…' (\(body.count) bytes)" : "'\(text)'"
    }
}
