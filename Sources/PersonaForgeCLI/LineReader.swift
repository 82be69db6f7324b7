import Foundation

/// Reads a file (or standard input) line by line in 64 KiB chunks, so any
/// file size streams in constant memory. Lines end at `\n`; a trailing `\r`
/// is dropped.
struct LineReader {
    private let handle: FileHandle
    private let closesHandle: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var reachedEnd = false

    /// Opens `path`, or standard input for `-`.
    init(path: String) throws(MetricsInputError) {
        if path == "-" {
            handle = FileHandle.standardInput
            closesHandle = false
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw MetricsInputError(location: path, message: "cannot open the file for reading; check the path and permissions")
            }
            handle = opened
            closesHandle = true
        }
    }

    /// The next line without its terminator, or nil at the end of input.
    mutating func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = buffer[start..<newline]
                start = newline + 1
                if line.last == 0x0D { line = line.dropLast() }
                return line
            }
            if reachedEnd {
                guard start < buffer.count else { return nil }
                var line = buffer[start...]
                start = buffer.count
                if line.last == 0x0D { line = line.dropLast() }
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            if let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                buffer.append(contentsOf: chunk)
            } else {
                reachedEnd = true
                if closesHandle { try? handle.close() }
            }
        }
    }
}
