/// Where and how to connect to Redis.
///
/// Built from a URL of the form `redis://[[username]:password@]host[:port][/db]`
/// (the form of `PERSONAFORGE_REDIS_URL`), or field by field.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// Limit for establishing the TCP connection.
    public var connectTimeout: Duration
    /// Socket read/write limit for each command. A blocking command (`XREADGROUP BLOCK`,
    /// `BLPOP`) must block for less than this, or pass its own timeout to
    /// ``RedisConnection/send(_:timeout:)``.
    public var commandTimeout: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(3),
        commandTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Parses `redis://[[username]:password@]host[:port][/db]`.
    ///
    /// Percent-escapes in the username and password are decoded. `rediss://` (TLS) is
    /// refused with an explanation: the hiredis 0.14 on Debian 12 has no TLS.
    public init(url: String) throws(RedisError) {
        self.init()
        let redacted = RedisConfiguration.redact(url)
        var rest = Substring(url)
        if rest.hasPrefix("rediss://") {
            throw RedisError(.invalidURL, "TLS (rediss://) is not supported by the hiredis 0.14 this build links; reach a TLS Redis through a local TLS proxy (stunnel, a service-mesh sidecar) and use redis:// to it. URL: \(redacted)")
        }
        guard rest.hasPrefix("redis://") else {
            throw RedisError(.invalidURL, "a Redis URL starts with redis://, e.g. redis://127.0.0.1:6379/0 or redis://:PASSWORD@host:6379/0; got '\(redacted)'")
        }
        rest = rest.dropFirst("redis://".count)
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let database = Int(path), database >= 0 else {
                    throw RedisError(.invalidURL, "the database in a Redis URL is a number (redis://host:port/0); got '/\(path)' in \(redacted)")
                }
                self.database = database
            }
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = RedisConfiguration.percentDecoded(userInfo[..<colon])
                username = user.isEmpty ? nil : user
                password = RedisConfiguration.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // redis://PASSWORD@host is common shorthand (as in redis-py).
                password = RedisConfiguration.percentDecoded(userInfo)
            }
        }
        var hostPart = rest
        if hostPart.hasPrefix("[") , let close = hostPart.firstIndex(of: "]") {
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            hostPart = hostPart[hostPart.index(after: close)...]
            if hostPart.hasPrefix(":") {
                guard let port = Int(hostPart.dropFirst()), (1...65535).contains(port) else {
                    throw RedisError(.invalidURL, "invalid port in Redis URL \(redacted)")
                }
                self.port = port
            }
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let port = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(port) else {
                throw RedisError(.invalidURL, "invalid port in Redis URL \(redacted): expected a number 1-65535")
            }
            self.port = port
            host = String(hostPart[..<colon])
        } else {
            host = String(hostPart)
        }
        if host.isEmpty {
            throw RedisError(.invalidURL, "no host in Redis URL \(redacted)")
        }
    }

    /// The URL with any password replaced by `***`, safe for logs and errors.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://")?.upperBound,
              let at = url[schemeEnd...].lastIndex(of: "@") else {
            return url
        }
        let userInfo = url[schemeEnd..<at]
        if let colon = userInfo.firstIndex(of: ":") {
            return String(url[..<colon]) + ":***" + String(url[at...])
        }
        return String(url[..<schemeEnd]) + "***" + String(url[at...])
    }

    /// A description without the password, for logs.
    public var redactedDescription: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(auth)\(host):\(port)/\(database)"
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
