/// A MinHash signature: for each permutation, the minimum permuted 32-bit hash
/// over a document's shingles.
///
/// The fraction of positions where two signatures agree estimates the Jaccard
/// similarity of the two shingle sets (standard error ≈ 1/√k).
///
/// Byte format (``bytes`` / ``init(bytes:)``): the k values as little-endian
/// `UInt32`, in permutation order, nothing else — 512 bytes for k = 128. The
/// parameters (n-gram size, k, seed) are not stored; keep them alongside.
///
/// A document without words has the *empty signature* (every value
/// `UInt32.max`); two empty documents estimate as identical (similarity 1).
public struct MinHashSignature: Sendable, Hashable {
    /// One minimum per permutation.
    public var values: [UInt32]

    /// Wraps existing minimum values.
    public init(values: [UInt32]) {
        self.values = values
    }

    /// The signature of a document without words, for `permutationCount` permutations.
    public static func empty(permutationCount: Int) -> MinHashSignature {
        MinHashSignature(values: Array(repeating: .max, count: permutationCount))
    }

    /// The number of permutations.
    public var count: Int { values.count }

    /// Whether this is the signature of a document without words.
    public var isEmptySet: Bool { values.allSatisfy { $0 == .max } }

    /// Estimated Jaccard similarity: the fraction of equal positions, in 0...1.
    ///
    /// - Precondition: both signatures have the same number of values.
    public func estimatedJaccard(with other: MinHashSignature) -> Double {
        precondition(values.count == other.values.count, "signatures of different lengths are not comparable")
        guard !values.isEmpty else { return 1 }
        let equal = values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                var equal = 0
                for i in 0..<a.count where a[i] == b[i] { equal &+= 1 }
                return equal
            }
        }
        return Double(equal) / Double(values.count)
    }

    /// The compact serialized form: k little-endian `UInt32` values.
    public var bytes: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let le = value.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: le))
            bytes.append(UInt8(truncatingIfNeeded: le >> 8))
            bytes.append(UInt8(truncatingIfNeeded: le >> 16))
            bytes.append(UInt8(truncatingIfNeeded: le >> 24))
        }
        return bytes
    }

    /// Reads the form written by ``bytes``.
    ///
    /// - Throws: `MinHashSignatureFormatError` if the length is not a multiple of 4
    ///   or does not match `expectedCount` when given.
    public init(bytes: some Collection<UInt8>, expectedCount: Int? = nil) throws {
        guard bytes.count % 4 == 0 else {
            throw MinHashSignatureFormatError(
                message: "signature has \(bytes.count) bytes, not a multiple of 4 (k little-endian UInt32 values)")
        }
        if let expectedCount, bytes.count != expectedCount * 4 {
            throw MinHashSignatureFormatError(
                message: "signature has \(bytes.count / 4) values but \(expectedCount) permutations were expected; "
                    + "was it computed with other MinHash parameters?")
        }
        let count = bytes.count / 4
        // Contiguous bytes (an array, Data, a slice): unaligned little-endian loads. The
        // element-by-element loop below is unspecialized across modules and cost the
        // reducer 10 % of its CPU reading candidate signatures.
        if let loaded = bytes.withContiguousStorageIfAvailable({ buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            return [UInt32](unsafeUninitializedCapacity: count) { values, initialized in
                for index in 0..<count {
                    values[index] = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
                }
                initialized = count
            }
        }) {
            self.values = loaded
            return
        }
        var values = [UInt32]()
        values.reserveCapacity(count)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next(), let b1 = iterator.next(), let b2 = iterator.next(), let b3 = iterator.next() {
            values.append(UInt32(b0) | UInt32(b1) << 8 | UInt32(b2) << 16 | UInt32(b3) << 24)
        }
        self.values = values
    }
}

/// Serialized signature bytes that cannot be read back.
public struct MinHashSignatureFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the bytes.
    public var message: String
    public var description: String { message }
}
