public import PersonaForgeSupport

/// What `/health` (liveness) and `/ready` (readiness) answer.
///
/// Liveness: every registered loop has beaten within ``stallTimeout`` (a loop that
/// has not started yet counts as alive until the timeout has passed since
/// registration). Readiness: the service has finished starting (``setStartupStep(_:)``),
/// every loop has beaten at least once and every readiness check (e.g. "Redis answers
/// PING", "PostgreSQL answers SELECT 1") passes.
///
/// A check runs at most once at a time: a probe that arrives while it is still
/// running gets its previous answer (or, once it has run longer than
/// ``checkTimeout``, "no answer for N s"), so a hung dependency never piles up
/// probe requests.
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
    /// A readiness check still running after this long counts as failed.
    public let checkTimeout: Duration
    private struct CheckState {
        var check: Check
        var runningSince: ContinuousClock.Instant?
        /// The last answer: nil before the first run, `.some(nil)` when it passed.
        var last: String??
    }
    private struct State {
        var loops: [(heartbeat: Heartbeat, registered: ContinuousClock.Instant)] = []
        var checks: [CheckState] = []
        /// What the service is still doing before its loops exist (nil: started).
        var startupStep: String?
    }
    private let state = LockedBox(State())

    public init(stallTimeout: Duration = .seconds(300), checkTimeout: Duration = .seconds(3)) {
        self.stallTimeout = stallTimeout
        self.checkTimeout = checkTimeout
    }

    /// Adds a loop to watch and returns its heartbeat.
    public func register(_ name: String) -> Heartbeat {
        let heartbeat = Heartbeat(name: name)
        let now = ContinuousClock.now
        state.withLock { $0.loops.append((heartbeat, now)) }
        return heartbeat
    }

    /// Marks the service as still starting (`step` says with what, e.g. "connecting to
    /// PostgreSQL") or, with nil, as started. While starting, `/ready` fails: the
    /// endpoint is up before the service has connected to anything, and a probe then
    /// must not pass because no loop or check is registered yet.
    public func setStartupStep(_ step: String?) {
        state.withLock { $0.startupStep = step }
    }

    /// Adds a readiness check (run on every `/ready` request).
    public func addReadinessCheck(_ check: Check) {
        state.withLock { $0.checks.append(CheckState(check: check)) }
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
        let (loops, count, startup) = state.withLock { ($0.loops, $0.checks.count, $0.startupStep) }
        if let startup { problems.append("starting: \(startup)") }
        for (heartbeat, _) in loops where heartbeat.lastBeat == nil {
            problems.append("\(heartbeat.name): starting")
        }
        for index in 0..<count {
            if let problem = await answer(check: index, now: now) { problems.append(problem) }
        }
        return Verdict(problems: problems)
    }

    /// Runs check `index` unless it is already running, in which case its previous answer stands.
    private func answer(check index: Int, now: ContinuousClock.Instant) async -> String? {
        enum Next { case run(Check), answer(String?) }
        let next = state.withLock { state -> Next in
            let current = state.checks[index]
            let name = current.check.name
            if let since = current.runningSince {
                if now - since > checkTimeout { return .answer("\(name): no answer for \((now - since).components.seconds) s") }
                switch current.last {
                case .none: return .answer("\(name): checking")
                case .some(let problem): return .answer(problem.map { "\(name): \($0)" })
                }
            }
            state.checks[index].runningSince = now
            return .run(current.check)
        }
        switch next {
        case .answer(let problem):
            return problem
        case .run(let check):
            let problem = await check.run()
            state.withLock {
                $0.checks[index].runningSince = nil
                $0.checks[index].last = .some(problem)
            }
            return problem.map { "\(check.name): \($0)" }
        }
    }
}
