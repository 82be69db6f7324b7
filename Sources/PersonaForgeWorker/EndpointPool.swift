import Foundation
import PersonaForgeCore
import PersonaForgeLLM
import PersonaForgeQueue
import PersonaForgeSupport

/// The servers of one run (`model.endpoints`), as one worker sees them: which to send
/// the next request to, and which are out.
///
/// - **Choice**: smooth weighted round robin over effective weights: the weight,
///   lowered for a server slower than the pool's mean or holding more of the
///   requests in flight than its weight's share (``roundRobin(_:)``). Sequential
///   requests to equal servers follow the weights exactly and interleave (a a b a …);
///   under load, requests in flight settle in proportion to the weights; a slow or
///   queued server gets less than its weight. Each worker starts the rotation at a
///   random point, so a fleet does not move in step.
/// - **Ejection**: an endpoint whose requests fail 3 times in a row at the endpoint
///   (no connection, timeout, 5xx other than 503, 401/403/404, garbage) is taken out
///   for 1 s, doubling on each failed probe up to 30 s. When its time is up, one
///   request probes it; a success puts it back.
/// - **Fallback**: weight-0 endpoints get requests only while no weighted endpoint is in.
///   When every endpoint is out, the one due back first is probed, so records still
///   fail with the servers' own errors rather than waiting forever.
actor EndpointPool {
    struct Member {
        let client: LLMClient
        let name: String
        let weight: Double
        let limiter: FleetRateLimiter?
        /// The endpoint's prices (only `promptPrice` and `completionPrice` are read), for a request's cost.
        var pricing: ModelSettings.Endpoint?
        var inFlight = 0
        /// Exponentially weighted mean of successful requests' latency, in seconds.
        var latency: Double?
        var consecutiveFailures = 0
        var ejectedUntil: ContinuousClock.Instant?
        var ejection: Duration = EndpointPool.firstEjection
        var probing = false
        /// The round robin's running credit.
        var credit = 0.0
        /// What happened since the last ``EndpointPool/drainHealth()``.
        var health: EndpointHealth.Delta?
        var isFallback: Bool { weight == 0 }
        /// Taking requests (not ejected).
        var isIn: Bool { ejectedUntil == nil }

        /// Takes the endpoint out for `ejection` from `now`, and counts it.
        mutating func eject(for ejection: Duration, now: ContinuousClock.Instant, metrics: WorkerMetrics?) {
            self.ejection = ejection
            ejectedUntil = now + ejection
            metrics?.endpointEjected(name)
            metrics?.endpointUp(name, false)
            health = health ?? EndpointHealth.Delta(endpoint: name)
            health?.ejections += 1
        }
    }

    /// What a request holds while it runs: which endpoint, and whether it is a probe.
    struct Lease: Sendable {
        let index: Int
        let client: LLMClient
        let name: String
        let limiter: FleetRateLimiter?
        let pricing: ModelSettings.Endpoint?
        let probe: Bool
    }

    enum Outcome {
        case success(Duration)
        /// The endpoint itself failed (see ``EndpointPool/isEndpointFailure(_:)``).
        case endpointFailure
        /// The request failed for a reason that says nothing about the endpoint (429, 503, 400).
        case other
    }

    static let failuresToEject = 3
    static let firstEjection: Duration = .seconds(1)
    static let longestEjection: Duration = .seconds(30)

    private var members: [Member]
    private let metrics: WorkerMetrics?
    /// The time (a test passes a clock it moves by hand).
    private let clock: @Sendable () -> ContinuousClock.Instant

    init(members: [Member], metrics: WorkerMetrics? = nil, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        precondition(!members.isEmpty, "an endpoint pool needs an endpoint")
        self.members = members
        self.metrics = metrics
        self.clock = clock
        for index in self.members.indices { self.members[index].credit = Double.random(in: 0..<max(1, self.members[index].weight)) }
        for member in members { metrics?.endpointUp(member.name, true) }
    }

    /// Whether an endpoint other than those in `excluded` could take a request now.
    func hasAlternative(excluding excluded: Set<Int>) -> Bool {
        members.indices.contains { !excluded.contains($0) && members[$0].isIn }
    }

    /// The endpoint for the next request, never one in `excluded` while another exists.
    func lease(excluding excluded: Set<Int> = []) -> Lease {
        let now = clock()
        var candidates = members.indices.filter { !excluded.contains($0) }
        if candidates.isEmpty { candidates = Array(members.indices) }
        // A probe first: one request to an endpoint whose time out is over.
        if let due = candidates.first(where: { index in
            let member = members[index]
            return !member.probing && member.ejectedUntil.map { $0 <= now } == true && (!member.isFallback || !hasWeightedIn(candidates))
        }) {
            members[due].probing = true
            return take(due, probe: true)
        }
        let weighted = candidates.filter { !members[$0].isFallback && members[$0].isIn }
        let fallbacks = candidates.filter { members[$0].isFallback && members[$0].isIn }
        let pool = weighted.isEmpty ? fallbacks : weighted
        guard !pool.isEmpty else {
            // Everything is out: the one due back soonest (without waiting for its time).
            let soonest = candidates.min { (members[$0].ejectedUntil ?? now) < (members[$1].ejectedUntil ?? now) }!
            return take(soonest, probe: false)
        }
        return take(roundRobin(pool), probe: false)
    }

    /// Records how the request on `lease` ended: `result` is `ok` or the failure class
    /// (for `status` and the per-endpoint metric), `error` the failure's message.
    func finished(_ lease: Lease, _ outcome: Outcome, result: String, error: String? = nil) {
        var member = members[lease.index]
        metrics?.endpointRequest(member.name, result: result)
        var delta = member.health ?? EndpointHealth.Delta(endpoint: member.name)
        switch result {
        case "ok": delta.ok += 1
        case FailureClass.llmRateLimited.rawValue: delta.rateLimited += 1
        default:
            delta.errors += 1
            delta.lastError = error.map { "\(result): \($0)" } ?? result
        }
        member.health = delta
        member.inFlight -= 1
        if lease.probe { member.probing = false }
        switch outcome {
        case .success(let elapsed):
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            member.latency = member.latency.map { 0.7 * $0 + 0.3 * seconds } ?? seconds
            if member.ejectedUntil != nil { metrics?.endpointUp(member.name, true) }
            member.consecutiveFailures = 0
            member.ejectedUntil = nil
            member.ejection = Self.firstEjection
        case .endpointFailure:
            member.consecutiveFailures += 1
            if lease.probe {
                // A failed probe doubles the time out.
                member.eject(for: min(member.ejection * 2, Self.longestEjection), now: clock(), metrics: metrics)
            } else if member.isIn, member.consecutiveFailures >= Self.failuresToEject {
                member.eject(for: Self.firstEjection, now: clock(), metrics: metrics)
            }
            // (A request sent to an endpoint already out, because every endpoint was, changes nothing.)
        case .other:
            if lease.probe {
                // Neither proof of health nor of failure: let the next request probe again.
                let now = clock()
                member.ejectedUntil = min(member.ejectedUntil ?? now, now)
            }
        }
        members[lease.index] = member
    }

    /// Every endpoint's delta since the last call (with whether it is out now, and
    /// until when in wall-clock time), for ``EndpointHealth/commands(_:run:worker:layout:nowMilliseconds:)``.
    func drainHealth(wallClockMilliseconds: Int64) -> [EndpointHealth.Delta] {
        let now = clock()
        return members.indices.map { index in
            var delta = members[index].health ?? EndpointHealth.Delta(endpoint: members[index].name)
            members[index].health = nil
            if let until = members[index].ejectedUntil {
                // Due for its probe: out for (about) one more second.
                delta.outUntilMilliseconds = wallClockMilliseconds + (until > now ? (until - now).wholeMilliseconds : 1_000)
            }
            return delta
        }
    }

    /// Whether `error` says the endpoint is broken (rather than busy or the request bad).
    static func isEndpointFailure(_ error: LLMError) -> Bool {
        switch error.code {
        case .transport:
            switch error.transport?.code {
            case .cancelled, .shutdown, .invalidRequest, nil: false
            default: true
            }
        case .serverError: error.status != 503
        case .unauthorized, .notFound, .invalidResponse: true
        case .rateLimited, .badRequest: false
        }
    }

    private func hasWeightedIn(_ candidates: [Int]) -> Bool {
        candidates.contains { !members[$0].isFallback && members[$0].isIn }
    }

    private func take(_ index: Int, probe: Bool) -> Lease {
        members[index].inFlight += 1
        let member = members[index]
        return Lease(index: index, client: member.client, name: member.name, limiter: member.limiter, pricing: member.pricing, probe: probe)
    }

    /// Smooth weighted round robin: every candidate gains its effective weight, the
    /// richest is chosen and pays the sum. The effective weight is the weight divided
    /// by the latency relative to the pool's mean and by how far the endpoint's share
    /// of the requests in flight exceeds its share of the weight ((1 + held) / (1 + due)):
    /// 1 while requests are spread as the weights say, so equal servers keep their
    /// weights exactly and a server that queues requests is given fewer.
    private func roundRobin(_ pool: [Int]) -> Int {
        let known = pool.compactMap { members[$0].latency }
        let meanLatency = max(known.isEmpty ? 1 : known.reduce(0, +) / Double(known.count), 1e-6)
        let weightSum = pool.reduce(0.0) { $0 + baseWeight(members[$1]) }
        let inFlightSum = pool.reduce(0) { $0 + members[$1].inFlight }
        var total = 0.0
        var chosen = pool[0]
        for index in pool {
            let member = members[index]
            let due = baseWeight(member) / weightSum
            let held = inFlightSum > 0 ? Double(member.inFlight) / Double(inFlightSum) : due
            let relativeLatency = max(member.latency ?? meanLatency, 1e-6) / meanLatency
            let effective = baseWeight(member) / (relativeLatency * (1 + held) / (1 + due))
            members[index].credit += effective
            total += effective
            if members[index].credit > members[chosen].credit { chosen = index }
        }
        members[chosen].credit -= total
        return chosen
    }

    private func baseWeight(_ member: Member) -> Double { member.isFallback ? 1 : member.weight }
}
