import PersonaForgeSupport

/// One entry of a Redis stream: its ID and its field/value pairs in order.
public struct RedisStreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [(name: String, value: [UInt8])]

    public init(id: String, fields: [(name: String, value: [UInt8])]) {
        self.id = id
        self.fields = fields
    }

    /// The value of the first field called `name`.
    public subscript(name: String) -> [UInt8]? {
        fields.first { $0.name == name }?.value
    }

    public static func == (lhs: RedisStreamEntry, rhs: RedisStreamEntry) -> Bool {
        lhs.id == rhs.id && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses `[id, [field, value, ...]]`. A deleted entry still pending (`[id, nil]`)
    /// has no fields.
    init(reply: RedisReply) throws(RedisError) {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else {
            throw RedisError(.protocolError, "unexpected stream entry shape: \(reply)")
        }
        self.id = id
        self.fields = []
        guard let flat = parts[1].array else { return }
        var index = 0
        while index + 1 < flat.count {
            fields.append((flat[index].string ?? "", flat[index + 1].bytes ?? []))
            index += 2
        }
    }
}

/// One pending entry as `XPENDING stream group - + count` reports it.
public struct RedisPendingEntry: Sendable, Equatable {
    public var id: String
    public var consumer: String
    public var idle: Duration
    public var deliveries: Int64
}

/// The summary form of `XPENDING stream group`.
public struct RedisPendingSummary: Sendable, Equatable {
    public var count: Int64
    public var smallestID: String?
    public var largestID: String?
    public var consumers: [String: Int64]
}

/// The result of `XAUTOCLAIM`.
public struct RedisAutoClaim: Sendable, Equatable {
    /// Where the next scan should start; `0-0` once the whole pending list was scanned.
    public var nextStart: String
    public var entries: [RedisStreamEntry]
    /// IDs that were pending but whose entries no longer exist (Redis 7+); they were
    /// removed from the pending list.
    public var deletedIDs: [String]
}

extension RedisConnection {
    /// `XADD stream [MAXLEN ~ n] * field value ...`; returns the new entry's ID.
    @discardableResult
    public func xadd(
        _ stream: String, fields: [(name: String, value: [UInt8])], approximateMaxLength: Int? = nil
    ) throws(RedisError) -> String {
        try send(RedisStreamCommands.xadd(stream, fields: fields, approximateMaxLength: approximateMaxLength))
            .string ?? ""
    }

    /// `XGROUP CREATE stream group start MKSTREAM`; an existing group is left as it is.
    public func createGroup(_ stream: String, group: String, startingAt start: String = "0") throws(RedisError) {
        do {
            try send("XGROUP", "CREATE", stream, group, start, "MKSTREAM")
        } catch where error.serverCode == "BUSYGROUP" {
            // Already exists: nothing to do.
        }
    }

    /// Runs `body`, a command on `group` of `stream`. When Redis answers `NOGROUP` (it
    /// came back without its data, or the group was destroyed), creates the group from
    /// the start of the stream (``createGroup(_:group:startingAt:)``) and runs `body`
    /// once more, so a consumer loop carries on instead of failing on every call.
    func recreatingMissingGroup<T>(_ stream: String, _ group: String, _ body: () throws(RedisError) -> T) throws(RedisError) -> T {
        do {
            return try body()
        } catch where error.serverCode == "NOGROUP" {
            logger.warning("the consumer group is gone (Redis lost its data?); recreating it", metadata: ["stream": "\(stream)", "group": "\(group)"])
            try createGroup(stream, group: group)
            return try body()
        }
    }

    /// `XREADGROUP GROUP group consumer COUNT n [BLOCK ms] STREAMS stream >`.
    ///
    /// Returns new entries delivered to `consumer` (empty after `block` elapses with none).
    /// The socket timeout is raised above `block` for this call. A missing group is
    /// recreated (``recreatingMissingGroup(_:_:_:)``).
    public func readGroup(
        _ stream: String, group: String, consumer: String, count: Int, block: Duration? = nil, startingAt start: String = ">"
    ) throws(RedisError) -> [RedisStreamEntry] {
        var arguments: [any RedisArgument] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
        var timeout: Duration?
        if let block {
            arguments += ["BLOCK", max(1, block.wholeMilliseconds)]
            timeout = block + configuration.commandTimeout
        }
        arguments += ["STREAMS", stream, start]
        let reply = try recreatingMissingGroup(stream, group) { () throws(RedisError) in try send(RedisCommand(arguments), timeout: timeout) }
        return try RedisStreamCommands.entries(ofReadReply: reply)
    }

