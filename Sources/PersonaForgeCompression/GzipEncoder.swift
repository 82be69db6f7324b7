/// A streaming gzip (RFC 1952) encoder: feed it bytes in pieces of any size and
/// it hands back the compressed bytes as they are produced, in constant memory
/// (one zlib stream, a 64 KiB output buffer), so a writer can compress a file
/// of any size on the way to disk.
///
/// The output is one gzip member that `gzip -d`, Python's `gzip` module and
/// every other gzip reader accept: zlib writes the header (mtime 0, no file
/// name, so the same input gives the same bytes) and the CRC-32 / size trailer.
///
/// ```swift
/// var encoder = GzipEncoder()
/// try encoder.compress(Array("hello\n".utf8)) { chunk in try file.write(chunk) }
/// try encoder.finish { chunk in try file.write(chunk) }
/// ```
///
/// Non-copyable: it owns its zlib stream, which must not be shared.
public struct GzipEncoder: ~Copyable {
    private let stream: DeflateStream
    private var finished = false
    /// Uncompressed bytes fed so far.
    public private(set) var inputByteCount = 0
    /// Compressed bytes handed out so far (header and trailer included once finished).
    public private(set) var outputByteCount = 0

    /// An encoder at compression `level` (0...9; 6 is gzip's default).
    public init(level: Int = 6) {
        precondition((0...9).contains(level), "gzip level must be in 0...9, got \(level)")
        stream = DeflateStream(level: Int32(level), format: .gzip)
    }

    /// Compresses `bytes` and passes the output produced now to `output`
    /// (valid only during the call; zlib may buffer, so it may not be called).
    public mutating func compress(_ bytes: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        precondition(!finished, "GzipEncoder.compress after finish")
        inputByteCount += bytes.count
        var produced = 0
        try stream.deflate(bytes, finish: false) { chunk in
            produced += chunk.count
            try output(chunk)
        }
        outputByteCount += produced
    }

    /// Compresses `bytes`.
    public mutating func compress(_ bytes: [UInt8], output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { try compress($0, output: output) }
    }

    /// Ends the member: passes everything zlib still buffers and the trailer to
    /// `output`. Feeding the encoder afterwards is a programming error.
    public mutating func finish(output: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        precondition(!finished, "GzipEncoder.finish called twice")
        finished = true
        var produced = 0
        try stream.deflate(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { chunk in
            produced += chunk.count
            try output(chunk)
        }
        outputByteCount += produced
    }
}
