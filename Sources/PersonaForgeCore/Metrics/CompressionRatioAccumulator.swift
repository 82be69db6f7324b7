import PersonaForgeCompression

/// The gzip compression ratio of the records joined with single spaces,
/// computed incrementally in constant memory, byte-for-byte the way the
/// reference `diversity.compression_ratio(texts, "gzip")` computes it.
///
/// The reference writes `" ".join(texts)` (UTF-8) to a file — the original
/// size — and writes `gzip.compress(joined)` (level 9) *through a
/// `GzipFile("compressed.gz")`*, so its compressed size is that of a gzip file
/// (10-byte header + `"compressed\0"` + 8-byte trailer) whose payload is a
/// second level-9 deflate of the inner gzip member. This type streams both:
/// the inner deflate's output is fed to the outer deflate as it is produced,
/// and `referenceCompressedByteCount()` finishes copies of both streams
/// (the inner header uses mtime 0; the reference's mtime is the wall clock,
/// which can change the size by a byte or so). `singleGzipByteCount()` is the
/// plain one-pass gzip size.
///
/// A deflate stream cannot be merged or serialized: `merge` and decoding keep
/// the finished sizes so far and continue in fresh streams, so the result
/// equals compressing the segments independently (each restarts the 32 KiB
/// window and repeats the 47 bytes of gzip framing). The joining space between
/// segments is counted in the original size only.
public struct CompressionRatioAccumulator: Sendable {
    private var inner = DeflateCounter(level: 9)
    private var outer = DeflateCounter(level: 9)
    private var checksum = CRC32()
    private var segmentInputBytes = 0
    private var segmentRecords = 0
    /// Sizes carried over from merged or decoded segments.
    private var carried = Carried()

    private struct Carried: Sendable, Hashable, Codable {
        var records = 0
        var inputBytes = 0
        var referenceBytes = 0
        var singleGzipBytes = 0
    }

    /// gzip header (RFC 1952) of `gzip.compress` at level 9 with mtime 0.
    private static let innerHeader: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xFF]
    /// Header, file name and trailer bytes of the reference's outer `GzipFile`.
    private static let outerFramingBytes = 10 + "compressed".utf8.count + 1 + 8

    /// Nothing compressed yet.
    public init() {
        Self.innerHeader.withUnsafeBytes { outer.compress($0) }
    }

    /// Records added so far.
    public var recordCount: Int { carried.records + segmentRecords }

    /// Bytes of the joined texts so far (UTF-8, with the joining spaces).
    public var originalByteCount: Int { carried.inputBytes + segmentInputBytes }

    /// Appends one record (preceded by a space unless it is the first).
    public mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add($0) }
    }

    /// Appends one record given as its UTF-8 bytes.
    public mutating func add(_ utf8: UnsafeBufferPointer<UInt8>) {
        if recordCount > 0 { feed([0x20]) }
        segmentRecords += 1
        feed(UnsafeRawBufferPointer(utf8))
    }

    private mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        segmentInputBytes += bytes.count
        checksum.update(bytes)
        var produced: [UInt8] = []
        inner.compress(bytes) { chunk in produced.append(contentsOf: chunk) }
        if !produced.isEmpty {
            produced.withUnsafeBytes { outer.compress($0) }
        }
    }

    /// The reference's compressed size: the double-gzip file (see the type's docs).
    public func referenceCompressedByteCount() -> Int {
        guard segmentRecords > 0 else { return carried.referenceBytes }
        var inner = self.inner
        var outer = self.outer
        inner.finish { chunk in outer.compress(chunk) }
        var trailer: [UInt8] = []
        for value in [checksum.value, UInt32(truncatingIfNeeded: segmentInputBytes)] {
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        trailer.withUnsafeBytes { outer.compress($0) }
        outer.finish()
        return carried.referenceBytes + outer.outputByteCount + Self.outerFramingBytes
    }

    /// The size of one plain gzip member (level 9) of the joined texts.
    public func singleGzipByteCount() -> Int {
        guard segmentRecords > 0 else { return carried.singleGzipBytes }
        return carried.singleGzipBytes + inner.finishedByteCount() + Self.innerHeader.count + 8
    }

    /// The reference's `compression_ratio` (unrounded): original / compressed; 0 when empty.
    public var ratio: Double {
        let compressed = referenceCompressedByteCount()
        return compressed == 0 ? 0 : Double(originalByteCount) / Double(compressed)
    }

    /// Original size over the plain one-pass gzip size; 0 when empty.
    public var singleGzipRatio: Double {
        let compressed = singleGzipByteCount()
        return compressed == 0 ? 0 : Double(originalByteCount) / Double(compressed)
    }

    /// Appends `other`'s segment(s) after this one (see the type's docs).
    public mutating func merge(_ other: CompressionRatioAccumulator) {
        guard other.recordCount > 0 else { return }
        let joiner = recordCount > 0 ? 1 : 0
        var merged = Carried()
        merged.records = recordCount + other.recordCount
        merged.inputBytes = originalByteCount + joiner + other.originalByteCount
        merged.referenceBytes = referenceCompressedByteCount() + other.referenceCompressedByteCount()
        merged.singleGzipBytes = singleGzipByteCount() + other.singleGzipByteCount()
        self = CompressionRatioAccumulator()
        carried = merged
    }
}

extension CompressionRatioAccumulator: Codable {
    private enum CodingKeys: String, CodingKey {
        case records, originalBytes, referenceCompressedBytes, singleGzipBytes
    }

    /// Restores the finished sizes; later records continue in a new segment.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        carried.records = try container.decode(Int.self, forKey: .records)
        carried.inputBytes = try container.decode(Int.self, forKey: .originalBytes)
        carried.referenceBytes = try container.decode(Int.self, forKey: .referenceCompressedBytes)
        carried.singleGzipBytes = try container.decode(Int.self, forKey: .singleGzipBytes)
    }

    /// Stores the sizes as if the stream ended now.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(recordCount, forKey: .records)
        try container.encode(originalByteCount, forKey: .originalBytes)
        try container.encode(referenceCompressedByteCount(), forKey: .referenceCompressedBytes)
        try container.encode(singleGzipByteCount(), forKey: .singleGzipBytes)
    }
}
