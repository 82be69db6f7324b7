import Foundation

/// Reads one text file for ``RunConfigLoader``, within a byte budget, refusing what
/// is not a text file a run config can use: a directory, a file larger than the
/// budget (from `stat`, before anything is read), a line longer than the line
/// limit, a NUL byte, invalid UTF-8. Reads 1 MiB at a time and checks each line as
/// it arrives, so a 100 MB line costs about 2 MiB, a 10 GB file nothing, and a
/// device that never ends (`/dev/zero`) stops at the budget.
struct TextFileReader {
    /// Why a file was refused; lines are 1-based.
    enum Failure: Error, Equatable {
        case missing
        case directory
        case unreadable(String)
        /// Larger than the budget: `size` from `stat`, nil when found while reading.
        case tooLarge(size: Int?)
        case lineTooLong(line: Int)
        case nulByte(line: Int)
        case invalidUTF8(line: Int)
    }

    static let chunkBytes = 1 << 20

    /// The text of the file at `path`, at most `budget` bytes, each line at most
    /// `lineLimit` bytes (no line limit when nil).
    static func read(_ path: String, budget: Int, lineLimit: Int?) throws(Failure) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missing }
        if isDirectory.boolValue { throw .directory }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let isRegular = (attributes?[.type] as? FileAttributeType) == .typeRegular
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        if isRegular, size > budget { throw .tooLarge(size: size) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(FileManager.default.isReadableFile(atPath: path) ? "cannot open it" : "permission denied")
        }
        defer { try? handle.close() }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(isRegular ? size : 0)
        var lines = LineChecker(lineLimit: lineLimit)
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: chunkBytes) ?? Data()
            } catch {
                throw .unreadable("\(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            if bytes.count + chunk.count > budget { throw .tooLarge(size: nil) }
            bytes.append(contentsOf: chunk)
            try lines.check(bytes, atEnd: false)
        }
        try lines.check(bytes, atEnd: true)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks complete lines as they arrive: length, NUL, UTF-8.
    struct LineChecker {
        let lineLimit: Int?
        private(set) var lineNumber = 1
        private var lineStart = 0
        /// Bytes before this offset hold no NUL (an unfinished line is not searched twice).
        private var searchedForNUL = 0

        init(lineLimit: Int?) {
            self.lineLimit = lineLimit
        }

        mutating func check(_ bytes: [UInt8], atEnd: Bool) throws(Failure) {
            try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(Failure) in
                guard let base = buffer.baseAddress else { return }
                while lineStart < buffer.count {
                    let rest = buffer.count - lineStart
                    let newline = memchr(base + lineStart, 0x0A, rest).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) }
                    let end = newline ?? buffer.count
                    let from = max(lineStart, searchedForNUL)
                    if memchr(base + from, 0, end - from) != nil { throw .nulByte(line: lineNumber) }
                    searchedForNUL = end
                    if let lineLimit, end - lineStart > lineLimit { throw .lineTooLong(line: lineNumber) }
                    // An unfinished line waits for the next chunk.
                    if newline == nil, !atEnd { return }
                    let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<end])
                    if String(validating: line, as: UTF8.self) == nil { throw .invalidUTF8(line: lineNumber) }
                    lineStart = end + 1
                    lineNumber += 1
                }
            }
        }
    }
}
