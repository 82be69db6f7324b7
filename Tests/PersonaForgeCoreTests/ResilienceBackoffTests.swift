import Testing
@testable import PersonaForgeCore

@Suite("Backoff policy")
struct ResilienceBackoffTests {
    /// A seeded, portable generator for tests: SplitMix64 over a counter.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 1
            return PortableHash.mix(state)
        }
    }

    let policy = BackoffPolicy()

    @Test func defaults() {
        #expect(policy.baseDelay == .milliseconds(500))
        #expect(policy.maxDelay == .seconds(30))
        #expect(policy.maxAttempts == 5)
        #expect(policy.maxRetryAfter == .seconds(120))
    }

    @Test(arguments: [
        (1, Duration.milliseconds(500)), (2, .seconds(1)), (3, .seconds(2)), (4, .seconds(4)),
        (5, .seconds(8)), (6, .seconds(16)), (7, .seconds(30)), (8, .seconds(30)),
        (0, .milliseconds(500)), (-3, .milliseconds(500)), (10_000, .seconds(30)), (Int.max, .seconds(30)),
    ])
    func exponentialWindowDoublesUpToTheCap(attempt: Int, window: Duration) {
        #expect(policy.exponentialWindow(attempt: attempt) == window)
        #expect(policy.delay(attempt: attempt, retryAfter: nil, jitter: 0.9999999) <= window)
    }

    @Test(arguments: [
        (1, 0.5, Duration.milliseconds(250)),
        (3, 0.5, .seconds(1)),
        (3, 0.75, .milliseconds(1500)),
        (4, 0.25, .seconds(1)),
        (10, 0.5, .seconds(15)),
        (2, 0.0, .zero),
    ])
    func fullJitterScalesTheWindow(attempt: Int, jitter: Double, delay: Duration) {
        #expect(policy.delay(attempt: attempt, retryAfter: nil, jitter: jitter) == delay)
    }

    @Test(arguments: [
        (1.5, Duration.seconds(2)),  // clamped to 1: the whole window
        (-1.0, .zero),
        (Double.nan, .zero),
        (Double.infinity, .zero),
    ])
    func jitterOutsideTheUnitIntervalIsClamped(jitter: Double, delay: Duration) {
        #expect(policy.delay(attempt: 3, retryAfter: nil, jitter: jitter) == delay)
    }

    @Test func retryAfterIsAFloor() {
        // Jittered 250 ms < 5 s: the server's wish wins.
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(5), jitter: 0.5) == .seconds(5))
        // Jittered 250 ms > 100 ms: the longer delay wins.
        #expect(policy.delay(attempt: 1, retryAfter: .milliseconds(100), jitter: 0.5) == .milliseconds(250))
        // Honoured beyond maxDelay.
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(60), jitter: 0.5) == .seconds(60))
        // A zero or negative Retry-After adds nothing.
        #expect(policy.delay(attempt: 1, retryAfter: .zero, jitter: 0.5) == .milliseconds(250))
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(-7), jitter: 0) == .zero)
    }

    @Test func retryAfterIsCapped() {
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(3600), jitter: 0.5) == .seconds(120))
        let strict = BackoffPolicy(maxRetryAfter: .seconds(10))
        #expect(strict.delay(attempt: 1, retryAfter: .seconds(11), jitter: 0) == .seconds(10))
        #expect(strict.delay(attempt: 1, retryAfter: .seconds(9), jitter: 0) == .seconds(9))
    }

    @Test func customPolicy() {
        let fast = BackoffPolicy(baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxAttempts: 3)
        #expect(fast.exponentialWindow(attempt: 1) == .milliseconds(10))
        #expect(fast.exponentialWindow(attempt: 3) == .milliseconds(40))
        #expect(fast.exponentialWindow(attempt: 4) == .milliseconds(50))
        #expect(fast.delay(attempt: 4, retryAfter: nil, jitter: 0.5) == .milliseconds(25))
    }

    @Test func attemptsAreCountedFromOneIncludingTheFirst() {
        #expect((1...4).allSatisfy { policy.allowsRetry(after: $0) })
        #expect(!policy.allowsRetry(after: 5))
        #expect(!policy.allowsRetry(after: 6))
        #expect(!BackoffPolicy(maxAttempts: 1).allowsRetry(after: 1))
    }

    @Test func seededJitterStaysInsideTheWindow() {
        var generator = SeededGenerator(seed: 42)
        var distinct = Set<Duration>()
        for attempt in 1...8 {
            let window = policy.exponentialWindow(attempt: attempt)
            for _ in 0..<200 {
                let delay = policy.delay(attempt: attempt, retryAfter: nil, jitter: Double.random(in: 0..<1, using: &generator))
                #expect(delay >= .zero && delay < window)
                distinct.insert(delay)
            }
        }
        // Full jitter actually spreads the delays.
        #expect(distinct.count > 1500)
    }
}
