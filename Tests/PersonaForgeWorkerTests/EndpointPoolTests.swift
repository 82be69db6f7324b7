import PersonaForgeHTTP
import PersonaForgeLLM
import PersonaForgeSupport
import Testing

@testable import PersonaForgeWorker

/// The pool's choices and ejections as logic (no requests are sent); the same pool
/// against real HTTP endpoints is in EndpointPoolPipelineTests.
@Suite struct EndpointPoolTests {
    static let http = HTTPClient()

    /// A clock that moves only when the test says (ejections are timed; a loaded machine must not change the answers).
    final class ManualClock: Sendable {
        let instant = LockedBox(ContinuousClock.now)
        func now() -> ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    }

    static func pool(_ members: [(String, Double)], clock: ManualClock = ManualClock()) -> EndpointPool {
        EndpointPool(members: members.map { name, weight in
            EndpointPool.Member(
                client: LLMClient(endpoint: LLMEndpoint(baseURL: "http://\(name).invalid/v1", model: "m"), http: http),
                name: name, weight: weight, limiter: nil
            )
        }, clock: { clock.now() })
    }

    /// `count` requests one after another, each answered in `latency[name]` (default 10 ms); requests per endpoint.
    static func spread(_ pool: EndpointPool, _ count: Int, latency: [String: Duration] = [:]) async -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<count {
            let lease = await pool.lease()
            counts[lease.name, default: 0] += 1
            await pool.finished(lease, .success(latency[lease.name] ?? .milliseconds(10)), result: "ok")
        }
        return counts
    }

    @Test func requestsFollowTheWeights() async {
        let counts = await Self.spread(Self.pool([("a", 3), ("b", 1)]), 4000)
        let share = Double(counts["a"] ?? 0) / 4000
        // Nothing in flight, equal latency: the rotation follows the weights.
        #expect(share >= 0.74 && share <= 0.76, "\(counts)")
    }

    @Test func aSlowEndpointGetsLessThanItsWeight() async {
        let counts = await Self.spread(Self.pool([("fast", 1), ("slow", 1)]), 2000, latency: ["slow": .milliseconds(200)])
        // 20 times the latency: about a twentieth of the requests, still enough to measure it again.
        #expect((counts["slow"] ?? 0) < 200 && (counts["slow"] ?? 0) >= 20, "\(counts)")
    }

    @Test func requestsInFlightSettleInProportionToTheWeights() async {
        let pool = Self.pool([("a", 3), ("b", 1)])
        // 40 requests, none finished: the queues the choices build follow the weights.
        var leases: [EndpointPool.Lease] = []
        for _ in 0..<40 { leases.append(await pool.lease()) }
        let onA = leases.count { $0.name == "a" }
        #expect(onA >= 28 && onA <= 32, "\(onA) of 40 on a")
        // Equal weights: even queues.
        let even = Self.pool([("a", 1), ("b", 1)])
        var evenLeases: [EndpointPool.Lease] = []
        for _ in 0..<20 { evenLeases.append(await even.lease()) }
        let evenOnA = evenLeases.count { $0.name == "a" }
        #expect(evenOnA >= 9 && evenOnA <= 11, "\(evenOnA) of 20 on a")
    }

    @Test func threeFailuresEjectAnEndpointUntilAProbeSucceeds() async throws {
        let clock = ManualClock()
        let pool = Self.pool([("good", 1), ("bad", 1)], clock: clock)
        var failures = 0
        while failures < EndpointPool.failuresToEject {
            let lease = await pool.lease()
            if lease.name == "bad" {
                failures += 1
                await pool.finished(lease, .endpointFailure, result: "llm_server_error")
            } else {
                await pool.finished(lease, .success(.milliseconds(10)), result: "ok")
            }
        }
        // Out for a second: nothing goes there.
        #expect(await Self.spread(pool, 200)["bad"] == nil)
        #expect(await pool.hasAlternative(excluding: []))
        clock.advance(.milliseconds(999))
        #expect(await Self.spread(pool, 20)["bad"] == nil)
        clock.advance(.milliseconds(2))
        // Time is up: the next request probes it, and only one at a time.
        let probe = await pool.lease()
        #expect(probe.name == "bad" && probe.probe)
        let meanwhile = await pool.lease()
        #expect(meanwhile.name == "good")
        await pool.finished(meanwhile, .success(.milliseconds(10)), result: "ok")
        // The probe fails: out again, for twice as long.
        await pool.finished(probe, .endpointFailure, result: "llm_server_error")
        clock.advance(.milliseconds(1999))
        #expect(await Self.spread(pool, 50)["bad"] == nil, "the second time out is 2 s")
        clock.advance(.milliseconds(2))
        let second = await pool.lease()
        #expect(second.name == "bad" && second.probe)
        await pool.finished(second, .success(.milliseconds(10)), result: "ok")
        // Back in, taking its share again.
        #expect((await Self.spread(pool, 400)["bad"] ?? 0) > 100)
        // And the next ejection starts at 1 s again.
        for _ in 0..<EndpointPool.failuresToEject {
            var lease = await pool.lease()
            while lease.name != "bad" {
                await pool.finished(lease, .success(.milliseconds(10)), result: "ok")
                lease = await pool.lease()
            }
            await pool.finished(lease, .endpointFailure, result: "llm_server_error")
        }
        clock.advance(.milliseconds(1001))
        let third = await pool.lease()
        #expect(third.name == "bad" && third.probe)
    }

    @Test func theTimeOutDoublesUpToThirtySeconds() async {
        let clock = ManualClock()
        let pool = Self.pool([("bad", 1)], clock: clock)
        for _ in 0..<EndpointPool.failuresToEject { await pool.finished(await pool.lease(), .endpointFailure, result: "llm_server_error") }
        var timeOuts: [Int] = []
        for _ in 0..<7 {
            // Find when the probe comes, to the second.
            var waited = 0
            var lease = await pool.lease()
            while !lease.probe {
                await pool.finished(lease, .endpointFailure, result: "llm_server_error")
                clock.advance(.seconds(1))
                waited += 1
                lease = await pool.lease()
                if waited > 60 { break }
            }
            timeOuts.append(waited)
            await pool.finished(lease, .endpointFailure, result: "llm_server_error")
        }
        // The first probe comes after the 1 s time out, each failed one doubles it, up to 30 s.
        #expect(timeOuts == [1, 2, 4, 8, 16, 30, 30], "\(timeOuts)")
    }

    @Test func aFallbackTakesRequestsOnlyWhileNoWeightedEndpointIsIn() async {
        let pool = Self.pool([("primary", 1), ("fallback", 0)])
        #expect(await Self.spread(pool, 300)["fallback"] == nil)
        for _ in 0..<EndpointPool.failuresToEject {
            let lease = await pool.lease()
            #expect(lease.name == "primary")
            await pool.finished(lease, .endpointFailure, result: "llm_server_error")
        }
        #expect(await Self.spread(pool, 100) == ["fallback": 100])
    }

    @Test func whenEverythingIsOutTheEndpointDueBackFirstStillGetsTheRequest() async {
        let pool = Self.pool([("a", 1)])
        for _ in 0..<EndpointPool.failuresToEject {
            await pool.finished(await pool.lease(), .endpointFailure, result: "llm_server_error")
        }
        #expect(await pool.hasAlternative(excluding: []) == false)
        #expect(await pool.lease().name == "a")
    }

    @Test(arguments: [
        (LLMError(.transport, "connect", transport: HTTPError(.connectionFailed, "refused")), true),
        (LLMError(.transport, "timeout", transport: HTTPError(.timeout, "slow")), true),
        (LLMError(.serverError, "500", status: 500), true),
        (LLMError(.serverError, "503", status: 503), false),
        (LLMError(.rateLimited, "429", status: 429), false),
        (LLMError(.badRequest, "400", status: 400), false),
        (LLMError(.unauthorized, "401", status: 401), true),
        (LLMError(.invalidResponse, "not json", status: 200), true),
    ])
    func whatCountsAsAnEndpointFailure(error: LLMError, counts: Bool) {
        #expect(EndpointPool.isEndpointFailure(error) == counts, "\(error)")
    }
}
