import PersonaForgeRedis
import Testing

@Suite struct RedisReplyTests {
    @Test func flatArraysBecomeFieldMaps() {
        let reply = RedisReply.array([
            .bulk(Array("name".utf8)), .bulk(Array("workers".utf8)),
            .bulk(Array("pending".utf8)), .integer(3),
            .null, .integer(8),                     // a key that is not a string is skipped
            .bulk(Array("lag".utf8)),             // a trailing key without a value is skipped
        ])
        let map = reply.fieldMap
        #expect(map?["name"]?.string == "workers")
        #expect(map?["pending"]?.integer == 3)
        #expect(map?.count == 2)
        #expect(RedisReply.integer(1).fieldMap == nil)
        #expect(RedisReply.array([]).fieldMap?.isEmpty == true)
    }
}
