/// One field of a result row, in PostgreSQL's text format.
///
/// The typed accessors parse the text form and return nil for SQL NULL or
/// for text that does not parse as the requested type.
public struct PostgresCell: Sendable, Hashable, CustomStringConvertible {
    /// The field's text, or nil for SQL NULL.
    public let string: String?

    /// Wraps a field's text (nil for NULL).
    public init(_ string: String?) {
        self.string = string
    }

    /// Whether the field is SQL NULL.
    public var isNull: Bool { string == nil }

    /// The field as a 64-bit integer (`bigint`, `integer`, `smallint`).
    public var int64: Int64? { string.flatMap { Int64($0) } }

    /// The field as an `Int`.
    public var int: Int? { string.flatMap { Int($0) } }

    /// The field as a `Double` (`double precision`, `real`, `numeric`).
    public var double: Double? { string.flatMap { Double($0) } }

    /// The field as a `Bool`: PostgreSQL writes `boolean` as `t` / `f`.
    public var bool: Bool? {
        switch string {
        case "t", "true", "TRUE", "on", "1": true
        case "f", "false", "FALSE", "off", "0": false
        default: nil
        }
    }

    /// The field's bytes when it is a `bytea` in hex output format (`\x0a1b…`).
    public var bytes: [UInt8]? {
        guard let string else { return nil }
        let utf8 = Array(string.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
              utf8.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    public var description: String { string ?? "NULL" }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
