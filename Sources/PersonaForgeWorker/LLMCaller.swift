import Logging
import PersonaForgeCore
import PersonaForgeLLM
import PersonaForgeSupport

/// One LLM call with retries: jittered exponential backoff that honours
/// `Retry-After`, the concurrency gate around every attempt, and a classified
/// failure when it gives up — a failing request fails its record, never the worker.
struct LLMCaller: Sendable {
    let pool: EndpointPool
    let gate: ConcurrencyGate
    let backoff: BackoffPolicy
    let logger: Logger
    let metrics: WorkerMetrics

    init(pool: EndpointPool, gate: ConcurrencyGate, backoff: BackoffPolicy, logger: Logger, metrics: WorkerMetrics) {
        self.pool = pool
        self.gate = gate
        self.backoff = backoff
        self.logger = logger
        self.metrics = metrics
    }

    /// One endpoint, no fleet limit.
    init(client: LLMClient, gate: ConcurrencyGate, backoff: BackoffPolicy, logger: Logger, metrics: WorkerMetrics) {
        let member = EndpointPool.Member(client: client, name: ModelSettings.Endpoint.defaultName(of: client.endpoint.baseURL), weight: 1, limiter: nil)
        self.init(pool: EndpointPool(members: [member], metrics: metrics), gate: gate, backoff: backoff, logger: logger, metrics: metrics)
    }

    struct Failure: Error {
        var failureClass: FailureClass
        var message: String
        var attempts: Int
    }

    struct Success {
        var completion: ChatCompletion
        var attempts: Int
        /// The model name of the endpoint that answered.
        var model: String
        /// What the call cost at that endpoint's prices (nil: it has none).
        var cost: Double?
    }

    /// `request` through the run's API: `/chat/completions`, or `/completions` with the
    /// messages laid out as one prompt (``ChatCompletionRequest/completionPrompt``).
    ///
    /// Each attempt goes to the endpoint the pool picks (with that endpoint's model
    /// name), after the endpoint's fleet-wide rate limit admits it. An attempt that
    /// fails at the endpoint is tried again at once on another endpoint while one is
    /// in; other failures back off as before.
    func generate(_ request: ChatCompletionRequest, api: ModelSettings.API) async -> Result<Success, Failure> {
        var attempt = 0
        var failedAt: Set<Int> = []
        let promptBytes = request.messages.reduce(0) { $0 + $1.content.utf8.count }
        let estimate = FleetRateLimiter.estimatedTokens(promptBytes: promptBytes, maxTokens: request.maxTokens ?? 256)
        while true {
            attempt += 1
            if Task.isCancelled { return .failure(Failure(failureClass: .cancelled, message: "cancelled", attempts: attempt)) }
            await gate.acquire()
            let lease = await pool.lease(excluding: failedAt)
            if let limiter = lease.limiter {
                metrics.rateLimitWait.recordNanoseconds(await limiter.acquire(estimatedTokens: estimate).wholeNanoseconds)
            }
            if attempt > 1 { metrics.retries.increment() }
            var sent = request
            sent.model = lease.client.endpoint.model
            let result: Result<ChatCompletion, LLMError>
            let started = ContinuousClock.now
            do {
                switch api {
                case .chat: result = .success(try await lease.client.chat(sent))
                case .completions: result = .success(try await lease.client.complete(sent))
                }
            } catch {
                result = .failure(error)
            }
            let elapsed = ContinuousClock.now - started
            metrics.requestDuration.recordNanoseconds(elapsed.wholeNanoseconds)
            switch result {
            case .success(let completion):
                await pool.finished(lease, .success(elapsed), result: "ok")
                metrics.requestFinished(result: "ok", status: nil)
                metrics.promptTokens.increment(by: completion.promptTokens ?? 0)
                metrics.completionTokens.increment(by: completion.completionTokens ?? 0)
                if let limiter = lease.limiter, let prompt = completion.promptTokens {
                    await limiter.settle(estimated: estimate, actual: prompt + (completion.completionTokens ?? 0))
                }
                await gate.release(.success)
                let cost = lease.pricing?.cost(promptTokens: completion.promptTokens ?? 0, completionTokens: completion.completionTokens ?? 0)
                return .success(Success(completion: completion, attempts: attempt, model: sent.model, cost: cost))
            case .failure(let error):
                let overloaded = error.code == .rateLimited || error.status == 503
                let endpointFailure = EndpointPool.isEndpointFailure(error)
                let failureClass = Self.classify(error)
                await pool.finished(lease, endpointFailure ? .endpointFailure : .other, result: failureClass.rawValue, error: error.message)
                metrics.requestFinished(result: failureClass.rawValue, status: error.status)
                if overloaded, let limiter = lease.limiter { await limiter.overloaded() }
                await gate.release(overloaded ? .overload : .other)
                if error.transport?.code == .cancelled || Task.isCancelled {
                    return .failure(Failure(failureClass: .cancelled, message: error.message, attempts: attempt))
                }
                if endpointFailure {
                    failedAt.insert(lease.index)
                    if backoff.allowsRetry(after: attempt), await pool.hasAlternative(excluding: failedAt) {
                        logger.debug("LLM endpoint failed; trying another", metadata: ["endpoint": "\(lease.name)", "error": "\(error.message)"])
                        continue
                    }
                }
                guard error.isRetryable, backoff.allowsRetry(after: attempt) else {
                    return .failure(Failure(failureClass: failureClass, message: error.message, attempts: attempt))
                }
                let delay = backoff.delay(attempt: attempt, retryAfter: error.retryAfter, jitter: Double.random(in: 0..<1))
                logger.debug("LLM call failed; retrying", metadata: ["attempt": "\(attempt)", "delay": "\(delay)", "endpoint": "\(lease.name)", "error": "\(error.message)"])
                failedAt = []
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
