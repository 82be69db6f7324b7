/// The outcome of curating one output: keep it, or reject it with a reason.
public enum FilterVerdict: Sendable, Hashable {
    /// The output passed every check.
    case keep
    /// The output failed a check. `detail` is a short human-readable
    /// explanation ("41 characters, minimum 50") for logs and the record row;
    /// it never contains the output itself beyond a matched refusal phrase or pattern.
    case reject(RejectReason, detail: String)

    /// The reason, if rejected.
    public var rejectReason: RejectReason? {
        if case .reject(let reason, _) = self { return reason }
        return nil
    }

    /// Whether the output is kept.
    public var isKeep: Bool { self == .keep }
}
