import Synchronization

/// One band row of an LSH index: record `id` (a `record_signatures` id) holds
/// `bucket` in band `band`.
public struct BandEntry: Sendable, Hashable {
    public var band: Int
    public var bucket: UInt64
    public var id: Int64

    public init(band: Int, bucket: UInt64, id: Int64) {
        self.band = band
        self.bucket = bucket
        self.id = id
    }
}

/// What one ``SharedBandIndex/addAndProbe(scopeID:_:expected:)`` call found.
public struct BandProbe: Sendable, Equatable {
    /// For each entry, in input order, the other ids its bucket holds.
    public var holders: [[Int64]]
    /// Partitions of the index this call created (they did not exist before it). The
    /// caller records them durably, so that later calls can tell a lost partition
    /// from a new one.
    public var created: Set<Int>

    public init(holders: [[Int64]], created: Set<Int>) {
        self.holders = holders
        self.created = created
    }
}

/// A shared band index is missing partitions that earlier calls created: the server
/// lost writes (a restart without persistence, a failover to a stale replica, a
/// FLUSHALL). Deciding against it would keep near duplicates, so nothing is decided.
public struct BandIndexLostError: Error, Sendable, CustomStringConvertible {
    public var scopeID: Int
    public var partitions: [Int]
    /// The scope's index is being rebuilt (`personaforge band-index rebuild`): wait.
    public var rebuilding: Bool

    public init(scopeID: Int, partitions: [Int], rebuilding: Bool = false) {
        self.scopeID = scopeID
        self.partitions = partitions.sorted()
        self.rebuilding = rebuilding
    }

    public var description: String {
        if rebuilding {
            return "the band index of dedup scope \(scopeID) is being rebuilt (personaforge band-index rebuild): its records are decided once the rebuild is done"
        }
        let shown = partitions.prefix(8).map(String.init).joined(separator: ", ") + (partitions.count > 8 ? ", …" : "")
        return "the band index of dedup scope \(scopeID) has lost \(partitions.count) partition(s) that earlier batches created (\(shown)): "
            + "its Redis lost writes (a restart without persistence, a failover to a stale replica, a FLUSHALL). No record of the scope is "
            + "decided until the index is rebuilt from PostgreSQL's signatures: `personaforge band-index rebuild --scope-id \(scopeID)` "
            + "(docs/dedup.md, \"When the index Redis loses data\")"
    }
}

/// A band index shared by every reducer of a scope and kept outside PostgreSQL
/// (PersonaForgeBandIndex's `RedisBandIndex` on Redis or Redis Cluster).
///
/// The contract the ordered rule (``OrderedDedup``) needs from it:
/// - ``addAndProbe(scopeID:_:expected:)`` adds each entry's id to its bucket and
///   returns the bucket's other ids, **atomically per bucket**: of two records added
///   to one bucket at once, the one added second sees the first;
/// - it is idempotent: adding an entry again changes nothing;
/// - it is split into partitions, and a call that finds one of `expected` (the
///   partitions earlier calls created) missing throws ``BandIndexLostError`` before
///   it adds anything to that partition.
public protocol SharedBandIndex: Sendable {
    func addAndProbe(scopeID: Int, _ entries: [BandEntry], expected: Set<Int>) async throws -> BandProbe
}

extension SharedBandIndex {
    /// Adds and probes without checking for lost partitions (benchmarks, rebuilds).
    public func addAndProbe(scopeID: Int, _ entries: [BandEntry]) async throws -> [[Int64]] {
        try await addAndProbe(scopeID: scopeID, entries, expected: []).holders
    }
}

/// The in-memory twin of a shared band index, for tests of the decision logic: one
/// mutex around a dictionary, so every call is atomic (stronger than per bucket).
/// Partitions are the bucket modulo `partitions`; ``loseEverything()`` plays a Redis
/// that restarted empty.
public final class InMemorySharedBandIndex: SharedBandIndex {
    private struct BucketKey: Hashable {
        var scope: Int
        var band: Int
        var bucket: UInt64
    }

    private struct State {
        var buckets: [BucketKey: [Int64]] = [:]
        var partitions: Set<[Int]> = []  // [scope, partition]
    }

    private let state = Mutex(State())
    public let partitions: Int

    public init(partitions: Int = 16) {
        self.partitions = partitions
    }

    public func addAndProbe(scopeID: Int, _ entries: [BandEntry], expected: Set<Int>) async throws -> BandProbe {
        let partitions = self.partitions
        return try state.withLock { state in
            let touched = Set(entries.map { Int($0.bucket % UInt64(partitions)) })
            let lost = touched.filter { expected.contains($0) && !state.partitions.contains([scopeID, $0]) }
            if !lost.isEmpty { throw BandIndexLostError(scopeID: scopeID, partitions: Array(lost)) }
            let created = touched.filter { !state.partitions.contains([scopeID, $0]) }
            for partition in created { state.partitions.insert([scopeID, partition]) }
            let holders = entries.map { entry in
                let key = BucketKey(scope: scopeID, band: entry.band, bucket: entry.bucket)
                let held = state.buckets[key, default: []]
                let others = held.filter { $0 != entry.id }
                if others.count == held.count { state.buckets[key] = held + [entry.id] }
                return others
            }
            return BandProbe(holders: holders, created: created)
        }
    }

    /// Forgets every entry and partition, as a Redis without persistence after a restart.
    public func loseEverything() {
        state.withLock { $0 = State() }
    }

    /// Band entries held, over all scopes.
    public var entryCount: Int { state.withLock { $0.buckets.values.reduce(0) { $0 + $1.count } } }
}
