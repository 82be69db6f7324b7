import Foundation
import Logging
import PersonaForgeRedis
import PersonaForgeSupport
import PersonaForgeTestSupport
import Testing

@testable import PersonaForgeWorker

/// The fleet token bucket against a real redis-server of its own. Rates are chosen so
/// slow so that the assertions hold however loaded the machine is: a refill that
/// would change an answer takes seconds, the calls between take milliseconds.
@Suite(.serialized) struct FleetRateLimiterTests {
    let server: RedisServerProcess
    let redis: RedisConnection

    init() throws {
        server = try RedisServerProcess()
        redis = RedisConnection(configuration: try RedisConfiguration(url: server.url))
    }

    func limiter(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil) -> FleetRateLimiter {
        FleetRateLimiter(
            redis: redis, key: "pf:{t}:ratelimit:\(UUID().uuidString)", requestsPerMinute: requestsPerMinute,
            tokensPerMinute: tokensPerMinute, logger: Logger(label: "test")
        )
    }

    @Test func aRequestLimitAdmitsTheBurstThenSaysHowLongToWait() async throws {
        // 6 per minute: one every 10 s; the bucket holds max(1, 0.25 s of rate) = 1.
        let bucket = limiter(requestsPerMinute: 6)
        let clock = ContinuousClock()
        let taken = clock.now
        #expect(try await bucket.evaluate("take", amount: 0).wait == .zero)
        let second = try await bucket.evaluate("take", amount: 0)
        // 10 s less whatever refilled between the calls (however long a loaded machine took).
        let between = clock.now - taken
        #expect(second.wait >= .seconds(10) - between - .milliseconds(100) && second.wait <= .seconds(10), "\(second) after \(between)")
        // A refused request spends nothing: however often it asks, the wait never exceeds one interval.
        for _ in 0..<5 {
            let again = try await bucket.evaluate("take", amount: 0)
            #expect(again.wait <= .seconds(10), "\(again)")
        }
        // Another key is another endpoint: its bucket is full.
        #expect(try await limiter(requestsPerMinute: 6).evaluate("take", amount: 0).wait == .zero)
    }

    @Test func tokensAreSpentByEstimateAndTheDifferenceComesBack() async throws {
        // 60 tokens per minute: one a second.
        let refunded = limiter(tokensPerMinute: 60)
        let clock = ContinuousClock()
        var taken = clock.now
        #expect(try await refunded.evaluate("take", amount: 100).wait == .zero, "a full bucket admits a request larger than its burst")
        let waiting = try await refunded.evaluate("take", amount: 50)
        var between = clock.now - taken
        #expect(waiting.wait >= .seconds(50) - between - .milliseconds(100), "\(waiting) after \(between)")
        // The server said 40 tokens, not 100: 60 come back, and 50 fit now.
        await refunded.settle(estimated: 100, actual: 40)
        #expect(try await refunded.evaluate("take", amount: 50).wait == .zero)

        let indebted = limiter(tokensPerMinute: 60)
        taken = clock.now
        #expect(try await indebted.evaluate("take", amount: 10).wait == .zero)
        // The request used 70 tokens, not 10: the bucket owes 60, so even 1 token waits about a minute.
        await indebted.settle(estimated: 10, actual: 70)
        let debt = try await indebted.evaluate("take", amount: 1)
        between = clock.now - taken
        #expect(debt.wait >= .seconds(61) - between - .milliseconds(100), "\(debt) after \(between)")
    }

