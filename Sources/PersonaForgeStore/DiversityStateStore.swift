import Foundation
public import PersonaForgeCore
public import PersonaForgePostgres

/// The SQL of live diversity (schema version 3): per-(run, reducer) partial
/// `DiversityAccumulator`s in `diversity_states`, the records each reducer inserted
/// since its last persist in `diversity_pending`, and live rows of `metric_snapshots`.
///
/// Invariant: every kept record a reducer inserted is in exactly one place — folded
/// into that reducer's persisted state, or listed in its pending rows — because both
/// are written in the transaction that inserts the record, and a persist deletes the
/// pending rows it folded in the same transaction. Merging every partial of a run
/// with its pending records therefore counts each kept record exactly once, whatever
/// reducer died when.
///
/// Every method takes the connection `isolated`, so it runs inside the caller's
/// transaction (`connection.transaction { try DiversityStateStore.merged(…, connection: $0) }`).
public enum DiversityStateStore {
    /// One reducer's partial: the accumulator and how many kept records it holds.
    public struct Partial: Sendable {
        public var accumulator: DiversityAccumulator
        /// Records listed in `diversity_pending` that were folded into `accumulator` on load.
        public var pendingRecords: Int
    }

    /// A run's merged live state.
    public struct Merged: Sendable {
        public var accumulator: DiversityAccumulator
        /// Reducer partials merged (persisted or pending only).
        public var partials: Int
        /// Of the records, how many came from pending rows (not yet persisted).
        public var pendingRecords: Int
    }

    /// `reducer`'s partial of `runID` as persisted plus its pending records, or nil
    /// when it has neither (a new partial starts empty).
    public static func partial(
        run runID: String, reducer: String, configuration: DiversityConfiguration, connection: isolated PostgresConnection
    ) throws -> Partial? {
        let row = try connection.query(
            "SELECT state FROM diversity_states WHERE run_id = $1::uuid AND reducer = $2", [runID, reducer]
        ).first
        var accumulator = DiversityAccumulator(configuration: configuration)
        if let row {
            accumulator = try decode(row["state"].string ?? "", run: runID, reducer: reducer, configuration: configuration)
        }
        let pending = try pendingTexts(run: runID, reducer: reducer, connection: connection)
        if row == nil && pending.isEmpty { return nil }
        for text in pending { accumulator.add(text) }
        return Partial(accumulator: accumulator, pendingRecords: pending.count)
    }

    /// Lists newly inserted kept records as pending for `reducer` (in arrival order).
    public static func appendPending(
        run runID: String, reducer: String, records: [(position: Int64, sample: Int)], connection: isolated PostgresConnection
    ) throws {
        if records.isEmpty { return }
        try connection.copy(
            into: "diversity_pending", columns: ["run_id", "reducer", "position", "sample"],
            rows: records.map { [runID, reducer, String($0.position), String($0.sample)] }
        )
    }

    /// Stores `accumulator` as `reducer`'s partial of `runID` and drops its pending
    /// rows (which `accumulator` must already hold). Returns the encoded size in bytes.
    @discardableResult
    public static func persist(
        run runID: String, reducer: String, accumulator: DiversityAccumulator, connection: isolated PostgresConnection
    ) throws -> Int {
        let state = String(decoding: try JSONEncoder().encode(accumulator), as: UTF8.self)
        try connection.execute("""
            INSERT INTO diversity_states (run_id, reducer, records, state, state_bytes) VALUES ($1::uuid, $2, $3, $4, $5)
            ON CONFLICT (run_id, reducer) DO UPDATE SET records = EXCLUDED.records, state = EXCLUDED.state,
                state_bytes = EXCLUDED.state_bytes, updated_at = now()
            """, [runID, reducer, String(accumulator.recordCount), state, String(state.utf8.count)])
        try connection.execute("DELETE FROM diversity_pending WHERE run_id = $1::uuid AND reducer = $2", [runID, reducer])
        return state.utf8.count
    }

    /// A reducer's own committed partial, held in its memory: equal to what PostgreSQL
    /// holds for it (state + pending), so ``merged(run:configuration:own:connection:)``
    /// need not read it back.
    public struct OwnPartial: Sendable {
        public var reducer: String
        public var accumulator: DiversityAccumulator
        /// Of its records, how many are only listed as pending.
        public var pendingRecords: Int

