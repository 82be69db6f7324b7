public import PersonaForgeRedis

/// Run states mirrored into Redis so workers learn of pause/cancel without a database.
public struct RunControl: Sendable {
    public let redis: RedisConnection
    public let layout: QueueLayout

    public init(redis: RedisConnection, layout: QueueLayout) {
        self.redis = redis
        self.layout = layout
    }

    public func setState(_ state: String, of runID: String) async throws {
        try await redis.send("HSET", layout.runStates, runID, state)
    }

    /// The mirrored state, or nil if the run is unknown to Redis.
    public func state(of runID: String) async throws -> String? {
        try await redis.send("HGET", layout.runStates, runID).string
    }
}