    @Test func overloadHalvesTheFleetRateOnceASecondDownToAFloor() async throws {
        let bucket = limiter(requestsPerMinute: 600)
        #expect(try await bucket.evaluate("take", amount: 0).multiplier == 1)
        let clock = ContinuousClock()
        let cut = clock.now
        #expect(await bucket.overloaded() == 0.5)
        // A second 429 in the same second (the same overload seen by another worker) does not cut again.
        let again = try #require(await bucket.overloaded())
        let sinceCut = clock.now - cut
        // Only the recovery since the cut (5 % per second) on top of 0.5.
        if sinceCut < .milliseconds(900) { #expect(again >= 0.5 && again <= 0.5 + 0.05 * Self.seconds(sinceCut) + 0.001, "\(again)") }
        try await Task.sleep(for: .milliseconds(1100))
        let third = try #require(await bucket.overloaded())
        let seconds = Self.seconds(clock.now - cut)
        // 0.5 grown back by 5 % per second for at most `seconds`, then halved.
        #expect(third >= 0.25 && third <= min(1, 0.5 + 0.05 * seconds) / 2 + 0.001, "\(third) after \(seconds) s")
        // The floor: 5 % of the limit (0.06 halved would be 0.03). Checked when the calls
        // took under half a second, so that the recovery in between (5 %/s) cannot matter.
        var started = clock.now
        try await redis.send("HSET", bucket.key, "m", "0.06", "cut", "0", "ts", String(try await redisNow()))
        let floor = try #require(await bucket.overloaded())
        if clock.now - started < .milliseconds(500) { #expect(floor == 0.05) }
        // The cut rate is the rate everyone waits by: at 5 % of 10/s, one request every 2 s.
        started = clock.now
        let now = try await redisNow()
        try await redis.send("HSET", bucket.key, "r", "0", "m", "0.05", "ts", String(now), "cut", String(now))
        let slowed = try await bucket.evaluate("take", amount: 0)
        #expect(slowed.wait <= .seconds(2), "\(slowed)")
        // Less what refilled (and recovered) in the e seconds between the stamp and the take.
        let e = Self.seconds(clock.now - started)
        let grown = 0.05 + 0.05 * e
        let lower = max(0, (1 - 10 * grown * e) / (10 * grown))
        #expect(Self.seconds(slowed.wait) >= lower - 0.01, "\(slowed) after \(e) s: at least \(lower) s")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func redisNow() async throws -> Double {
        let time = try await redis.send("TIME")
        let parts = try #require(time.array?.compactMap { $0.string.flatMap(Double.init) })
        return parts[0] + parts[1] / 1_000_000
    }

    @Test func aCutRateGrowsBackByFivePercentOfTheLimitPerSecond() async throws {
        let bucket = limiter(requestsPerMinute: 600)
        // Cut to half 4 s ago (by the Redis clock), nothing since.
        let clock = ContinuousClock()
        let started = clock.now
        let now = try await redisNow()
        try await redis.send("HSET", bucket.key, "r", "2.5", "t", "0", "m", "0.5", "ts", String(now - 4), "cut", String(now - 4))
        let multiplier = try await bucket.evaluate("take", amount: 0).multiplier
        let extra = Self.seconds(clock.now - started)
        #expect(multiplier >= 0.7 - 0.001 && multiplier <= 0.7 + 0.05 * extra + 0.001, "\(multiplier) after 4 + up to \(extra) s")
        // Never beyond the limit itself.
        try await redis.send("HSET", bucket.key, "ts", String(try await redisNow() - 60))
        #expect(try await bucket.evaluate("take", amount: 0).multiplier == 1)
    }

    @Test func theBucketLivesInOneExpiringHashWithTheRedisClock() async throws {
        let bucket = limiter(requestsPerMinute: 600, tokensPerMinute: 60_000)
        _ = try await bucket.evaluate("take", amount: 200)
        let fields = try await redis.send("HMGET", bucket.key, "r", "t", "ts", "m")
        let values = try #require(fields.array?.map { $0.string.flatMap(Double.init) })
        // 600/min → 10/s, burst 2.5, one taken; 60,000/min → 1,000/s, burst 250, 200 taken.
        #expect(abs((values[0] ?? -1) - 1.5) < 0.5, "\(values)")
        #expect(abs((values[1] ?? -1) - 50) < 20, "\(values)")
        let now = try await redisNow()
        #expect(abs((values[2] ?? 0) - now) < 5, "the stamp is Redis's clock: \(values) vs \(now)")
        #expect(values[3] == 1)
        let ttl = try await redis.send("PTTL", bucket.key).integer ?? -1
        #expect(ttl > 0 && ttl <= 600_000)
    }

    @Test func withoutRedisItWaitsAndReturnsOnceCancelled() async throws {
        let unreachable = FleetRateLimiter(
            redis: RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(try Loopback.freePort())/0")),
            key: "pf:{t}:ratelimit:x", requestsPerMinute: 60, tokensPerMinute: nil, logger: Logger(label: "test")
        )
        let returned = LockedBox(false)
        let task = Task {
            let waited = await unreachable.acquire(estimatedTokens: 1)
            returned.withLock { $0 = true }
            return waited
        }
        try await Task.sleep(for: .milliseconds(1200))
        #expect(returned.withLock { $0 } == false, "a limiter it cannot reach must not let the request through")
        task.cancel()
        _ = await task.value
        #expect(returned.withLock { $0 })
    }

    @Test func theTokenEstimateIsAQuarterOfThePromptBytesPlusTheCompletionCap() {
        #expect(FleetRateLimiter.estimatedTokens(promptBytes: 400, maxTokens: 256) == 356)
        #expect(FleetRateLimiter.estimatedTokens(promptBytes: 1, maxTokens: 16) == 17)
    }
}
