/// Counts the bytes a raw DEFLATE stream (RFC 1951, zlib, 32 KiB window,
/// memory level 8, default strategy) produces for everything fed to it, in
/// constant memory.
///
/// A value type: copies are independent (copy-on-write via `deflateCopy`), so
/// `finishedByteCount()` can report the size "if the stream ended now" while
/// the original keeps accumulating.
public struct DeflateCounter: Sendable {
    private var stream: DeflateStream
    /// Bytes fed in so far.
    public private(set) var inputByteCount = 0
    /// Compressed bytes produced so far (excluding what zlib still buffers).
    public private(set) var outputByteCount = 0

    /// A counter for a fresh stream at `level` (0...9; 9 is what Python's
    /// `gzip.compress` uses by default).
    public init(level: Int = 9) {
        precondition((0...9).contains(level), "deflate level must be in 0...9, got \(level)")
        stream = DeflateStream(level: Int32(level))
    }

    /// Feeds `bytes` to the stream and passes the compressed output produced
    /// now to `output` (it is valid only during the call).
    public mutating func compress(_ bytes: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        makeUnique()
        inputByteCount += bytes.count
        var produced = 0
        stream.deflate(bytes, finish: false) { chunk in
            produced += chunk.count
            output(chunk)
        }
        outputByteCount += produced
    }

    /// Feeds `bytes` to the stream.
    public mutating func compress(_ bytes: some Sequence<UInt8>, output: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            compress(UnsafeRawBufferPointer(buffer), output: output)
        }
        if handled == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { compress($0, output: output) }
        }
    }

    /// Ends the stream: flushes everything zlib buffers to `output`. The
    /// counter then reports the final size; feeding it more is a programming
    /// error.
    public mutating func finish(output: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        makeUnique()
        var produced = 0
        stream.deflate(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { chunk in
            produced += chunk.count
            output(chunk)
        }
        outputByteCount += produced
    }

    /// The total compressed size if the stream were finished now; `self` is
    /// left unchanged.
    public func finishedByteCount() -> Int {
        var copy = self
        copy.finish()
        return copy.outputByteCount
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&stream) {
            stream = stream.copy()
        }
    }
}
