/// How a service loop ended after shutdown was requested; the executable maps it to
/// its exit code (docs/operations.md, "Exit codes").
public enum ShutdownOutcome: Sendable, Equatable {
    /// Everything held was finished (or there was nothing to finish).
    case drained
    /// The grace period ended first; unfinished work was released for redelivery.
    case graceExpired
}
