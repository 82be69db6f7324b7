import Foundation
import PersonaForgeTestSupport

/// Runs the built `personaforge` executable and captures what it printed.
struct CLIResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
    var output: String { standardOutput + standardError }
}

enum CLI {
    /// Runs `personaforge arguments...` with `environment` added to (or, for nil values,
    /// removed from) this process's environment.
    static func run(_ arguments: [String], environment: [String: String?] = [:], timeout: Duration = .seconds(120)) async throws -> CLIResult {
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let err = directory.appendingPathComponent("err").path
        let process = try ChildProcess([ProjectPaths.executable] + arguments, environment: env, logPath: out, errorPath: err)
        guard let status = await process.waitForExit(timeout: timeout) else {
            process.terminate(signal: SIGKILL)
            throw TestSupportError("personaforge \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return CLIResult(
            status: status,
            standardOutput: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }
}
