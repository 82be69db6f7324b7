extension LSHParameters {
    /// One 64-bit bucket key per band: band *j* hashes signature values
    /// `j·rows ..< (j+1)·rows` together with *j* (so equal values in different
    /// bands give different keys).
    ///
    /// Two signatures share band *j*'s key iff they agree on that band's values
    /// (up to 64-bit hash collisions). A persistent index stores one row
    /// `(band, key, record)` per band; keys are stable across machines.
    ///
    /// - Precondition: `signature.count >= bands × rows`.
    public func bandKeys(of signature: MinHashSignature) -> [UInt64] {
        precondition(signature.count >= bands * rows, "signature has fewer values than bands × rows")
        let rows = self.rows
        return signature.values.withUnsafeBufferPointer { values in
            (0..<bands).map { band in
                Self.bandKey(band: band, values: values.baseAddress! + band * rows, count: rows)
            }
        }
    }

    /// xxHash64's 4-byte tail step over the band's values, seeded with the band index.
    @inline(__always)
    static func bandKey(band: Int, values: UnsafePointer<UInt32>, count: Int) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: band) &+ XXHash64.prime5 &+ UInt64(truncatingIfNeeded: count * 4)
        for i in 0..<count {
            h ^= UInt64(values[i]) &* XXHash64.prime1
            h = XXHash64.rotateLeft(h, 23) &* XXHash64.prime2 &+ XXHash64.prime3
        }
        return XXHash64.avalanche(h)
    }
}
