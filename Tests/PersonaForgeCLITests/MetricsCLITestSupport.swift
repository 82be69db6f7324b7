import Foundation

/// Runs the built `personaforge` executable for the metrics CLI tests.
enum MetricsCLI {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    struct NotFound: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "personaforge executable not found next to the test bundle (searched \(searched.joined(separator: ", "))); "
                + "run `swift build` first or set PERSONAFORGE_BINARY"
        }
    }

    /// The `personaforge` executable in the build products directory: the
    /// directory holding the test bundle (or one of its parents, for macOS
    /// `.xctest` bundles), or `PERSONAFORGE_BINARY`.
    static func executable() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["PERSONAFORGE_BINARY"] {
            return URL(fileURLWithPath: explicit)
        }
        var starts = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()]
        if let executable = Bundle.main.executableURL { starts.append(executable) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { starts.append(bundle.bundleURL) }
        var searched: [String] = []
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("personaforge")
                searched.append(candidate.path)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw NotFound(searched: searched)
    }

    /// Runs `personaforge` with `arguments`, feeding `standardInput`.
    static func run(_ arguments: [String], standardInput: String = "") throws -> Result {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("personaforge-metrics-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("stdin")
        let output = directory.appendingPathComponent("stdout")
        let error = directory.appendingPathComponent("stderr")
        try Data(standardInput.utf8).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: error.path, contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: error)
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: try Data(contentsOf: output), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: error), as: UTF8.self)
        )
    }

    /// Writes `contents` to a fresh temporary file and returns its path.
    static func temporaryFile(_ contents: String, name: String = "input.jsonl") throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("personaforge-metrics-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file.path
    }
}
