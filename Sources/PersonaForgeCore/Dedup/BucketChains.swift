/// The storage of ``InMemoryLSHIndex``: per band, an open-addressing hash
/// table from bucket key to the first and last record of a chain, and one
/// `next` link per (record, band) so that a bucket's records can be walked in
/// insertion order. Not generic, so it is compiled once, fully specialized.
///
/// Band keys are already avalanche-mixed 64-bit hashes, so their low bits
/// index the table directly (linear probing, load factor ≤ 0.5), which avoids
/// `Hasher` and `Dictionary` overhead.
struct BucketChains: Sendable {
    static let end = UInt32.max
    let bands: Int
    var tables: [BandTable]
    /// `next[record · bands + band]`: the next record in that band's bucket, or `end`.
    var next = ContiguousArray<UInt32>()

    init(bands: Int) {
        self.bands = bands
        tables = Array(repeating: BandTable(), count: bands)
    }

    mutating func append(record: UInt32, bandKeys: [UInt64]) {
        for band in 0..<bands {
            next.append(Self.end)
            if let previousLast = tables[band].append(record: record, key: bandKeys[band]) {
                next[Int(previousLast) * bands + band] = record
            }
        }
    }

    /// Calls `body` with the records in the bucket, earliest first, while it returns true.
    @inline(__always)
    func forEachRecord(band: Int, key: UInt64, _ body: (UInt32) -> Bool) {
        var record = tables[band].first(key: key)
        while record != Self.end {
            guard body(record) else { return }
            record = next[Int(record) * bands + band]
        }
    }

    /// Approximate heap bytes held (tables and links).
    var allocatedBytes: Int {
        tables.reduce(next.capacity * 4) { $0 + $1.capacity * 16 }
    }
}

/// One band's bucket table: linear probing over parallel arrays.
struct BandTable: Sendable {
    var keys = ContiguousArray<UInt64>(repeating: 0, count: 16)
    /// First record of each slot's chain, `BucketChains.end` for an empty slot.
    var firsts = ContiguousArray<UInt32>(repeating: BucketChains.end, count: 16)
    var lasts = ContiguousArray<UInt32>(repeating: 0, count: 16)
    var count = 0

    var capacity: Int { keys.count }

    /// The first record stored under `key`, or `BucketChains.end`.
    @inline(__always)
    func first(key: UInt64) -> UInt32 {
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let first = firsts[slot]
            if first == BucketChains.end || keys[slot] == key { return first }
            slot = (slot + 1) & mask
        }
    }

    /// Appends `record` to `key`'s chain; returns the chain's previous last record, if any.
    mutating func append(record: UInt32, key: UInt64) -> UInt32? {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            if firsts[slot] == BucketChains.end {
                keys[slot] = key
                firsts[slot] = record
                lasts[slot] = record
                count += 1
                return nil
            }
            if keys[slot] == key {
                let previous = lasts[slot]
                lasts[slot] = record
                return previous
            }
            slot = (slot + 1) & mask
        }
    }

    mutating func grow() {
        let old = self
        let capacity = old.keys.count * 2
        keys = ContiguousArray(repeating: 0, count: capacity)
        firsts = ContiguousArray(repeating: BucketChains.end, count: capacity)
        lasts = ContiguousArray(repeating: 0, count: capacity)
        let mask = capacity - 1
        for oldSlot in 0..<old.keys.count where old.firsts[oldSlot] != BucketChains.end {
            var slot = Int(truncatingIfNeeded: old.keys[oldSlot]) & mask
            while firsts[slot] != BucketChains.end { slot = (slot + 1) & mask }
            keys[slot] = old.keys[oldSlot]
            firsts[slot] = old.firsts[oldSlot]
            lasts[slot] = old.lasts[oldSlot]
        }
    }
}