    /// `XACK stream group id ...`; returns how many were acknowledged.
    @discardableResult
    public func ack(_ stream: String, group: String, ids: [String]) throws(RedisError) -> Int64 {
        if ids.isEmpty { return 0 }
        let arguments: [any RedisArgument] = ["XACK", stream, group] + ids
        return try send(RedisCommand(arguments)).integer ?? 0
    }

    /// `XAUTOCLAIM stream group consumer min-idle start COUNT n`: takes over entries
    /// another consumer has held for longer than `minIdle`. A missing group is recreated.
    public func autoClaim(
        _ stream: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int = 100
    ) throws(RedisError) -> RedisAutoClaim {
        let reply = try recreatingMissingGroup(stream, group) { () throws(RedisError) in
            try send("XAUTOCLAIM", stream, group, consumer, minIdle.wholeMilliseconds, start, "COUNT", count)
        }
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else {
            throw RedisError(.protocolError, "unexpected XAUTOCLAIM reply shape")
        }
        var entries: [RedisStreamEntry] = []
        for element in parts[1].array ?? [] where !element.isNull {
            entries.append(try RedisStreamEntry(reply: element))
        }
        let deleted = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
        return RedisAutoClaim(nextStart: next, entries: entries, deletedIDs: deleted)
    }

    /// `XPENDING stream group`: the summary of what is delivered but not acknowledged.
    public func pendingSummary(_ stream: String, group: String) throws(RedisError) -> RedisPendingSummary {
        let reply = try send("XPENDING", stream, group)
        guard let parts = reply.array, parts.count == 4 else {
            throw RedisError(.protocolError, "unexpected XPENDING reply shape")
        }
        var consumers: [String: Int64] = [:]
        for pair in parts[3].array ?? [] {
            if let fields = pair.array, fields.count == 2, let name = fields[0].string {
                consumers[name] = fields[1].integer ?? 0
            }
        }
        return RedisPendingSummary(count: parts[0].integer ?? 0, smallestID: parts[1].string, largestID: parts[2].string, consumers: consumers)
    }

    /// `XPENDING stream group [IDLE ms] start end count`: pending entries with their
    /// delivery counts (used to dead-letter entries that keep failing).
    public func pendingEntries(
        _ stream: String, group: String, minIdle: Duration? = nil, start: String = "-", end: String = "+", count: Int = 100
    ) throws(RedisError) -> [RedisPendingEntry] {
        var arguments: [any RedisArgument] = ["XPENDING", stream, group]
        if let minIdle { arguments += ["IDLE", minIdle.wholeMilliseconds] }
        arguments += [start, end, count]
        let reply = try recreatingMissingGroup(stream, group) { () throws(RedisError) in try send(RedisCommand(arguments)) }
        return try (reply.array ?? []).map { element throws(RedisError) in
            guard let fields = element.array, fields.count == 4, let id = fields[0].string,
                  let consumer = fields[1].string, let idle = fields[2].integer, let deliveries = fields[3].integer else {
                throw RedisError(.protocolError, "unexpected XPENDING entry shape")
            }
            return RedisPendingEntry(id: id, consumer: consumer, idle: .milliseconds(idle), deliveries: deliveries)
        }
    }
}

/// Builders and parsers shared by the typed stream helpers and by pipelines.
public enum RedisStreamCommands {
    public static func xadd(
        _ stream: String, fields: [(name: String, value: [UInt8])], approximateMaxLength: Int? = nil
    ) -> RedisCommand {
        var arguments: [any RedisArgument] = ["XADD", stream]
        if let approximateMaxLength { arguments += ["MAXLEN", "~", approximateMaxLength] }
        arguments.append("*")
        for field in fields {
            arguments.append(field.name)
            arguments.append(field.value)
        }
        return RedisCommand(arguments)
    }

    /// Entries of an `XRANGE`/`XREVRANGE` reply.
    public static func entries(ofRangeReply reply: RedisReply) throws(RedisError) -> [RedisStreamEntry] {
        var entries: [RedisStreamEntry] = []
        for element in reply.array ?? [] {
            entries.append(try RedisStreamEntry(reply: element))
        }
        return entries
    }

    /// Entries of an `XREADGROUP`/`XREAD` reply for a single stream (empty for a nil reply).
    public static func entries(ofReadReply reply: RedisReply) throws(RedisError) -> [RedisStreamEntry] {
        guard let streams = reply.array else { return [] }
        var entries: [RedisStreamEntry] = []
        for stream in streams {
            guard let parts = stream.array, parts.count == 2 else {
                throw RedisError(.protocolError, "unexpected XREADGROUP reply shape")
            }
            entries += try RedisStreamCommands.entries(ofRangeReply: parts[1])
        }
        return entries
    }
}