        public init(reducer: String, accumulator: DiversityAccumulator, pendingRecords: Int) {
            self.reducer = reducer
            self.accumulator = accumulator
            self.pendingRecords = pendingRecords
        }
    }

    /// Every partial of `runID` (persisted states and pending records of every
    /// reducer, in reducer-name order) merged into one accumulator. `own`, the calling
    /// reducer's partial from memory, stands in for its rows: a reducer that has not
    /// persisted for a while (its pending rows are the records since) does not read all
    /// their texts back for every snapshot.
    public static func merged(
        run runID: String, configuration: DiversityConfiguration, own: OwnPartial? = nil, connection: isolated PostgresConnection
    ) throws -> Merged {
        var states: [String: String] = [:]
        for row in try connection.query("SELECT reducer, state FROM diversity_states WHERE run_id = $1::uuid", [runID]) {
            states[row["reducer"].string ?? ""] = row["state"].string ?? ""
        }
        var reducers = Set(states.keys)
        for row in try connection.query("SELECT DISTINCT reducer FROM diversity_pending WHERE run_id = $1::uuid", [runID]) {
            reducers.insert(row["reducer"].string ?? "")
        }
        if let own { reducers.insert(own.reducer) }
        var total = DiversityAccumulator(configuration: configuration)
        var pendingRecords = 0
        for reducer in reducers.sorted() {
            if let own, own.reducer == reducer {
                total.merge(own.accumulator)
                pendingRecords += own.pendingRecords
                continue
            }
            var partial = DiversityAccumulator(configuration: configuration)
            if let state = states[reducer] {
                partial = try decode(state, run: runID, reducer: reducer, configuration: configuration)
            }
            let pending = try pendingTexts(run: runID, reducer: reducer, connection: connection)
            for text in pending { partial.add(text) }
            pendingRecords += pending.count
            total.merge(partial)
        }
        return Merged(accumulator: total, partials: reducers.count, pendingRecords: pendingRecords)
    }

    // MARK: Reducer liveness and compaction

    /// The partial that compaction folds the partials of dead reducers into. No reducer
    /// writes under this name (process names never contain parentheses).
    public static let compactedReducer = "(compacted)"

    /// Holds `reducer`'s liveness lock for the rest of this database session (a
    /// session-level advisory lock; it is released when the session ends, however the
    /// process died). Waits at most `timeout` seconds: a compaction holds the lock
    /// briefly, and a live process of the same name holds it for good.
    public static func holdLivenessLock(reducer: String, timeout: Int, connection: isolated PostgresConnection) throws {
        let previous = try connection.query("SELECT current_setting('lock_timeout') AS previous").first?["previous"].string ?? "0"
        _ = try connection.query("SELECT set_config('lock_timeout', $1, true)", ["\(timeout)s"])
        do {
            _ = try connection.query("SELECT pg_advisory_lock(hashtextextended($1, 0)) AS locked", [livenessKey(reducer)])
        } catch let error as PostgresError where error.sqlState == "55P03" {
            throw DiversityStateError(message: "reducer name '\(reducer)' is held by another live database session for more than \(timeout) s; give every reducer process its own name")
        }
        _ = try connection.query("SELECT set_config('lock_timeout', $1, true)", [previous])
    }

