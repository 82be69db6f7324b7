import Logging
import PersonaForgeCore
import PersonaForgeLLM
import PersonaForgeSupport

/// One LLM call with retries: jittered exponential backoff that honours
/// `Retry-After`, the concurrency gate around every attempt, and a classified
/// failure when it gives up — a failing request fails its record, never the worker.
struct LLMCaller: Sendable {
    let client: LLMClient
    let gate: ConcurrencyGate
    let backoff: BackoffPolicy
    let logger: Logger
    let metrics: WorkerMetrics

    struct Failure: Error {
        var failureClass: FailureClass
        var message: String
        var attempts: Int
    }

    /// `request` through the run's API: `/chat/completions`, or `/completions` with the
    /// messages laid out as one prompt (``ChatCompletionRequest/completionPrompt``).
    func generate(_ request: ChatCompletionRequest, api: ModelSettings.API) async -> Result<(ChatCompletion, attempts: Int), Failure> {
        var attempt = 0
        while true {
            attempt += 1
            if Task.isCancelled { return .failure(Failure(failureClass: .cancelled, message: "cancelled", attempts: attempt)) }
            await gate.acquire()
            if attempt > 1 { metrics.retries.increment() }
            let result: Result<ChatCompletion, LLMError>
            let started = ContinuousClock.now
            do {
                switch api {
                case .chat: result = .success(try await client.chat(request))
                case .completions: result = .success(try await client.complete(request))
                }
            } catch {
                result = .failure(error)
            }
            metrics.requestDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
            switch result {
            case .success(let completion):
                metrics.requestFinished(result: "ok", status: nil)
                metrics.promptTokens.increment(by: completion.promptTokens ?? 0)
                metrics.completionTokens.increment(by: completion.completionTokens ?? 0)
                await gate.release(.success)
                return .success((completion, attempt))
            case .failure(let error):
                let overloaded = error.code == .rateLimited || error.status == 503
                metrics.requestFinished(result: Self.classify(error).rawValue, status: error.status)
                await gate.release(overloaded ? .overload : .other)
                if error.transport?.code == .cancelled || Task.isCancelled {
                    return .failure(Failure(failureClass: .cancelled, message: error.message, attempts: attempt))
                }
                let failureClass = Self.classify(error)
                guard error.isRetryable, backoff.allowsRetry(after: attempt) else {
                    return .failure(Failure(failureClass: failureClass, message: error.message, attempts: attempt))
                }
                let delay = backoff.delay(attempt: attempt, retryAfter: error.retryAfter, jitter: Double.random(in: 0..<1))
                logger.debug("LLM call failed; retrying", metadata: ["attempt": "\(attempt)", "delay": "\(delay)", "error": "\(error.message)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return .failure(Failure(failureClass: .cancelled, message: "cancelled while backing off", attempts: attempt))
                }
            }
        }
    }

    static func classify(_ error: LLMError) -> FailureClass {
        switch error.code {
        case .transport: error.transport?.code == .timeout ? .timeout : .llmTransport
        case .rateLimited: .llmRateLimited
        case .serverError: .llmServerError
        case .unauthorized: .llmUnauthorized
        case .notFound: .llmNotFound
        case .badRequest: .llmBadRequest
        case .invalidResponse: .llmInvalidResponse
        }
    }
}
