public import PersonaForgeRedis

/// The Redis keys of one PersonaForge deployment.
///
/// Every key carries the hash tag `{namespace}`, so on Redis Cluster they all live in
/// one slot (streams, their groups and the Lua-free multi-key patterns stay valid).
public struct QueueLayout: Sendable, Hashable {
    public let namespace: String

    public init(namespace: String = "pf") {
        self.namespace = namespace
    }

    private var prefix: String { "pf:{\(namespace)}" }

    /// Shard descriptors waiting for workers (consumer group ``workersGroup``).
    public var shards: String { "\(prefix):shards" }
    /// Result batches waiting for the reducer (consumer group ``reducersGroup``).
    public var results: String { "\(prefix):results" }
    /// Shards that failed too often, with the reason.
    public var deadLetters: String { "\(prefix):dead" }
    /// The coordinator lease (value: the holder's name).
    public var coordinatorLease: String { "\(prefix):coordinator" }
    /// Hash: run id → state (`running`, `paused`, `cancelled`, ...), for workers.
    public var runStates: String { "\(prefix):runs" }
    /// A random token the coordinator sets once per Redis data set; its absence or a
    /// new value means Redis lost the queue (see `redis_incarnations` in PostgreSQL).
    public var incarnation: String { "\(prefix):incarnation" }
    /// Hash: the fleet-wide token bucket of one LLM endpoint (`endpoint`: a hash of its
    /// base URL and model), shared by every worker (FleetRateLimiter).
    public func rateLimit(endpoint: String) -> String { "\(prefix):ratelimit:\(endpoint)" }
    /// Hash: a run's LLM endpoints as its workers saw them (``EndpointHealth``); with
    /// `minute`, that minute's counts (for the rate).
    public func endpointHealth(run: String, minute: Int64? = nil) -> String {
        "\(prefix):endpoints:\(run)" + (minute.map { ":m\($0)" } ?? "")
    }

    public let workersGroup = "workers"
    public let reducersGroup = "reducers"

    /// Every Redis command PersonaForge sends (coordinator, workers, reducers, `submit`,
    /// `run`, `runs`, `status`, `doctor`; `get`, `pexpire` and `del` from the lease
    /// scripts). `AUTH` needs no rule; `doctor` copes without `CONFIG`.
    public static let redisCommands = [
        "ping", "info", "select", "multi", "exec", "eval", "get", "set", "del", "pexpire", "hget", "hmget", "hset", "hdel", "hincrby", "hgetall", "time",
        "xadd", "xreadgroup", "xack", "xdel", "xlen", "xrange", "xclaim", "xautoclaim", "xpending", "xinfo", "xgroup|create",
    ]

    /// The keys of this namespace as an ACL key pattern: `pf:{pf}:*`.
    public var redisKeyPattern: String { "\(prefix):*" }

    /// ACL rules (Redis 6.2+) for a user that may send only ``redisCommands``, only to
    /// this namespace's keys, and may not subscribe to channels:
    /// `ACL SETUSER personaforge on >PASSWORD` followed by these, or the same after
    /// `user personaforge on >PASSWORD` in an ACL file (docs/operations.md, "Redis ACL").
    public var redisACLRules: [String] {
        ["resetkeys", "~\(redisKeyPattern)", "resetchannels", "-@all"] + Self.redisCommands.map { "+\($0)" }
    }

    /// `XADD` to the dead-letter stream: the original payload, why, and the original entry id.
    public func deadLetter(payload: [UInt8]?, reason: String, entry: String) -> RedisCommand {
        RedisStreamCommands.xadd(deadLetters, fields: [
            (QueueCodec.field, payload ?? []), ("reason", Array(reason.utf8)), ("entry", Array(entry.utf8)),
        ])
    }
}
