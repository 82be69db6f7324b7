/// A loop's sign of life: the loop calls ``beat()`` each time it makes progress, and
/// the liveness probe asks how long ago that was.
///
/// Lives here (not in the observability module) so that the coordinator, worker and
/// reducer libraries can report progress without depending on the HTTP server.
public final class Heartbeat: Sendable {
    /// The loop's name in probe answers ("worker", "reducer", ...).
    public let name: String
    private let last: LockedBox<ContinuousClock.Instant?>

    public init(name: String) {
        self.name = name
        last = LockedBox(nil)
    }

    /// Records progress now.
    public func beat() {
        let now = ContinuousClock.now
        last.withLock { $0 = now }
    }

    /// When the loop last made progress; nil before its first beat.
    public var lastBeat: ContinuousClock.Instant? { last.withLock { $0 } }
}
