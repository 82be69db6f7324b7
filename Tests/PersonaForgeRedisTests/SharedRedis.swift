import Foundation
import PersonaForgeRedis
import PersonaForgeTestSupport

/// The Redis the suite shares (the local stack's), from PERSONAFORGE_REDIS_URL.
enum SharedRedis {
    static let url = ProcessInfo.processInfo.environment["PERSONAFORGE_REDIS_URL"] ?? "redis://127.0.0.1:16379/0"

    static func connection() throws -> RedisConnection {
        RedisConnection(configuration: try RedisConfiguration(url: url))
    }

    /// A key no other test uses.
    static func uniqueKey(_ name: String) -> String {
        "pf:test:\(name):\(UInt64.random(in: 0...UInt64.max))"
    }
}
