public import PersonaForgeSupport

/// What `/health` (liveness) and `/ready` (readiness) answer.
///
/// Liveness: every registered loop has beaten within ``stallTimeout`` (a loop that
/// has not started yet counts as alive until the timeout has passed since
/// registration). Readiness: every loop has beaten at least once and every readiness
/// check (e.g. "Redis answers PING", "PostgreSQL answers SELECT 1") passes.
public final class HealthMonitor: Sendable {
    /// One probe answer: healthy or not, with one reason line per problem.
    public struct Verdict: Sendable, Equatable {
        public var isHealthy: Bool { problems.isEmpty }
        public var problems: [String]

        public init(problems: [String]) {
            self.problems = problems
        }

        /// The response body: "ok" or one problem per line.
        public var body: String {
            isHealthy ? "ok\n" : problems.map { $0 + "\n" }.joined()
        }
    }

    /// A named dependency check: nil when healthy, else the reason it is not.
    public struct Check: Sendable {
        public var name: String
        public var run: @Sendable () async -> String?

        public init(name: String, run: @escaping @Sendable () async -> String?) {
            self.name = name
            self.run = run
        }
    }

    /// A loop that has not beaten for this long is considered stuck.
    public let stallTimeout: Duration
    private struct State {
        var loops: [(heartbeat: Heartbeat, registered: ContinuousClock.Instant)] = []
        var checks: [Check] = []
    }
    private let state = LockedBox(State())

    public init(stallTimeout: Duration = .seconds(300)) {
        self.stallTimeout = stallTimeout
    }

    /// Adds a loop to watch and returns its heartbeat.
    public func register(_ name: String) -> Heartbeat {
        let heartbeat = Heartbeat(name: name)
        let now = ContinuousClock.now
        state.withLock { $0.loops.append((heartbeat, now)) }
        return heartbeat
    }

    /// Adds a readiness check (run on every `/ready` request).
    public func addReadinessCheck(_ check: Check) {
        state.withLock { $0.checks.append(check) }
    }

    public func liveness(now: ContinuousClock.Instant = .now) -> Verdict {
        let loops = state.withLock { $0.loops }
        var problems: [String] = []
        for (heartbeat, registered) in loops {
            let since = heartbeat.lastBeat ?? registered
            let silent = now - since
            if silent > stallTimeout {
                problems.append("\(heartbeat.name): no progress for \(silent.components.seconds) s (stall timeout \(stallTimeout.components.seconds) s)")
            }
        }
        return Verdict(problems: problems)
    }

    public func readiness(now: ContinuousClock.Instant = .now) async -> Verdict {
        var problems = liveness(now: now).problems
        let (loops, checks) = state.withLock { ($0.loops, $0.checks) }
        for (heartbeat, _) in loops where heartbeat.lastBeat == nil {
            problems.append("\(heartbeat.name): starting")
        }
        for check in checks {
            if let problem = await check.run() { problems.append("\(check.name): \(problem)") }
        }
        return Verdict(problems: problems)
    }
}
