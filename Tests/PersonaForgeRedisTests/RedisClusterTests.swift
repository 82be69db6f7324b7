import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport
import Testing

/// The hash slot function (pure) and ``RedisCluster`` against a real 3-master cluster
/// and a standalone redis-server on loopback.
@Suite struct RedisClusterTests {
    // MARK: - Slots

    @Test func crc16MatchesTheSpecificationCheckValue() {
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisClusterSlot.crc16([UInt8]()) == 0)
    }

    @Test(arguments: [
        ("foo", 12182),
        ("bar", 5061),
        ("hello", 866),
        ("", 0),
        ("{user1000}.following", 3443),
        // Checked against redis-server 7.0 `CLUSTER KEYSLOT`.
        ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015),
        ("foo{bar", 15278),
    ])
    func slotOfAKnownKey(key: String, slot: Int) {
        #expect(RedisClusterSlot.of(Array(key.utf8)) == slot)
    }

    @Test func hashTagsDecideTheSlot() {
        let slot = { (key: String) in RedisClusterSlot.of(Array(key.utf8)) }
        #expect(slot("{user1000}.following") == slot("{user1000}.followers"))
        #expect(slot("{user1000}.following") == slot("user1000"))
        // An empty tag does not count: the whole key is hashed.
        #expect(slot("foo{}{bar}") == Int(RedisClusterSlot.crc16(Array("foo{}{bar}".utf8)) % 16384))
        #expect(slot("foo{}{bar}") != slot("bar"))
        // The first `{`, then the first `}` after it.
        #expect(slot("foo{{bar}}zap") == slot("{bar"))
        #expect(slot("foo{bar}{zap}") == slot("bar"))
        // No closing brace: the whole key.
        #expect(slot("foo{bar") == Int(RedisClusterSlot.crc16(Array("foo{bar".utf8)) % 16384))
    }

    @Test func slotsAreInRangeAndSpread() {
        var seen = Set<Int>()
        for index in 0..<5000 {
            let slot = RedisClusterSlot.of(Array("key:\(index)".utf8))
            #expect((0..<16384).contains(slot))
            seen.insert(slot)
        }
        #expect(seen.count > 4000)
    }

    // MARK: - Against a cluster

    static func setAndGet(_ keys: [String], prefix: String = "v") -> (sets: [(slotKey: [UInt8], command: RedisCommand)], gets: [(slotKey: [UInt8], command: RedisCommand)]) {
        (keys.map { (Array($0.utf8), RedisCommand("SET", $0, "\(prefix)-\($0)")) },
         keys.map { (Array($0.utf8), RedisCommand("GET", $0)) })
    }

    @Test func aPipelineSpreadsKeysOverTheMastersAndReturnsRepliesInOrder() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        let keys = (0..<1000).map { "pf:test:cluster:\($0)" }
        let (sets, gets) = Self.setAndGet(keys)

        let setReplies = try await client.pipeline(sets)
        #expect(setReplies.count == keys.count)
        #expect(setReplies.allSatisfy { $0 == .status("OK") })
        let values = try await client.pipeline(gets)
        #expect(values.map(\.string) == keys.map { "v-\($0)" })

        // The keys really live on every master, each where its slot says.
        var total: Int64 = 0
        for port in cluster.ports {
            let node = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0"))
            let size = try #require(try await node.send("DBSIZE").integer)
            #expect(size > 200, "master \(port) holds \(size) of 1000 keys")
            total += size
        }
        #expect(total == 1000)

        let masters = try await client.nodeConfigurations()
        #expect(Set(masters.map(\.port)) == Set(cluster.ports))
        #expect(masters.allSatisfy { $0.host == "127.0.0.1" && $0.database == 0 })
        await client.close()
    }

    @Test func errorRepliesComeBackInPlace() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        let replies = try await client.pipeline([
            (Array("a".utf8), RedisCommand("SET", "a", "1")),
            (Array("b".utf8), RedisCommand("LPUSH", "b", "x")),
            (Array("b".utf8), RedisCommand("INCR", "b")),
            (Array("a".utf8), RedisCommand("GET", "a")),
        ])
        #expect(replies.count == 4)
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .integer(1))
        guard case .error(let message) = replies[2] else {
            Issue.record("INCR of a list should be an error reply, got \(replies[2])")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[3] == .bulk(Array("1".utf8)))
    }

    @Test func aMovedSlotIsFollowedAndTheMapRefreshed() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        let keys = (0..<50).map { "pf:test:moved:\($0)" }
        let (sets, gets) = Self.setAndGet(keys)
        _ = try await client.pipeline(sets)

        let moved = keys[7]
        let slot = RedisClusterSlot.of(Array(moved.utf8))
        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.ports.first { $0 != source })
        try cluster.migrateSlot(slot, from: source, to: target)
        #expect(try cluster.owner(ofSlot: slot, askingPort: target) == target)

        // The old owner now redirects: the client's map is stale and it must follow.
        let old = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(source)/0"))
        let direct = try await old.pipeline([RedisCommand("GET", moved)])
        #expect(direct.first == .error("MOVED \(slot) 127.0.0.1:\(target)"))

        let values = try await client.pipeline(gets)
        #expect(values.map(\.string) == keys.map { "v-\($0)" })
        // The map was refreshed: a write to the slot lands on the new owner.
        let rewrite = try await client.pipeline([(Array(moved.utf8), RedisCommand("SET", moved, "after"))])
        #expect(rewrite == [.status("OK")])
        let new = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(target)/0"))
        #expect(try await new.send("GET", moved).string == "after")
    }

    @Test func aKeyAlreadyMovedDuringAMigrationIsServedThroughAsk() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        // Two keys in one slot: one will move, one will stay behind.
        let movedKey = "{pf:ask}:moved"
        let staying = "{pf:ask}:staying"
        let slot = RedisClusterSlot.of(Array(movedKey.utf8))
        #expect(try await client.pipeline([
            (Array(movedKey.utf8), RedisCommand("SET", movedKey, "moved-value")),
            (Array(staying.utf8), RedisCommand("SET", staying, "staying-value")),
        ]) == [.status("OK"), .status("OK")])

        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.ports.first { $0 != source })
        try cluster.beginSlotMigration(slot, from: source, to: target)
        try cluster.migrateKeys([movedKey], from: source, to: target)

        // Without the client: the source says ASK, the target refuses without ASKING.
        let sourceNode = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(source)/0"))
        let targetNode = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(target)/0"))
        #expect(try await sourceNode.pipeline([RedisCommand("GET", movedKey)]) == [.error("ASK \(slot) 127.0.0.1:\(target)")])
        #expect(try await targetNode.pipeline([RedisCommand("GET", movedKey)]) == [.error("MOVED \(slot) 127.0.0.1:\(source)")])

        let values = try await client.pipeline([
            (Array(movedKey.utf8), RedisCommand("GET", movedKey)),
            (Array(staying.utf8), RedisCommand("GET", staying)),
            (Array(movedKey.utf8), RedisCommand("GET", movedKey)),
        ])
        #expect(values.map(\.string) == ["moved-value", "staying-value", "moved-value"])

        // ASK does not change the owner: the slot still belongs to the source until the end.
        try cluster.migrateKeys([staying], from: source, to: target)
        try cluster.finishSlotMigration(slot, from: source, to: target)
        let after = try await client.pipeline([(Array(staying.utf8), RedisCommand("GET", staying))])
        #expect(after.map(\.string) == ["staying-value"])
    }

    @Test func tooManyRedirectsThrowAClearError() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        let key = "pf:test:loop"
        let slot = RedisClusterSlot.of(Array(key.utf8))
        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.ports.first { $0 != source })
        _ = try await client.pipeline([(Array(key.utf8), RedisCommand("GET", key))])
        // Source MIGRATING, target not IMPORTING: the source answers ASK for a missing key,
        // the target answers MOVED back to the source, forever.
        try cluster.command(port: source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", try cluster.nodeID(port: target)])
        await #expect {
            try await client.pipeline([(Array(key.utf8), RedisCommand("GET", key))])
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .server && error.message.contains("redirected \(RedisCluster.maximumRedirects + 1) times")
                && error.message.contains("slot \(slot)")
        }
    }

    @Test func anUnreachableMasterIsReportedAfterOneRefresh() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: cluster.url))
        let keys = (0..<30).map { "pf:test:down:\($0)" }
        _ = try await client.pipeline(Self.setAndGet(keys).sets)
        await client.close()
        // Kill the master that owns the first key; with no replica, no one takes over.
        let slot = RedisClusterSlot.of(Array(keys[0].utf8))
        let victim = try cluster.owner(ofSlot: slot)
        let index = try #require(cluster.ports.firstIndex(of: victim))
        kill(cluster.pids[index], SIGKILL)
        try await Task.sleep(for: .milliseconds(100))

        await #expect {
            try await client.pipeline(Self.setAndGet(keys).gets)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .unreachable && error.message.contains("127.0.0.1:\(victim)")
                && error.message.contains("even after refreshing the slot map")
        }
    }

    // MARK: - Standalone and failures

    @Test func aStandaloneServerOwnsEverySlot() async throws {
        let server = try RedisServerProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/2"))
        let keys = (0..<300).map { "pf:test:standalone:\($0)" }
        let (sets, gets) = Self.setAndGet(keys, prefix: "s")
        #expect(try await client.pipeline(sets).allSatisfy { $0 == .status("OK") })
        #expect(try await client.pipeline(gets).map(\.string) == keys.map { "s-\($0)" })
        // The seed's database is used: the keys are in db 2, not db 0.
        let db2 = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/2"))
        let db0 = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        #expect(try await db2.send("DBSIZE").integer == 300)
        #expect(try await db0.send("DBSIZE").integer == 0)
        let nodes = try await client.nodeConfigurations()
        #expect(nodes.map(\.port) == [server.port])
        #expect(nodes.map(\.database) == [2])
    }

    @Test func aClusterSeedWithANonZeroDatabaseIsRefused() async throws {
        let cluster = try RedisClusterProcess()
        let client = RedisCluster(seed: try RedisConfiguration(url: "redis://127.0.0.1:\(cluster.ports[0])/3"))
        await #expect {
            try await client.pipeline([(Array("k".utf8), RedisCommand("GET", "k"))])
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidURL && error.message.contains("only database 0")
        }
    }

    @Test func anUnreachableSeedIsAClearError() async throws {
        let port = try Loopback.freePort()
        let client = RedisCluster(seed: try RedisConfiguration(url: "redis://:secret-pw@127.0.0.1:\(port)/0"))
        await #expect {
            try await client.pipeline([(Array("k".utf8), RedisCommand("GET", "k"))])
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .unreachable && error.message.contains("CLUSTER SLOTS")
                && error.message.contains("127.0.0.1:\(port)") && !error.message.contains("secret-pw")
        }
        await #expect(throws: RedisError.self) { try await client.nodeConfigurations() }
    }

    @Test func anEmptyPipelineSendsNothing() async throws {
        // Not even discovery: an unreachable seed does not matter.
        let client = RedisCluster(seed: try RedisConfiguration(url: "redis://127.0.0.1:\(try Loopback.freePort())/0"))
        #expect(try await client.pipeline([]).isEmpty)
    }
}
