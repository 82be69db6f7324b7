/// The life of a run. Stored in `runs.state` and mirrored into Redis for workers.
public enum RunState: String, Sendable, Codable, CaseIterable {
    /// Submitted; the coordinator has not started feeding it.
    case pending
    /// Shards are being fed and worked on.
    case running
    /// No new shards are fed; shards already queued still finish.
    case paused
    /// Stopped for good; queued shards are skipped by workers.
    case cancelled
    /// Every shard is done or dead-lettered.
    case completed
    case failed

    /// Whether the run can still change.
    public var isActive: Bool { self == .pending || self == .running || self == .paused }
}
