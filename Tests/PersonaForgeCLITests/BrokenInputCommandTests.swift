import Foundation
import PersonaForgeTestSupport
import Testing

/// `personaforge plan` and `personaforge submit` on every input of the broken-input
/// catalogue (docs/reliability.md, "Broken inputs"), run as a user runs them.
/// `submit` writing nothing to PostgreSQL and Redis is checked against the real
/// servers in PersonaForgePipelineTests (`BrokenInputSubmitTests`).
@Suite struct BrokenInputCommandTests {
    @Test(arguments: BrokenInput.catalogue)
    func planRefusesItWithTheFileAndLine(input: BrokenInput) async throws {
        let directory = try Self.directory(for: input)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await CLI.run(["plan", directory.appendingPathComponent(input.config).path], timeout: .seconds(60))
        #expect(result.status == 2, "\(result.output)")
        #expect(result.standardOutput.isEmpty, "plan printed a report for a broken input:\n\(result.standardOutput.prefix(500))")
        let prefix = input.expectedPrefix(in: directory)
        #expect(
            result.standardError.split(separator: "\n").contains { $0.hasPrefix(prefix) && $0.contains(input.message) },
            "expected a line starting \(prefix) with '\(input.message)', got:\n\(result.standardError.prefix(2000))"
        )
    }

    /// With Redis and PostgreSQL unreachable, `submit` still fails with the config's
    /// problem (exit 2), not with a connection error: it connects to nothing before
    /// the config is valid.
    @Test(arguments: BrokenInput.catalogue)
    func submitRefusesItBeforeConnectingToAnything(input: BrokenInput) async throws {
        let directory = try Self.directory(for: input)
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await CLI.run(["submit", directory.appendingPathComponent(input.config).path], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://127.0.0.1:\(try Loopback.freePort())/0",
            "PERSONAFORGE_DATABASE_URL": "postgresql://personaforge:x@127.0.0.1:\(try Loopback.freePort())/personaforge?connect_timeout=2",
        ], timeout: .seconds(60))
        #expect(result.status == 2, "\(result.output)")
        #expect(!result.output.contains("connect"), "\(result.output)")
        let prefix = input.expectedPrefix(in: directory)
        #expect(
            result.standardError.split(separator: "\n").contains { $0.hasPrefix(prefix) && $0.contains(input.message) },
            "expected a line starting \(prefix) with '\(input.message)', got:\n\(result.standardError.prefix(2000))"
        )
    }

    /// The control for the test above: a valid config with the same unreachable
    /// services fails on the connection, with another exit status.
    @Test func aValidConfigWithUnreachableServicesFailsOnTheConnection() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("run.yaml").path
        try "name: fine\naxes:\n  - name: persona\n    source: {values: [a]}\nsteps:\n  - name: s\n    user: \"{{persona}}\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await CLI.run(["submit", path], environment: [
            "PERSONAFORGE_REDIS_URL": "redis://127.0.0.1:\(try Loopback.freePort())/0",
            "PERSONAFORGE_DATABASE_URL": "postgresql://personaforge:x@127.0.0.1:\(try Loopback.freePort())/personaforge?connect_timeout=2",
        ])
        #expect(result.status != 0 && result.status != 2, "\(result.output)")
        #expect(result.output.contains("connect"), "\(result.output)")
    }

    private static func directory(for input: BrokenInput) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try input.write(into: directory)
        return directory
    }
}
