public import PersonaForgePostgres

extension PersonaForgeSchema {
    /// Version 5: which Redis data set a namespace's queue lives in.
    ///
    /// The coordinator keeps a random token in Redis (`pf:{ns}:incarnation`) and its
    /// last value here. Redis coming back empty (a volume lost, no AOF, a FLUSHALL)
    /// shows as a missing or different token; the coordinator then re-queues the
    /// shards that were queued, in flight or not yet reduced when the data went
    /// (docs/operations.md, "Backups and recovery").
    public static let redisIncarnationSchema = Migration(
        version: 5,
        name: "redis incarnations",
        sql: """
        CREATE TABLE redis_incarnations (
            namespace text PRIMARY KEY,
            incarnation text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )
}
