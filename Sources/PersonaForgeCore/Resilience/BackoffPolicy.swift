/// How long to wait before retrying a failed LLM call: exponential backoff
/// with "full jitter", floored by the server's `Retry-After`.
///
/// For attempt a (the attempt that just failed, from 1) and a jitter j in [0, 1):
///
///     exponential = min(maxDelay, baseDelay · 2^(a − 1))
///     delay       = exponential · j
///     delay       = max(delay, min(retryAfter, maxRetryAfter))   if the server sent Retry-After
///
/// Full jitter spreads the retries of many workers that failed together over
/// the whole window, instead of having them return in lockstep. The jitter
/// is a parameter so this type stays pure: the caller draws it (from a
/// seeded generator in tests). A `Retry-After` is honoured even beyond
/// `maxDelay`, but never beyond `maxRetryAfter`, so a misbehaving server
/// cannot park a worker for an hour.
public struct BackoffPolicy: Sendable, Hashable {
    /// The exponential window for the first retry (default 0.5 s).
    public var baseDelay: Duration
    /// The largest exponential window (default 30 s).
    public var maxDelay: Duration
    /// The most attempts in total, the first one included (default 5).
    public var maxAttempts: Int
    /// The longest `Retry-After` honoured (default 120 s).
    public var maxRetryAfter: Duration

    /// Creates a policy.
    public init(
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        maxAttempts: Int = 5,
        maxRetryAfter: Duration = .seconds(120)
    ) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxRetryAfter = maxRetryAfter
    }

    /// The delay before the attempt after `attempt` (1 = the first call failed).
    /// - Parameters:
    ///   - attempt: the attempt that just failed, from 1 (smaller values count as 1).
    ///   - retryAfter: the server's `Retry-After`, if it sent one.
    ///   - jitter: a uniform draw from [0, 1) (clamped into that range).
    public func delay(attempt: Int, retryAfter: Duration?, jitter: Double) -> Duration {
        let jittered = exponentialWindow(attempt: attempt) * Self.clampJitter(jitter)
        guard let retryAfter else { return jittered }
        let floor = min(max(retryAfter, .zero), maxRetryAfter)
        return max(jittered, floor)
    }

    /// `min(maxDelay, baseDelay · 2^(attempt − 1))`: the window the jitter scales.
    public func exponentialWindow(attempt: Int) -> Duration {
        let doublings = max(0, attempt - 1)
        var window = max(baseDelay, .zero)
        for _ in 0..<min(doublings, 64) {
            if window >= maxDelay { break }
            window = window * 2
        }
        return min(window, maxDelay)
    }

    /// Whether another attempt may follow attempt number `attempt` (from 1).
    public func allowsRetry(after attempt: Int) -> Bool {
        attempt < maxAttempts
    }

    private static func clampJitter(_ jitter: Double) -> Double {
        guard jitter.isFinite, jitter > 0 else { return 0 }
        return min(jitter, 1)
    }
}
