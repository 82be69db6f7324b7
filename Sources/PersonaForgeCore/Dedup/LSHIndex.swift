/// A MinHash LSH band index: the seam between the pure dedup logic and where
/// band buckets live (memory here; a PostgreSQL band table in the reducer).
///
/// An index stores, per record, its key, its signature and its band keys
/// (``LSHParameters/bandKeys(of:)``: one row `(band, bucket key, record key)`
/// per band in a table). Semantics are "first seen wins": a record is a
/// near-duplicate if its estimated Jaccard similarity with *any* earlier
/// record reaches the threshold, and it refers to the earliest such candidate.
/// Every record is stored, duplicates included, so later records are compared
/// against all earlier ones.
///
/// Implement ``candidates(forBandKeys:)`` and ``store(_:bandKeys:)``; the
/// default ``insert(_:signature:)`` does the rest. An implementation may
/// override `insert` for speed if it keeps the same decisions.
public protocol LSHIndex<Key> {
    /// What identifies a record (a line number, a UUID, a database id).
    associatedtype Key: Hashable & Sendable

    /// Band layout and similarity threshold.
    var parameters: LSHParameters { get }

    /// The stored entries that share at least one band key with `bandKeys`
    /// (same band, same key), each once, earliest stored first.
    func candidates(forBandKeys bandKeys: [UInt64]) throws -> [LSHEntry<Key>]

    /// Stores `entry` under its band keys, after every entry stored so far.
    mutating func store(_ entry: LSHEntry<Key>, bandKeys: [UInt64]) throws

    /// Decides whether the record is a near-duplicate of an earlier one, then stores it.
    mutating func insert(_ key: Key, signature: MinHashSignature) throws -> DedupDecision<Key>
}

extension LSHIndex {
    /// Queries candidates, confirms them with ``DedupDecision/firstMatch(for:among:threshold:)``
    /// and stores the record.
    public mutating func insert(_ key: Key, signature: MinHashSignature) throws -> DedupDecision<Key> {
        let bandKeys = parameters.bandKeys(of: signature)
        let decision = DedupDecision.firstMatch(
            for: signature, among: try candidates(forBandKeys: bandKeys), threshold: parameters.threshold)
        try store(LSHEntry(key: key, signature: signature), bandKeys: bandKeys)
        return decision
    }
}

/// A record as an LSH index holds it.
public struct LSHEntry<Key: Hashable & Sendable>: Sendable, Hashable {
    /// The record's identity.
    public var key: Key
    /// The record's MinHash signature, used to confirm candidates.
    public var signature: MinHashSignature

    /// Creates an entry.
    public init(key: Key, signature: MinHashSignature) {
        self.key = key
        self.signature = signature
    }
}
