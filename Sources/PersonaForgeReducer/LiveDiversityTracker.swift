public import Logging
public import PersonaForgeCore
public import PersonaForgePostgres
import PersonaForgeSupport
public import PersonaForgeStore

/// How a reducer keeps diversity metrics live (docs/metrics.md, "Live diversity").
public struct LiveDiversitySettings: Sendable {
    /// The limits of the live accumulators. Lower than `evaluate`'s defaults so that a
    /// partial stays a few MiB however large the run (see ``liveConfiguration``).
    public var configuration: DiversityConfiguration
    /// How often a reducer stores its partial state of a run (in the write transaction);
    /// in between, the kept records it inserts are listed in `diversity_pending`.
    public var persistInterval: Duration
    /// How often a live snapshot of a run is written to `metric_snapshots` while its
    /// records arrive (and once more when the reducer goes idle).
    public var snapshotInterval: Duration
    /// A run's partial is dropped from memory (it is persisted first) after this long
    /// without new records; it is reloaded from PostgreSQL if more arrive.
    public var evictAfter: Duration

    public init(
        configuration: DiversityConfiguration = LiveDiversitySettings.liveConfiguration, persistInterval: Duration = .seconds(5),
        snapshotInterval: Duration = .seconds(10), evictAfter: Duration = .seconds(300)
    ) {
        self.configuration = configuration
        self.persistInterval = persistInterval
        self.snapshotInterval = snapshotInterval
        self.evictAfter = evictAfter
    }

    /// The live limits: exact up to 2^15 distinct n-grams per order (then HyperLogLog at
    /// precision 12, 1.6 % standard error, and a sampled entropy table), self-repetition
    /// exact up to 1,000 records and 2^15 distinct 4-grams, a 64-record homogenization
    /// sample, exact length percentiles up to 10,000 records.
    public static var liveConfiguration: DiversityConfiguration {
        var configuration = DiversityConfiguration()
        configuration.exactNGramLimit = 1 << 15
        configuration.sketchPrecision = 12
        configuration.selfRepetitionRecordLimit = 1_000
        configuration.selfRepetitionNGramLimit = 1 << 15
        configuration.homogenizationSampleSize = 64
        configuration.exactLengthLimit = 10_000
        return configuration
    }
}

/// One reducer's live diversity: a partial `DiversityAccumulator` per run over the kept
/// records *this reducer's transactions inserted*, kept in PostgreSQL by
/// ``DiversityStateStore`` in the same transactions (so redelivery never double counts,
/// a crash never loses a record, and reducers never share a partial), and merged with
/// every other reducer's partial into periodic live rows of `metric_snapshots`.
///
/// Use: pass ``transactionHook()`` to `RecordWriter.write`, then call ``committed()``
/// or ``rolledBack()``; call ``writeDueSnapshots(connection:)`` after each step and
/// ``flush(connection:)`` when idle or shutting down.
public final class LiveDiversityTracker: Sendable {
    /// The reducer name: the key of this process's partials.
    public let reducer: String
    public let settings: LiveDiversitySettings
    let logger: Logger
    let clock: @Sendable () -> ContinuousClock.Instant

    struct RunPartial: Sendable {
        var accumulator: DiversityAccumulator
        var lastPersist: ContinuousClock.Instant
        var lastTouched: ContinuousClock.Instant
        var lastSnapshot: ContinuousClock.Instant?
        /// Records folded in memory but only listed as pending in PostgreSQL.
        var unpersisted: Int
        /// Records committed since the last snapshot this reducer wrote.
        var unsnapshotted: Bool
        /// Texts of the transaction in progress listed as pending but not yet added to
        /// `accumulator`: added by ``committed()``, after the commit, so that the
        /// transaction (and the hot rows it locks) is not held for the fold.
        var unfolded: [String] = []
    }

    /// Committed partials (what PostgreSQL holds for this reducer, as state + pending).
    private let partials = LockedBox<[String: RunPartial]>([:])
    /// Partials taken out and updated by the transaction in progress.
    private let staged = LockedBox<[String: RunPartial]>([:])
    /// Runs whose stored state cannot be used; logged once, then skipped.
    private let disabled = LockedBox<Set<String>>([])
    /// The database session (backend process id) holding this reducer's liveness lock.
    /// A new session (a reconnect) re-takes the lock and drops the cached partials:
    /// while the lock was not held, another reducer may have compacted them away.
    private let lockedSession = LockedBox<Int32?>(nil)

