/// Why a record failed after its retries ran out (or could not be retried).
///
/// The raw values are snake_case and stable: they are stored in PostgreSQL
/// and shown by `personaforge status`. Never rename one; add new cases.
public enum FailureClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// The request did not complete: connection refused or reset, DNS, TLS.
    case llmTransport = "llm_transport"
    /// 429 Too Many Requests, still after every retry.
    case llmRateLimited = "llm_rate_limited"
    /// 5xx from the server, still after every retry.
    case llmServerError = "llm_server_error"
    /// 400 / 422: the request itself is wrong (e.g. the prompt is too long); not retried.
    case llmBadRequest = "llm_bad_request"
    /// 401 / 403: the API key is missing or wrong; not retried.
    case llmUnauthorized = "llm_unauthorized"
    /// 404: the model or endpoint does not exist; not retried.
    case llmNotFound = "llm_not_found"
    /// The server answered 200 with a body that is not a chat completion.
    case llmInvalidResponse = "llm_invalid_response"
    /// The request exceeded its timeout.
    case timeout
    /// The work was cancelled (shutdown); the record is requeued, not failed.
    case cancelled

    /// Whether a call failing this way is worth retrying with backoff.
    public var isRetryable: Bool {
        switch self {
        case .llmTransport, .llmRateLimited, .llmServerError, .llmInvalidResponse, .timeout: true
        case .llmBadRequest, .llmUnauthorized, .llmNotFound, .cancelled: false
        }
    }
}
