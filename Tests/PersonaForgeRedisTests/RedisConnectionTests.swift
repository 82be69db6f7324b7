import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

@Suite struct RedisConnectionTests {
    @Test func binarySafeRoundTrip() async throws {
        let redis = try SharedRedis.connection()
        let key = SharedRedis.uniqueKey("binary")
        // NUL bytes, invalid UTF-8 (0xFF, a lone continuation byte, a truncated sequence).
        let payload: [UInt8] = [0x00, 0x41, 0x00, 0xFF, 0x80, 0xE2, 0x82, 0x0A, 0x0D, 0x00]
        try await redis.send("SET", key, payload, "EX", 60)
        let reply = try await redis.send("GET", key)
        #expect(reply == .bulk(payload))
        let strlen = try await redis.send("STRLEN", key)
        #expect(strlen == .integer(Int64(payload.count)))
        // A key made of binary bytes works too.
        let binaryKey = Array(key.utf8) + [0x00, 0xFF]
        try await redis.send("SET", binaryKey, "v", "EX", 60)
        #expect(try await redis.send("GET", binaryKey).string == "v")
        #expect(try await redis.send("GET", key + "-absent") == .null)
    }

    @Test func serverErrorsAreThrownWithTheirCode() async throws {
        let redis = try SharedRedis.connection()
        let key = SharedRedis.uniqueKey("wrongtype")
        try await redis.send("SET", key, "x", "EX", 60)
        await #expect {
            try await redis.send("LPUSH", key, "y")
        } throws: { error in
            (error as? RedisError)?.serverCode == "WRONGTYPE"
        }
        // The connection is still usable after an error reply.
        #expect(try await redis.send("PING") == .status("PONG"))
    }

    @Test func pipelineReturnsRepliesInOrderWithErrorsInPlace() async throws {
        let redis = try SharedRedis.connection()
        let key = SharedRedis.uniqueKey("pipeline")
        var commands = (0..<1000).map { RedisCommand("RPUSH", key, $0) }
        commands.append(RedisCommand("INCR", key))  // WRONGTYPE: the key is a list
        commands.append(RedisCommand("LLEN", key))
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == 1002)
        #expect(replies[0] == .integer(1))
        #expect(replies[999] == .integer(1000))
        guard case .error(let message) = replies[1000] else {
            Issue.record("expected an error reply, got \(replies[1000])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[1001] == .integer(1000))
        try await redis.send("DEL", key)
    }

    @Test func streamsWithConsumerGroups() async throws {
        let redis = try SharedRedis.connection()
        let stream = SharedRedis.uniqueKey("stream")
        try await redis.createGroup(stream, group: "workers")
        try await redis.createGroup(stream, group: "workers")  // idempotent

        let body: [UInt8] = [0x00, 0xFF, 0x01]
        var ids: [String] = []
        for index in 0..<5 {
            ids.append(try await redis.xadd(stream, fields: [("n", Array(String(index).utf8)), ("body", body)]))
        }

        // Consumer a takes three, consumer b two.
        let first = try await redis.readGroup(stream, group: "workers", consumer: "a", count: 3)
        let second = try await redis.readGroup(stream, group: "workers", consumer: "b", count: 10, block: .milliseconds(100))
        #expect(first.map(\.id) == Array(ids[0..<3]))
        #expect(second.map(\.id) == Array(ids[3..<5]))
        #expect(first[0]["body"] == body)
        #expect(first[2]["n"] == Array("2".utf8))

        // Nothing new: a blocking read returns empty after its block time.
        let empty = try await redis.readGroup(stream, group: "workers", consumer: "a", count: 1, block: .milliseconds(50))
        #expect(empty.isEmpty)

        var summary = try await redis.pendingSummary(stream, group: "workers")
        #expect(summary.count == 5)
        #expect(summary.consumers == ["a": 3, "b": 2])

        #expect(try await redis.ack(stream, group: "workers", ids: [ids[0], ids[1]]) == 2)
        #expect(try await redis.ack(stream, group: "workers", ids: [ids[0]]) == 0)  // already acked

        // Consumer a "dies" holding ids[2]; c reclaims everything idle >= 0 ms.
        try await Task.sleep(for: .milliseconds(20))
        let claimed = try await redis.autoClaim(stream, group: "workers", consumer: "c", minIdle: .milliseconds(10))
        #expect(Set(claimed.entries.map(\.id)) == Set([ids[2], ids[3], ids[4]]))
        #expect(claimed.nextStart == "0-0")
        let pending = try await redis.pendingEntries(stream, group: "workers")
        #expect(pending.allSatisfy { $0.consumer == "c" && $0.deliveries == 2 })
        summary = try await redis.pendingSummary(stream, group: "workers")
        #expect(summary.consumers == ["c": 3])

        // A trimmed entry that was pending is reported as deleted by XAUTOCLAIM.
        try await redis.send("XDEL", stream, ids[4])
        let again = try await redis.autoClaim(stream, group: "workers", consumer: "d", minIdle: .zero)
        #expect(again.deletedIDs == [ids[4]])
        try await redis.send("DEL", stream)
    }

    @Test func aConsumerGroupThatVanishedIsRecreatedFromTheStartOfTheStream() async throws {
        let redis = try SharedRedis.connection()
        let stream = SharedRedis.uniqueKey("lost-group")
        // The stream as a coordinator refills it after Redis lost its data: entries, no group.
        let ids = [try await redis.xadd(stream, fields: [("n", Array("0".utf8))]), try await redis.xadd(stream, fields: [("n", Array("1".utf8))])]
        #expect(try await redis.autoClaim(stream, group: "workers", consumer: "a", minIdle: .zero).entries.isEmpty)
        let read = try await redis.readGroup(stream, group: "workers", consumer: "a", count: 10)
        #expect(read.map(\.id) == ids, "the recreated group delivers what was already in the stream")
        // Destroyed under a running consumer: the next command recreates it again.
        try await redis.send("XGROUP", "DESTROY", stream, "workers")
        #expect(try await redis.pendingEntries(stream, group: "workers").isEmpty)
        #expect(try await redis.readGroup(stream, group: "workers", consumer: "b", count: 10).map(\.id) == ids)
        // Commands that do not consume still report the missing group.
        try await redis.send("XGROUP", "DESTROY", stream, "workers")
        let error = await #expect(throws: RedisError.self) { try await redis.pendingSummary(stream, group: "workers") }
        #expect(error?.serverCode == "NOGROUP")
        try await redis.send("DEL", stream)
    }

    @Test func blockingReadsDoNotStallTheSharedPool() async throws {
        let stream = SharedRedis.uniqueKey("block")
        let setup = try SharedRedis.connection()
        try await setup.createGroup(stream, group: "g")
        // More blocked connections than the machine has cores.
        let readers = try (0..<(ProcessInfo.processInfo.activeProcessorCount + 2)).map { _ in try SharedRedis.connection() }
        let order = OrderLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, reader) in readers.enumerated() {
                group.addTask {
                    _ = try await reader.readGroup(stream, group: "g", consumer: "c\(index)", count: 1, block: .milliseconds(1500))
                    order.append("read")
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(100))
                // If blocking reads occupied the cooperative pool, this could not run first.
                order.append("compute")
            }
            try await group.waitForAll()
        }
        #expect(order.entries.first == "compute")
        try await setup.send("DEL", stream)
    }

    @Test func reconnectsAfterServerRestart() async throws {
        let server = try RedisServerProcess()
        let redis = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        try await redis.send("SET", "k", "before")
        server.stop()
        // The command on the dead connection fails and says so...
        await #expect {
            try await redis.send("GET", "k")
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .connectionLost || error.code == .unreachable
        }
        try server.start()
        // ...and the next one reconnects by itself.
        #expect(try await redis.send("PING") == .status("PONG"))
        try await redis.send("SET", "k", "after")
        #expect(try await redis.send("GET", "k").string == "after")
    }

    @Test func authentication() async throws {
        let server = try RedisServerProcess(password: "hunter2-secret")
        let good = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        #expect(try await good.send("PING") == .status("PONG"))

        let wrong = RedisConnection(configuration: try RedisConfiguration(url: "redis://:wrong-secret@127.0.0.1:\(server.port)/0"))
        await #expect {
            try await wrong.connect()
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .authenticationFailed && !error.message.contains("wrong-secret")
        }

        let none = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        await #expect {
            try await none.send("PING")
        } throws: { error in
            (error as? RedisError)?.code == .authenticationRequired
        }
    }

    @Test func selectsTheDatabaseFromTheURL() async throws {
        let server = try RedisServerProcess()
        let db5 = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/5"))
        try await db5.send("SET", "where", "five")
        let db0 = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        #expect(try await db0.send("GET", "where") == .null)
        try await db0.send("SELECT", 5)
        #expect(try await db0.send("GET", "where").string == "five")
    }

    @Test func unreachableServerIsExplained() async throws {
        let port = try Loopback.freePort()
        let redis = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0"))
        await #expect {
            try await redis.send("PING")
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .unreachable && error.message.contains("127.0.0.1:\(port)") && error.message.contains("Connection refused")
        }
    }

    @Test func aTimedOutReadDropsTheConnectionAndTheNextCommandWorks() async throws {
        let server = try RedisServerProcess()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = .milliseconds(200)
        let redis = RedisConnection(configuration: configuration)
        try await redis.send("PING")
        // Block for longer than the socket timeout: hiredis gives up, the connection is poisoned.
        await #expect {
            try await redis.send(RedisCommand("BLPOP", "never", 2))
        } throws: { error in
            (error as? RedisError)?.code == .timeout
        }
        #expect(try await redis.send("PING") == .status("PONG"))
    }
}

/// Collects events from concurrent tasks in the order they happen.
final class OrderLog: @unchecked Sendable {
    // @unchecked Sendable: `storage` is only touched with `lock` held.
    private let lock = NSLock()
    private var storage: [String] = []

    func append(_ entry: String) { lock.withLock { storage.append(entry) } }
    var entries: [String] { lock.withLock { storage } }
}
