internal import CZlib

/// The single owner of one zlib deflate `z_stream` (raw DEFLATE or gzip framing).
///
/// `DeflateCounter` never mutates an instance that another counter shares
/// (copy-on-write through `copy()`), and `GzipEncoder` is non-copyable, so an
/// instance is never mutated concurrently.
final class DeflateStream: @unchecked Sendable {
    // @unchecked: the z_stream is mutated only through `DeflateCounter`'s
    // mutating methods after an `isKnownUniquelyReferenced` check (or on a
    // fresh private copy), or by the one `GzipEncoder` (non-copyable) that owns
    // it, so no two threads can touch the same stream.
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 64 * 1024)
    let level: Int32

    /// The framing of the compressed bytes.
    enum Format {
        /// RFC 1951 DEFLATE, no header or trailer.
        case raw
        /// RFC 1952 gzip: header, DEFLATE, CRC-32 and size trailer.
        case gzip
    }

    init(level: Int32, format: Format = .raw) {
        self.level = level
        let status = format == .raw ? CZlib_deflateInitRaw(&stream, level) : CZlib_deflateInitGzip(&stream, level)
        precondition(status == Z_OK, "deflateInit2 failed with status \(status) (out of memory?)")
    }

    private init(copying other: DeflateStream) {
        level = other.level
        let status = deflateCopy(&stream, &other.stream)
        precondition(status == Z_OK, "deflateCopy failed with status \(status) (out of memory?)")
    }

    deinit {
        deflateEnd(&stream)
    }

    /// A new, independent stream in exactly this stream's state.
    func copy() -> DeflateStream {
        DeflateStream(copying: self)
    }

    /// Deflates `input` (Z_NO_FLUSH, or Z_FINISH when `finish`) and hands every
    /// produced chunk to `sink` before the buffer is reused.
    func deflate(_ input: UnsafeRawBufferPointer, finish: Bool, sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        defer { stream.next_in = nil }
        // zlib never writes through next_in; the cast only satisfies its non-const API.
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        try output.withUnsafeMutableBytes { buffer in
            let base = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            while true {
                stream.next_out = base
                stream.avail_out = uInt(buffer.count)
                let status = CZlib.deflate(&stream, flush)
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
                             "deflate failed with status \(status)")
                let produced = buffer.count - Int(stream.avail_out)
                if produced > 0 {
                    try sink(UnsafeRawBufferPointer(start: base, count: produced))
                }
                if finish {
                    if status == Z_STREAM_END { break }
                } else if stream.avail_in == 0 && stream.avail_out != 0 {
                    break
                }
            }
        }
    }
}
