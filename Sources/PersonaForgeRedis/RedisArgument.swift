/// A value that can be sent as one argument of a Redis command.
///
/// Arguments are sent as length-prefixed bytes, so any byte sequence is allowed.
public protocol RedisArgument: Sendable {
    /// Appends the argument's bytes to `buffer`.
    func appendRedisBytes(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Int: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Int64: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension UInt64: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

/// One command: its arguments flattened into a single byte buffer with offsets, so that
/// sending it costs one allocation however many arguments it has.
public struct RedisCommand: Sendable {
    var bytes: [UInt8] = []
    var lengths: [Int] = []

    public init(_ arguments: [any RedisArgument]) {
        bytes.reserveCapacity(64)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            let before = bytes.count
            argument.appendRedisBytes(to: &bytes)
            lengths.append(bytes.count - before)
        }
    }

    public init(_ arguments: any RedisArgument...) {
        self.init(arguments)
    }

    /// Number of arguments, the command name included.
    public var count: Int { lengths.count }

    /// The command name, for error messages (never the arguments, which may hold secrets).
    public var name: String {
        String(decoding: bytes.prefix(lengths.first ?? 0), as: UTF8.self).uppercased()
    }
}