    public init(
        reducer: String, settings: LiveDiversitySettings = LiveDiversitySettings(), logger: Logger,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.reducer = reducer
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    /// Folds the records a write really inserted, inside its transaction.
    public func transactionHook() -> RecordWriter.TransactionHook {
        { connection, kept in try self.fold(kept, connection: connection) }
    }

    /// The transaction committed: its partials, with the records it listed as pending
    /// now folded in, become the current ones.
    public func committed() {
        var done = staged.withLock { staged in
            defer { staged = [:] }
            return staged
        }
        for run in Array(done.keys) {
            guard var partial = done.removeValue(forKey: run) else { continue }
            for text in partial.unfolded { partial.accumulator.add(text) }
            partial.unfolded = []
            done[run] = partial
        }
        partials.withLock { $0.merge(done) { _, new in new } }
    }

    /// The transaction failed: the partials it touched are dropped from memory and
    /// reloaded from PostgreSQL (which rolled back too) when next needed.
    public func rolledBack() {
        staged.withLock { $0 = [:] }
    }

    /// Makes sure this session holds the reducer's liveness lock (so no other reducer
    /// compacts its partials); after a new session, cached partials are dropped and
    /// reloaded from PostgreSQL when next needed. Returns whether the cache was dropped.
    @discardableResult
    func holdLiveness(connection: isolated PostgresConnection) throws -> Bool {
        let session = try connection.backendProcessID()
        if lockedSession.withLock({ $0 }) == session { return false }
        try DiversityStateStore.holdLivenessLock(reducer: reducer, timeout: 10, connection: connection)
        partials.withLock { $0 = [:] }
        lockedSession.withLock { $0 = session }
        return true
    }

    func fold(_ kept: [RecordWriter.KeptRecord], connection: isolated PostgresConnection) throws {
        if kept.isEmpty { return }
        try holdLiveness(connection: connection)
        var order: [String] = []
        var byRun: [String: [RecordWriter.KeptRecord]] = [:]
        for record in kept {
            if byRun[record.run] == nil { order.append(record.run) }
            byRun[record.run, default: []].append(record)
        }
        let now = clock()
        let skipped = disabled.withLock { $0 }
        for run in order where !skipped.contains(run) {
            let records = byRun[run] ?? []
            var partial: RunPartial
            if let current = partials.withLock({ $0.removeValue(forKey: run) }) {
                partial = current
            } else {
                do {
                    let loaded = try DiversityStateStore.partial(run: run, reducer: reducer, configuration: settings.configuration, connection: connection)
                    partial = RunPartial(
                        accumulator: loaded?.accumulator ?? DiversityAccumulator(configuration: settings.configuration),
                        lastPersist: now, lastTouched: now, lastSnapshot: nil, unpersisted: loaded?.pendingRecords ?? 0, unsnapshotted: false
                    )
                } catch let error as DiversityStateError {
                    // The records matter more than their live metrics: store them without.
                    logger.error("live diversity disabled for this run in this reducer", metadata: ["run": "\(run)", "error": "\(error)"])
                    disabled.withLock { _ = $0.insert(run) }
                    continue
                }
            }
            partial.unfolded += records.map(\.text)
            partial.unpersisted += records.count
            partial.lastTouched = now
            partial.unsnapshotted = true
            if now - partial.lastPersist >= settings.persistInterval {
                // The state stored must hold every record: fold this transaction's now.
                for text in partial.unfolded { partial.accumulator.add(text) }
                partial.unfolded = []
                let started = ContinuousClock.now
                let bytes = try DiversityStateStore.persist(run: run, reducer: reducer, accumulator: partial.accumulator, connection: connection)
                let elapsed = (ContinuousClock.now - started).components
                let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
                logger.debug("persisted live diversity state", metadata: [
                    "run": "\(run)", "records": "\(partial.accumulator.recordCount)", "bytes": "\(bytes)",
                    "ms": "\(Int(milliseconds.rounded()))",
                ])
                partial.unpersisted = 0
                partial.lastPersist = now
            } else {
                try DiversityStateStore.appendPending(
                    run: run, reducer: reducer, records: records.map { ($0.position, $0.sample) }, connection: connection
                )
            }
            staged.withLock { $0[run] = partial }
        }
    }

    /// Writes a live snapshot for each run whose records arrived and whose last
    /// snapshot (by any reducer) is older than the snapshot interval. Errors are logged:
    /// live metrics never hold up the records.
    public func writeDueSnapshots(connection: PostgresConnection) async {
        await writeSnapshots(connection: connection, force: false)
    }

    /// Persists every partial with pending records, writes a live snapshot for every
    /// run with records since this reducer's last snapshot, and drops partials idle for
    /// longer than `evictAfter`. Call when idle and before exiting.
    public func flush(connection: PostgresConnection) async {
        let dirty = partials.withLock { $0.filter { $0.value.unpersisted > 0 } }
        for (run, partial) in dirty {
            let reducer = self.reducer
            let accumulator = partial.accumulator
            do {
                let stale = try await connection.transaction { connection -> Bool in
                    // A new session may mean the cached partial was compacted away: PostgreSQL holds the truth.
                    if try self.holdLiveness(connection: connection) { return true }
                    try DiversityStateStore.persist(run: run, reducer: reducer, accumulator: accumulator, connection: connection)
                    return false
                }
                if stale { break }
                let now = clock()
                partials.withLock {
                    $0[run]?.unpersisted = 0
                    $0[run]?.lastPersist = now
                }
            } catch {
                logger.warning("could not persist the live diversity state; its records stay pending", metadata: ["run": "\(run)", "error": "\(error)"])
            }
        }
        await writeSnapshots(connection: connection, force: true)
        let now = clock()
        let evictAfter = settings.evictAfter
        partials.withLock { partials in
            partials = partials.filter { $0.value.unpersisted > 0 || $0.value.unsnapshotted || now - $0.value.lastTouched < evictAfter }
        }
    }

    /// Whether ``flush(connection:)`` has anything to do: records not yet persisted or
    /// snapshotted, or a partial due for eviction (cheap; for idle loops).
    public var hasUnflushedWork: Bool {
        let now = clock()
        let evictAfter = settings.evictAfter
        return partials.withLock {
            $0.values.contains { $0.unpersisted > 0 || $0.unsnapshotted || now - $0.lastTouched >= evictAfter }
        }
    }

    /// Runs whose partial is in memory (for tests and diagnostics).
    public var runsInMemory: [String] { partials.withLock { $0.keys.sorted() } }

    private func writeSnapshots(connection: PostgresConnection, force: Bool) async {
        let now = clock()
        let interval = settings.snapshotInterval
        let due = partials.withLock { partials in
            partials.filter { _, partial in
                partial.unsnapshotted && (force || partial.lastSnapshot.map { now - $0 >= interval } ?? true)
            }.keys.sorted()
        }
        let configuration = settings.configuration
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        for run in due {
            do {
                let wrote = try await connection.transaction { connection -> Bool in
                    // One writer per run at a time; the later one sees everything committed before it.
                    _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext($1)) AS locked", ["pf-live-diversity:" + run])
                    if !force, let age = try DiversityStateStore.secondsSinceLiveSnapshot(run: run, connection: connection), age < seconds {
                        return false
                    }
                    // Partials of reducers that died are folded into one, so restarts do not pile up rows.
                    let compacted = try DiversityStateStore.compactDeadPartials(
                        run: run, except: self.reducer, configuration: configuration, connection: connection
                    )
                    if compacted > 0 {
                        self.logger.info("compacted the live diversity partials of dead reducers", metadata: ["run": "\(run)", "partials": "\(compacted)"])
                    }
                    let own = self.partials.withLock { $0[run] }.map {
                        DiversityStateStore.OwnPartial(reducer: self.reducer, accumulator: $0.accumulator, pendingRecords: $0.unpersisted)
                    }
                    let merged = try DiversityStateStore.merged(run: run, configuration: configuration, own: own, connection: connection)
                    var metrics = merged.accumulator.snapshot()
                    metrics["live"] = 1
                    metrics["live_partials"] = Double(merged.partials)
                    metrics["live_pending_records"] = Double(merged.pendingRecords)
                    try DiversityStateStore.insertSnapshot(
                        run: run, records: merged.accumulator.recordCount, isFinal: false, metrics: metrics, connection: connection
                    )
                    return true
                }
                partials.withLock {
                    $0[run]?.lastSnapshot = now
                    // When another reducer wrote a recent one, ours is due again after the interval.
                    $0[run]?.unsnapshotted = !wrote
                }
            } catch {
                logger.warning("could not write a live diversity snapshot", metadata: ["run": "\(run)", "error": "\(error)"])
            }
        }
    }
}
