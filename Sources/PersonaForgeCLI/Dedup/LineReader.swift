#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file (or standard input) line by line in large chunks, without
/// holding more than the current line plus one chunk in memory.
struct LineReader: ~Copyable {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var reachedEOF = false
    /// Bytes consumed so far (lines plus their newlines), for progress.
    private(set) var bytesConsumed = 0
    /// Size of the input if it is a regular file.
    let totalBytes: Int?

    /// Opens `path` ("-" for standard input).
    init(path: String, chunkSize: Int = 1 << 20) throws {
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw DedupInputError("cannot open input '\(path)': \(String(cString: strerror(errno)))")
            }
            ownsDescriptor = true
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
            totalBytes = Int(status.st_size)
        } else {
            totalBytes = nil
        }
        buffer = .allocate(byteCount: chunkSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(descriptor) }
    }

    /// Calls `body` with the next line (without its `\n`), or returns nil at end of input.
    mutating func withNextLine<Result>(
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result? {
        var scanned = start
        while true {
            if let newline = firstNewline(from: scanned) {
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<newline])
                bytesConsumed += newline + 1 - start
                start = newline + 1
                return try body(line)
            }
            if reachedEOF {
                guard start < end else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                bytesConsumed += end - start
                start = end
                return try body(line)
            }
            let alreadyScanned = end - start
            try fill()  // moves the pending bytes to offset 0
            scanned = start + alreadyScanned
        }
    }

    private func firstNewline(from offset: Int) -> Int? {
        guard offset < end, let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + offset, 0x0A, end - offset) else { return nil }
        return base.distance(to: found)
    }

    /// Moves the partial line to the front, grows the buffer if the line fills it, and reads more.
    private mutating func fill() throws {
        if start > 0 {
            let pending = end - start
            if pending > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pending) }
            end = pending
            start = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        while true {
            let count = read(descriptor, buffer.baseAddress! + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw DedupInputError("cannot read input: \(String(cString: strerror(errno)))")
            }
            if count == 0 { reachedEOF = true }
            end += count
            return
        }
    }
}