    /// Folds the partials (state and pending records) of reducers of `runID` whose
    /// liveness lock no session holds into the ``compactedReducer`` partial, and deletes
    /// their rows. Returns how many partials it folded. Call inside a transaction that
    /// holds the run's snapshot lock; `except` (the caller's own name) is never folded.
    ///
    /// Safe against a reducer that is alive after all: a dead-looking reducer's lock is
    /// taken for this transaction first, so its process, if its session was merely
    /// reset, waits in ``holdLivenessLock(reducer:timeout:connection:)`` until the fold
    /// commits, then reloads its partial (now empty) instead of using a stale copy.
    @discardableResult
    public static func compactDeadPartials(
        run runID: String, except: String, configuration: DiversityConfiguration, connection: isolated PostgresConnection
    ) throws -> Int {
        var owners = Set(try connection.query("SELECT reducer FROM diversity_states WHERE run_id = $1::uuid", [runID]).compactMap { $0["reducer"].string })
        for row in try connection.query("SELECT DISTINCT reducer FROM diversity_pending WHERE run_id = $1::uuid", [runID]) {
            if let reducer = row["reducer"].string { owners.insert(reducer) }
        }
        owners.remove(except)
        owners.remove(compactedReducer)
        var dead: [String] = []
        for reducer in owners.sorted() {
            let key = livenessKey(reducer)
            // Held by any session (this one included: two reducers may share one in tests)?
            let held = try connection.query("""
                SELECT EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND objsubid = 1
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND classid = ((hashtextextended($1, 0) >> 32) & 4294967295)::oid
                      AND objid = (hashtextextended($1, 0) & 4294967295)::oid) AS held
                """, [key]).first?["held"].bool ?? true
            if held { continue }
            let taken = try connection.query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS taken", [key]).first?["taken"].bool ?? false
            if taken { dead.append(reducer) }
        }
        if dead.isEmpty { return 0 }
        var compacted = try partial(run: runID, reducer: compactedReducer, configuration: configuration, connection: connection)?.accumulator
            ?? DiversityAccumulator(configuration: configuration)
        for reducer in dead {
            if let folded = try partial(run: runID, reducer: reducer, configuration: configuration, connection: connection) {
                compacted.merge(folded.accumulator)
            }
            try connection.execute("DELETE FROM diversity_states WHERE run_id = $1::uuid AND reducer = $2", [runID, reducer])
            try connection.execute("DELETE FROM diversity_pending WHERE run_id = $1::uuid AND reducer = $2", [runID, reducer])
        }
        try persist(run: runID, reducer: compactedReducer, accumulator: compacted, connection: connection)
        return dead.count
    }

    private static func livenessKey(_ reducer: String) -> String { "pf-live-reducer:" + reducer }

    /// Stores a snapshot in `metric_snapshots`.
    public static func insertSnapshot(
        run runID: String, records: Int, isFinal: Bool, metrics: DiversityMetrics, connection: isolated PostgresConnection
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try connection.execute(
            "INSERT INTO metric_snapshots (run_id, records_seen, is_final, metrics) VALUES ($1::uuid, $2, $3, $4::jsonb)",
            [runID, String(records), isFinal ? "true" : "false", String(decoding: try encoder.encode(metrics), as: UTF8.self)]
        )
    }

    /// Seconds since the newest live (not final) snapshot of the run that carries the
    /// `live` marker, or nil when there is none.
    public static func secondsSinceLiveSnapshot(run runID: String, connection: isolated PostgresConnection) throws -> Double? {
        try connection.query("""
            SELECT extract(epoch FROM now() - max(taken_at))::float8 AS age FROM metric_snapshots
            WHERE run_id = $1::uuid AND NOT is_final AND metrics ? 'live'
            """, [runID]).first?["age"].double
    }

    private static func pendingTexts(run runID: String, reducer: String, connection: isolated PostgresConnection) throws -> [String] {
        // One primary-key lookup per pending row, whatever the statistics say. As a join,
        // a run too new for the statistics (estimated 1 row on both sides) got a nested
        // loop scanning all of the run's pending rows for each record: 20,000 pending
        // records took 20-60 s of PostgreSQL CPU per snapshot, measured in the end-to-end
        // bench. (Every pending row has its record: the foreign key cascades deletes.)
        try connection.query("""
            SELECT (SELECT r.text FROM records r WHERE r.run_id = p.run_id AND r.position = p.position AND r.sample = p.sample) AS text
            FROM diversity_pending p
            WHERE p.run_id = $1::uuid AND p.reducer = $2 ORDER BY p.seq
            """, [runID, reducer]).map { $0["text"].string ?? "" }
    }

    private static func decode(
        _ state: String, run runID: String, reducer: String, configuration: DiversityConfiguration
    ) throws -> DiversityAccumulator {
        let accumulator: DiversityAccumulator
        do {
            accumulator = try JSONDecoder().decode(DiversityAccumulator.self, from: Data(state.utf8))
        } catch {
            throw DiversityStateError(message: "the live diversity state of run \(runID) from reducer '\(reducer)' does not decode (\(error)); delete that row of diversity_states and rebuild it with `personaforge evaluate \(runID) --save`")
        }
        guard accumulator.configuration == configuration else {
            throw DiversityStateError(message: "the live diversity state of run \(runID) from reducer '\(reducer)' was written with other limits than this reducer's; run reducers of one version together (or delete the run's diversity_states rows and rely on `personaforge evaluate \(runID) --save`)")
        }
        return accumulator
    }
}

/// Live diversity state that cannot be used.
public struct DiversityStateError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to do about it.
    public var message: String
    public var description: String { message }
}
