/// An ``LSHIndex`` held in process memory: per band, a hash table from bucket
/// key to a chain of records in insertion order.
///
/// Memory per record is about `4·k` bytes of signature plus ~30 bytes per band
/// plus the key (see docs/dedup.md for measured capacity per GiB). Handles up
/// to 2³² − 1 records.
public struct InMemoryLSHIndex<Key: Hashable & Sendable>: LSHIndex, Sendable {
    public let parameters: LSHParameters
    /// Values per stored signature, fixed by the first record.
    public private(set) var signatureLength: Int?
    var keys: [Key] = []
    /// All signatures back to back, `signatureLength` values each.
    var signatures = ContiguousArray<UInt32>()
    var buckets: BucketChains

    /// An empty index with the given layout and threshold.
    public init(parameters: LSHParameters) {
        self.parameters = parameters
        buckets = BucketChains(bands: parameters.bands)
    }

    /// Number of records stored.
    public var count: Int { keys.count }

    public func candidates(forBandKeys bandKeys: [UInt64]) -> [LSHEntry<Key>] {
        var records = Set<UInt32>()
        for (band, bandKey) in bandKeys.enumerated() {
            buckets.forEachRecord(band: band, key: bandKey) { record in
                records.insert(record)
                return true
            }
        }
        return records.sorted().map { LSHEntry(key: keys[Int($0)], signature: signature(ofRecord: $0)) }
    }

    public mutating func store(_ entry: LSHEntry<Key>, bandKeys: [UInt64]) {
        append(entry.key, entry.signature, bandKeys)
    }

    /// Same decision as the protocol's default, without materializing candidates:
    /// each band's chain is walked in insertion order and stops at its first
    /// confirmed record or once it passes the best record found so far.
    public mutating func insert(_ key: Key, signature: MinHashSignature) -> DedupDecision<Key> {
        let bandKeys = parameters.bandKeys(of: signature)
        if let signatureLength {
            precondition(signature.count == signatureLength, "signature length differs from the index's")
        }
        var best: (record: UInt32, similarity: Double)?
        let threshold = parameters.threshold
        let length = signature.count
        signature.values.withUnsafeBufferPointer { query in
            signatures.withUnsafeBufferPointer { stored in
                for (band, bandKey) in bandKeys.enumerated() {
                    buckets.forEachRecord(band: band, key: bandKey) { record in
                        if let best, record >= best.record { return false }
                        let similarity = Self.similarity(query, stored, record: Int(record), length: length)
                        if similarity >= threshold {
                            best = (record, similarity)
                            return false
                        }
                        return true
                    }
                }
            }
        }
        append(key, signature, bandKeys)
        guard let best else { return .unique }
        return .duplicate(of: keys[Int(best.record)], similarity: best.similarity)
    }

    @inline(__always)
    static func similarity(
        _ query: UnsafeBufferPointer<UInt32>, _ stored: UnsafeBufferPointer<UInt32>, record: Int, length: Int
    ) -> Double {
        let base = record * length
        var equal = 0
        for i in 0..<length where query[i] == stored[base + i] { equal &+= 1 }
        return Double(equal) / Double(length)
    }

    func signature(ofRecord record: UInt32) -> MinHashSignature {
        let length = signatureLength ?? 0
        let start = Int(record) * length
        return MinHashSignature(values: Array(signatures[start..<(start + length)]))
    }

    mutating func append(_ key: Key, _ signature: MinHashSignature, _ bandKeys: [UInt64]) {
        precondition(keys.count < Int(UInt32.max), "InMemoryLSHIndex holds at most 2^32 - 1 records")
        precondition(bandKeys.count == parameters.bands, "expected one key per band")
        if signatureLength == nil { signatureLength = signature.count }
        precondition(signature.count == signatureLength, "signature length differs from the index's")
        let record = UInt32(keys.count)
        keys.append(key)
        signatures.append(contentsOf: signature.values)
        buckets.append(record: record, bandKeys: bandKeys)
    }
}
