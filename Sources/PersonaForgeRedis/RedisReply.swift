/// A Redis reply, copied out of hiredis into Swift values.
///
/// Bulk strings are raw bytes: Redis is binary-safe and so is this type (NUL bytes
/// and invalid UTF-8 survive a round trip).
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// The bytes of a bulk string or status, else nil.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// A bulk string or status decoded as UTF-8 (invalid sequences repaired), else nil.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply, else nil.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// A flat `[key, value, key, value, …]` array reply (XINFO GROUPS / CONSUMERS
    /// entries, HGETALL in RESP2) as a map; nil when this is not an array. A key
    /// without a string form (see ``string``) and a trailing unpaired element are skipped.
    public var fieldMap: [String: RedisReply]? {
        guard let elements = array else { return nil }
        var map: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < elements.count {
            if let key = elements[index].string { map[key] = elements[index + 1] }
            index += 2
        }
        return map
    }
}
