public import Logging
import PersonaForgeCore
public import PersonaForgeRedis
import PersonaForgeSupport

/// One endpoint's request and token limits, shared by every worker of every machine:
/// a token bucket in one Redis hash, changed only by one Lua script, so each request
/// costs one `EVAL` round trip and no two workers can both spend the last token.
///
/// - The clock is Redis `TIME`, never a worker's, so skewed machines agree.
/// - A bucket holds a quarter second of its rate: no second sees more than 1.25×
///   the limit, even when the whole fleet starts at once.
/// - Tokens are spent by estimate before a request (prompt bytes / 4 + `max_tokens`)
///   and trued up with the usage the server reports (``settle(estimated:actual:)``).
/// - AIMD across the fleet: a 429 or 503 seen by any worker halves the rate of
///   every worker (at most once a second, down to 5 %); it grows back by 5 % of the
///   limit per second without overload.
public struct FleetRateLimiter: Sendable {
    public let redis: RedisConnection
    /// The bucket's hash (`pf:{ns}:ratelimit:<endpoint hash>`).
    public let key: String
    /// 0: no request limit.
    public let requestsPerSecond: Double
    /// 0: no token limit.
    public let tokensPerSecond: Double
    let logger: Logger
    private let lastComplaint = LockedBox<ContinuousClock.Instant?>(nil)

    public init(redis: RedisConnection, key: String, requestsPerMinute: Double?, tokensPerMinute: Double?, logger: Logger) {
        self.redis = redis
        self.key = key
        requestsPerSecond = (requestsPerMinute ?? 0) / 60
        tokensPerSecond = (tokensPerMinute ?? 0) / 60
        self.logger = logger
    }

    /// The state one `EVAL` left behind: how long to wait before the request may go
    /// (zero: it was admitted and its tokens spent) and the fleet's rate multiplier.
    public struct Decision: Sendable, Equatable {
        public var wait: Duration
        public var multiplier: Double
    }

    /// Seconds of rate a bucket holds.
    static let burstSeconds = 0.25

    /// ARGV: operation (take, settle, overload), requests/s, tokens/s, amount (tokens to
    /// take, or to give back when settling; negative takes more), burst seconds.
    /// Returns {wait in microseconds, multiplier × 1e6}.
    static let script = """
        local now = redis.call('TIME')
        now = tonumber(now[1]) + tonumber(now[2]) / 1000000
        local op, rrate, trate, amount, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        local f = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'm', 'cut')
        local m = tonumber(f[4]) or 1
        local ts = tonumber(f[3]) or now
        local elapsed = math.max(0, now - ts)
        m = math.min(1, m + 0.05 * elapsed)
        local rcap = math.max(1, rrate * m * burst)
        local cost = 0
        if op == 'take' then cost = amount end
        local tcap = math.max(cost, trate * m * burst)
        local r = math.min(rcap, (tonumber(f[1]) or rcap) + rrate * m * elapsed)
        local t = math.min(tcap, (tonumber(f[2]) or tcap) + trate * m * elapsed)
        local cut = tonumber(f[5]) or 0
        local wait = 0
        if op == 'take' then
            if rrate > 0 and r < 1 then wait = math.max(wait, (1 - r) / (rrate * m)) end
            if trate > 0 and t < cost then wait = math.max(wait, (cost - t) / (trate * m)) end
            if wait == 0 then
                if rrate > 0 then r = r - 1 end
                if trate > 0 then t = t - cost end
            end
        elseif op == 'settle' then
            t = math.min(math.max(tcap, amount), t + amount)
        elseif op == 'overload' then
            if now - cut >= 1 then
                m = math.max(0.05, m * 0.5)
                cut = now
                r = math.min(r, math.max(1, rrate * m * burst))
                t = math.min(t, math.max(0, trate * m * burst))
            end
        end
        redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(t), 'ts', tostring(now), 'm', tostring(m), 'cut', tostring(cut))
        redis.call('PEXPIRE', KEYS[1], 600000)
        return {math.ceil(wait * 1000000), math.floor(m * 1000000)}
        """

    /// One `EVAL` of the bucket script.
    func evaluate(_ operation: String, amount: Double) async throws -> Decision {
        let reply = try await redis.send(
            "EVAL", Self.script, 1, key, operation, String(requestsPerSecond), String(tokensPerSecond), String(amount), String(Self.burstSeconds)
        )
        guard let values = reply.array, values.count == 2, let wait = values[0].integer, let multiplier = values[1].integer else {
            throw RedisError(.protocolError, "rate limit script answered \(reply)")
        }
        return Decision(wait: .microseconds(wait), multiplier: Double(multiplier) / 1_000_000)
    }

    /// Waits until the fleet's bucket admits one request of `estimatedTokens`; returns how long it waited.
    ///
    /// While Redis cannot be asked it waits too (and says so once every 30 s): a
    /// provider's limit is not ignored because Redis is away, and a worker without
    /// Redis could not hand in its records anyway. Returns early once the task is cancelled.
    public func acquire(estimatedTokens: Int) async -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        while !Task.isCancelled {
            do {
                let decision = try await evaluate("take", amount: Double(estimatedTokens))
                if decision.wait == .zero { break }
                // Up to 10 % jitter so a fleet that waited together does not retry together.
                let jitter = Double.random(in: 1...1.1)
                try? await Task.sleep(for: min(decision.wait, .seconds(2)) * jitter)
            } catch {
                complain("cannot reach the fleet rate limiter in Redis; waiting before the LLM request", error)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        return clock.now - started
    }

    /// Gives back (or takes) the difference between the tokens spent by estimate and those the server reported.
    public func settle(estimated: Int, actual: Int) async {
        guard tokensPerSecond > 0, estimated != actual else { return }
        do { _ = try await evaluate("settle", amount: Double(estimated - actual)) } catch {
            complain("cannot settle LLM tokens in the fleet rate limiter", error)
        }
    }

    /// A 429 or 503: halve the fleet's rate on this endpoint (at most once a second).
    @discardableResult
    public func overloaded() async -> Double? {
        do { return try await evaluate("overload", amount: 0).multiplier } catch {
            complain("cannot record an overload in the fleet rate limiter", error)
            return nil
        }
    }

    private func complain(_ message: String, _ error: any Error) {
        let now = ContinuousClock.now
        let due = lastComplaint.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(30) }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.warning("\(message)", metadata: ["key": "\(key)", "error": "\(error)"]) }
    }

    /// Tokens a request will spend at most, before it is sent: prompt bytes / 4 (about a
    /// token per 4 bytes of English) plus its completion cap.
    public static func estimatedTokens(promptBytes: Int, maxTokens: Int) -> Int {
        (promptBytes + 3) / 4 + maxTokens
    }
}
