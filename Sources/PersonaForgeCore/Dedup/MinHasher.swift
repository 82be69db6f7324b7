/// Computes MinHash signatures of texts over word n-gram shingles.
///
/// Pipeline, with no allocation per word or per shingle:
/// 1. ``WordNormalizer`` splits the UTF-8 bytes into lowercased words, and
///    each word is hashed once with ``XXHash64`` (seed 0).
/// 2. Each window of `ngramSize` consecutive word hashes is combined into one
///    64-bit shingle hash (an order-sensitive xxHash-style chain plus avalanche).
///    A document with fewer than `ngramSize` (but at least one) words has one
///    shingle made of all its words. A document with no words has no shingles
///    and gets ``MinHashSignature/empty(permutationCount:)``.
/// 3. Permutation *i* maps a shingle hash x to
///    `UInt32((aᵢ &* x &+ bᵢ) >> 32)` — multiply-shift hashing with random odd
///    64-bit aᵢ and random bᵢ drawn from a SplitMix64 stream seeded with
///    `seed` — and the signature keeps the minimum per permutation.
///
/// Everything is integer arithmetic with fixed constants, so the same text and
/// parameters give the same signature on every machine (golden-value tested).
public struct MinHasher: Sendable {
    /// The parameters every signature from this hasher is computed with.
    public let parameters: MinHashParameters
    /// Multipliers aᵢ (odd) and offsets bᵢ of the permutations.
    let multipliers: ContiguousArray<UInt64>
    let offsets: ContiguousArray<UInt64>

    /// Creates a hasher; the permutations are derived from `parameters.seed`.
    public init(parameters: MinHashParameters = .standard) {
        self.parameters = parameters
        var generator = SplitMix64(state: parameters.seed)
        var multipliers = ContiguousArray<UInt64>()
        var offsets = ContiguousArray<UInt64>()
        multipliers.reserveCapacity(parameters.permutationCount)
        offsets.reserveCapacity(parameters.permutationCount)
        for _ in 0..<parameters.permutationCount {
            multipliers.append(generator.next() | 1)
            offsets.append(generator.next())
        }
        self.multipliers = multipliers
        self.offsets = offsets
    }

    /// The signature of `text`.
    public func signature(of text: String) -> MinHashSignature {
        var text = text
        return text.withUTF8 { signature(ofUTF8: $0) }
    }

    /// The signature of UTF-8 bytes (invalid sequences separate words).
    public func signature(ofUTF8 text: UnsafeBufferPointer<UInt8>) -> MinHashSignature {
        let hashes = shingleHashes(ofUTF8: text)
        return signature(ofShingleHashes: hashes)
    }

    /// The 64-bit hashes of the shingles of `text`, in text order (with repeats).
    public func shingleHashes(of text: String) -> [UInt64] {
        var text = text
        return text.withUTF8 { Array(shingleHashes(ofUTF8: $0)) }
    }

    /// The shingles of `text` as space-joined normalized words, in text order.
    ///
    /// Slow (allocates per shingle); for inspection, tests and ground truth.
    public func shingles(of text: String) -> [String] {
        let words = WordNormalizer.words(of: text)
        let n = parameters.ngramSize
        guard !words.isEmpty else { return [] }
        guard words.count >= n else { return [words.joined(separator: " ")] }
        return (0...(words.count - n)).map { words[$0..<($0 + n)].joined(separator: " ") }
    }

    /// The normalized words of `text` (see ``WordNormalizer``).
    public func normalizedWords(of text: String) -> [String] {
        WordNormalizer.words(of: text)
    }

    func shingleHashes(ofUTF8 text: UnsafeBufferPointer<UInt8>) -> ContiguousArray<UInt64> {
        var sink = WordHashSink(hashes: [])
        sink.hashes.reserveCapacity(text.count / 5 + 1)
        WordNormalizer.forEachWord(in: text, into: &sink)
        let words = sink.hashes
        let n = parameters.ngramSize
        guard !words.isEmpty else { return [] }
        let windowCount = words.count >= n ? words.count - n + 1 : 1
        let window = min(n, words.count)
        return words.withUnsafeBufferPointer { w in
            ContiguousArray(unsafeUninitializedCapacity: windowCount) { out, initialized in
                for start in 0..<windowCount {
                    out[start] = Self.combine(w.baseAddress! + start, count: window)
                }
                initialized = windowCount
            }
        }
    }

    /// Combines `count` word hashes into one order-sensitive shingle hash.
    @inline(__always)
    static func combine(_ words: UnsafePointer<UInt64>, count: Int) -> UInt64 {
        var acc = XXHash64.prime5 &+ UInt64(truncatingIfNeeded: count)
        for i in 0..<count {
            acc ^= words[i]
            acc = XXHash64.rotateLeft(acc, 27) &* XXHash64.prime1 &+ XXHash64.prime4
        }
        return XXHash64.avalanche(acc)
    }

    /// The signature of a set of shingle hashes (repeats do not matter).
    public func signature(ofShingleHashes hashes: [UInt64]) -> MinHashSignature {
        hashes.withUnsafeBufferPointer { signature(ofShingleHashes: $0) }
    }

    func signature(ofShingleHashes hashes: ContiguousArray<UInt64>) -> MinHashSignature {
        hashes.withUnsafeBufferPointer { signature(ofShingleHashes: $0) }
    }

    func signature(ofShingleHashes xs: UnsafeBufferPointer<UInt64>) -> MinHashSignature {
        let k = parameters.permutationCount
        guard !xs.isEmpty else { return .empty(permutationCount: k) }
        let values = multipliers.withUnsafeBufferPointer { a in
            offsets.withUnsafeBufferPointer { b in
                [UInt32](unsafeUninitializedCapacity: k) { out, initialized in
                    Self.minimums(xs, a, b, into: out)
                    initialized = k
                }
            }
        }
        return MinHashSignature(values: values)
    }

    /// The hot loop: four permutations at a time, each shingle hash loaded once per block.
    @inline(__always)
    static func minimums(
        _ xs: UnsafeBufferPointer<UInt64>,
        _ a: UnsafeBufferPointer<UInt64>,
        _ b: UnsafeBufferPointer<UInt64>,
        into out: UnsafeMutableBufferPointer<UInt32>
    ) {
        let k = a.count
        var j = 0
        while j + 4 <= k {
            let a0 = a[j], a1 = a[j + 1], a2 = a[j + 2], a3 = a[j + 3]
            let b0 = b[j], b1 = b[j + 1], b2 = b[j + 2], b3 = b[j + 3]
            var m0 = UInt64.max, m1 = UInt64.max, m2 = UInt64.max, m3 = UInt64.max
            // min(top 32 bits) == top 32 bits of min, so the shift waits until the end.
            for x in xs {
                m0 = min(m0, a0 &* x &+ b0)
                m1 = min(m1, a1 &* x &+ b1)
                m2 = min(m2, a2 &* x &+ b2)
                m3 = min(m3, a3 &* x &+ b3)
            }
            out[j] = UInt32(truncatingIfNeeded: m0 &>> 32)
            out[j + 1] = UInt32(truncatingIfNeeded: m1 &>> 32)
            out[j + 2] = UInt32(truncatingIfNeeded: m2 &>> 32)
            out[j + 3] = UInt32(truncatingIfNeeded: m3 &>> 32)
            j += 4
        }
        while j < k {
            let aj = a[j], bj = b[j]
            var m = UInt64.max
            for x in xs { m = min(m, aj &* x &+ bj) }
            out[j] = UInt32(truncatingIfNeeded: m &>> 32)
            j += 1
        }
    }
}
