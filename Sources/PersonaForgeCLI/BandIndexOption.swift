import ArgumentParser
import Foundation
import PersonaForgeBandIndex
import PersonaForgeRedis

/// `--band-index-url` / `PERSONAFORGE_BAND_INDEX_URL`: the reducer's LSH band index
/// in Redis or Redis Cluster instead of PostgreSQL.
enum BandIndexOption {
    static func index(_ option: String?, namespace: String) throws -> RedisBandIndex? {
        let environment = ProcessInfo.processInfo.environment["PERSONAFORGE_BAND_INDEX_URL"]
        guard let url = [option, environment].compactMap({ $0 }).first(where: { !$0.isEmpty }) else { return nil }
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url)
        } catch {
            throw ValidationError("--band-index-url \(RedisConfiguration.redact(url)): \(error.message)")
        }
        return RedisBandIndex(cluster: RedisCluster(seed: configuration), namespace: namespace)
    }
}
