internal import CHiredis
public import Logging
import PersonaForgeSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to Redis, over hiredis's blocking API.
///
/// Every call runs on the connection's own thread (a ``ThreadExecutor``), never on
/// Swift's shared pool, so a slow or blocking command stalls only this connection.
/// Use one connection per concurrent flow (a worker's shard reader, a coordinator's
/// feeder) rather than sharing one across tasks.
///
/// Failure semantics: a command that fails with an I/O error throws
/// ``RedisError/Code/connectionLost`` (it is not retried: it may have executed); the
/// connection is dropped and the next command reconnects, re-authenticates and
/// re-selects the database.
public actor RedisConnection {
    public nonisolated let configuration: RedisConfiguration
    let logger: Logger
    private let executor: ThreadExecutor
    // The hiredis context; nil while disconnected. Owned by this actor alone.
    private var handle: ContextHandle?
    private var context: UnsafeMutablePointer<redisContext>? { handle?.pointer }
    private var currentTimeout: Duration?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a connection; it connects on first use (or on ``connect()``).
    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "personaforge.redis")) {
        self.configuration = configuration
        self.logger = logger
        self.executor = ThreadExecutor(name: "redis \(configuration.host):\(configuration.port)")
    }

    deinit {
        executor.shutdown()
    }

    /// Connects now (authenticating and selecting the database) if not connected.
    public func connect() throws(RedisError) {
        _ = try connectedContext()
    }

    /// Closes the connection; the next command opens a new one.
    public func close() {
        handle = nil
    }

    /// Sends one command and returns its reply.
    ///
    /// An error reply from the server is thrown as ``RedisError/Code/server``, except
    /// authentication errors, which get their own codes.
    /// - Parameter timeout: socket timeout for this command only; give one longer than
    ///   the `BLOCK` of a blocking command.
    @discardableResult
    public func send(_ command: RedisCommand, timeout: Duration? = nil) throws(RedisError) -> RedisReply {
        let context = try connectedContext()
        try applyTimeout(timeout ?? configuration.commandTimeout, context)
        let raw: UnsafeMutableRawPointer? = command.withArgv { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let raw else {
            throw dropConnection(context, during: command.name)
        }
        let reply = RedisConnection.copyReply(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        if case .error(let message) = reply {
            throw RedisConnection.classifyServerError(message, username: configuration.username)
        }
        return reply
    }

    /// Sends one command built from arguments: `send("XACK", stream, group, id)`.
    @discardableResult
    public func send(_ arguments: any RedisArgument...) throws(RedisError) -> RedisReply {
        try send(RedisCommand(arguments))
    }

    /// Sends all commands in one write and reads all replies: one round trip.
    ///
    /// Error replies are returned in place (as ``RedisReply/error(_:)``), not thrown, so
    /// the caller sees which command failed. An I/O error throws and drops the
    /// connection; some of the commands may have executed.
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        let context = try connectedContext()
        try applyTimeout(timeout ?? configuration.commandTimeout, context)
        for command in commands {
            let status = command.withArgv { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            if status != REDIS_OK {
                throw dropConnection(context, during: "pipeline")
            }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                throw dropConnection(context, during: "pipeline")
            }
            replies.append(RedisConnection.copyReply(raw!.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    // MARK: - Connection management

    private func connectedContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        let configuration = self.configuration
        let where_ = "\(configuration.host):\(configuration.port)"
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeval(configuration.connectTimeout)) else {
            throw RedisError(.unreachable, "cannot allocate a Redis context for \(where_)")
        }
        if context.pointee.err != 0 {
            let reason = RedisConnection.errorString(context)
            redisFree(context)
            let code: RedisError.Code = reason.lowercased().contains("timed out") ? .timeout : .unreachable
            throw RedisError(code, "cannot connect to Redis at \(where_): \(reason). Is redis-server running there? (locally: deploy/local/stack.sh up redis; or set PERSONAFORGE_REDIS_URL)")
        }
        _ = redisEnableKeepAlive(context)
        handle = ContextHandle(context)
        currentTimeout = nil
        do {
            if let password = configuration.password {
                var arguments: [any RedisArgument] = ["AUTH"]
                if let username = configuration.username { arguments.append(username) }
                arguments.append(password)
                try send(RedisCommand(arguments))
            }
            if configuration.database != 0 {
                try send("SELECT", configuration.database)
            }
        } catch {
            close()
            throw error
        }
        logger.debug("connected to Redis", metadata: ["redis": "\(configuration.redactedDescription)"])
        return context
    }

    private func applyTimeout(_ timeout: Duration, _ context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        guard currentTimeout != timeout else { return }
        if redisSetTimeout(context, timeval(timeout)) != REDIS_OK {
            throw dropConnection(context, during: "set timeout")
        }
        currentTimeout = timeout
    }

    /// Frees a context that hit an I/O error and returns the error to throw.
    private func dropConnection(_ context: UnsafeMutablePointer<redisContext>, during operation: String) -> RedisError {
        let reason = RedisConnection.errorString(context)
        let errorCode = context.pointee.err
        close()
        let where_ = "\(configuration.host):\(configuration.port)"
        logger.warning("Redis connection lost", metadata: ["redis": "\(where_)", "during": "\(operation)", "reason": "\(reason)"])
        if reason.lowercased().contains("timed out") || reason.contains("Resource temporarily unavailable") {
            return RedisError(.timeout, "\(operation) to \(where_) timed out after \(currentTimeout ?? configuration.commandTimeout); the connection was closed and the next command reconnects")
        }
        let kind = errorCode == REDIS_ERR_PROTOCOL ? "protocol error" : "connection lost"
        return RedisError(errorCode == REDIS_ERR_PROTOCOL ? .protocolError : .connectionLost,
                          "\(kind) during \(operation) to \(where_): \(reason); the next command reconnects")
    }

    // MARK: - C helpers

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    private static func copyReply(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(copyBytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: copyBytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: copyBytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] {
                    elements.append(copyReply(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func copyBytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    private static func classifyServerError(_ message: String, username: String?) -> RedisError {
        if message.hasPrefix("NOAUTH") {
            return RedisError(.authenticationRequired, "Redis requires a password: put it in the URL, redis://[USER]:PASSWORD@host:port/db (server said: \(message))")
        }
        if message.hasPrefix("WRONGPASS") || message.contains("invalid password") || message.contains("invalid username-password") {
            return RedisError(.authenticationFailed, "Redis rejected the username/password in the URL (server said: \(message))")
        }
        if message.contains("AUTH") && (message.contains("no password is set") || message.contains("without any password configured")) {
            return RedisError(.authenticationFailed, "the URL gives a password but this Redis has none configured: remove it from the URL (server said: \(message))")
        }
        if message.hasPrefix("NOPERM") {
            // Still a `.server` error whose serverCode is NOPERM; the hint says what to change.
            let user = username.map { "'\($0)'" } ?? "'default'"
            return RedisError(.server, "\(message) (Redis ACL of user \(user): it must allow the keys pf:{NAMESPACE}:* and the commands PersonaForge sends; see docs/operations.md, \"Redis ACL\")")
        }
        return RedisError(.server, message)
    }
}

/// Owns a hiredis context and frees it exactly once.
private final class ContextHandle: @unchecked Sendable {
    // @unchecked Sendable: only the owning RedisConnection actor reads `pointer`, on its
    // own executor; deinit runs once nothing else refers to the handle.
    let pointer: UnsafeMutablePointer<redisContext>

    init(_ pointer: UnsafeMutablePointer<redisContext>) { self.pointer = pointer }

    deinit { redisFree(pointer) }
}

extension RedisCommand {
    /// Calls `body` with C argv/argvlen arrays pointing into the command's byte buffer.
    func withArgv<Result>(
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        // An empty buffer has no base address; pad so every pointer is valid.
        var storage = bytes
        storage.append(0)
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(lengths.count)
            var offset = 0
            for length in lengths {
                pointers.append(base + offset)
                offset += length
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    body(Int32(lengths.count), argv.baseAddress!, argvlen.baseAddress!)
                }
            }
        }
    }
}

private func timeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}
