/// A failure talking to Redis, with a message a user can act on.
///
/// Messages never contain the password of the connection URL.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The URL could not be parsed.
        case invalidURL
        /// Nothing accepts connections at the address, or the host does not resolve.
        case unreachable
        /// Connecting or waiting for a reply took longer than the configured timeout.
        case timeout
        /// The connection broke (I/O error, server closed it); the next command reconnects.
        case connectionLost
        /// The server rejected the credentials.
        case authenticationFailed
        /// The server requires a password and none was given.
        case authenticationRequired
        /// The server answered a command with an error reply (see ``RedisError/serverCode``).
        case server
        /// The reply could not be understood, or a helper got a reply of an unexpected shape.
        case protocolError
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// For ``Code/server`` errors, the first word of the server's reply: `ERR`, `WRONGTYPE`,
    /// `NOGROUP`, `BUSYGROUP`, `NOAUTH`, `WRONGPASS`, ...
    public var serverCode: String? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String { "redis: \(message)" }
}
