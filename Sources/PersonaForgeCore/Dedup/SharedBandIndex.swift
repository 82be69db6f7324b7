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

/// A band index shared by every reducer of a scope and kept outside PostgreSQL
/// (PersonaForgeBandIndex's `RedisBandIndex` on Redis or Redis Cluster).
///
/// The contract the ordered rule (``OrderedDedup``) needs from it:
/// - ``addAndProbe(scopeID:_:)`` adds each entry's id to its bucket and returns the
///   bucket's other ids, **atomically per bucket**: of two records added to one
///   bucket at once, the one added second sees the first;
/// - it is idempotent: adding an entry again changes nothing.
public protocol SharedBandIndex: Sendable {
    /// For each entry, in input order, the other ids its bucket holds.
    func addAndProbe(scopeID: Int, _ entries: [BandEntry]) async throws -> [[Int64]]
}

/// The in-memory twin of a shared band index, for tests of the decision logic: one
/// mutex around a dictionary, so every call is atomic (stronger than per bucket).
public final class InMemorySharedBandIndex: SharedBandIndex {
    private struct BucketKey: Hashable {
        var scope: Int
        var band: Int
        var bucket: UInt64
    }

    private let buckets = Mutex<[BucketKey: [Int64]]>([:])

    public init() {}

    public func addAndProbe(scopeID: Int, _ entries: [BandEntry]) async throws -> [[Int64]] {
        buckets.withLock { buckets in
            return entries.map { entry in
                let key = BucketKey(scope: scopeID, band: entry.band, bucket: entry.bucket)
                let held = buckets[key, default: []]
                let others = held.filter { $0 != entry.id }
                if others.count == held.count { buckets[key] = held + [entry.id] }
                return others
            }
        }
    }

    /// Band entries held, over all scopes.
    public var entryCount: Int { buckets.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
