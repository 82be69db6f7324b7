/// Encodes rows into PostgreSQL's COPY text format, working on UTF-8 bytes.
///
/// Fields are separated by a tab and rows end with a newline; inside a field
/// backslash, tab, newline and carriage return are written as `\\`, `\t`,
/// `\n`, `\r`, and SQL NULL is written as `\N` (so the four characters `\N`
/// in a string arrive as `\\N` and stay a string). NUL cannot be represented
/// in PostgreSQL text; ``validate(_:columnCount:rowNumber:)`` rejects it
/// before anything is encoded.
struct CopyTextEncoder {
    /// The encoded bytes not yet handed to libpq.
    private(set) var bytes: [UInt8] = []
    /// Once ``bytes`` holds at least this many bytes, ``isChunkFull`` is true.
    let chunkSize: Int

    init(chunkSize: Int = 256 * 1024) {
        self.chunkSize = chunkSize
        bytes.reserveCapacity(chunkSize + chunkSize / 4)
    }

    /// Whether the buffer should be sent now.
    var isChunkFull: Bool { bytes.count >= chunkSize }

    /// Empties the buffer, keeping its capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Checks that a row can be encoded: it has `columnCount` fields and none
    /// contains U+0000.
    static func validate(_ row: [String?], columnCount: Int, rowNumber: Int) throws(PostgresError) {
        guard row.count == columnCount else {
            throw PostgresError(
                code: .invalidArgument,
                message: "COPY row \(rowNumber) has \(row.count) fields but \(columnCount) columns were named; nothing was sent"
            )
        }
        for (column, field) in row.enumerated() {
            guard var field else { continue }
            if field.withUTF8({ $0.contains(0) }) {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "COPY row \(rowNumber), field \(column + 1) contains a NUL character (U+0000), "
                        + "which PostgreSQL text cannot store; remove or replace it (nothing was sent)"
                )
            }
        }
    }

    /// Appends one row. The row must have passed ``validate(_:columnCount:rowNumber:)``.
    mutating func append(_ row: [String?]) {
        for (index, field) in row.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "\t")) }
            if var field {
                field.withUTF8 { appendEscaped($0) }
            } else {
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "N"))
            }
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    private mutating func appendEscaped(_ field: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var index = 0
        let count = field.count
        while index < count {
            let byte = field[index]
            // Fast path: everything above CR except the backslash is copied as is.
            if byte > 0x0D && byte != 0x5C {
                index += 1
                continue
            }
            let escaped: UInt8
            switch byte {
            case 0x5C: escaped = UInt8(ascii: "\\")
            case 0x09: escaped = UInt8(ascii: "t")
            case 0x0A: escaped = UInt8(ascii: "n")
            case 0x0D: escaped = UInt8(ascii: "r")
            default:
                index += 1
                continue
            }
            if runStart < index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: field[runStart..<index]))
            }
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(escaped)
            index += 1
            runStart = index
        }
        if runStart < count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: field[runStart..<count]))
        }
    }
}
