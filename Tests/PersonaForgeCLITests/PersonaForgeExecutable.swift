import Foundation

/// Finds the `personaforge` executable built alongside the tests.
enum PersonaForgeExecutable {
    /// In order: `$PERSONAFORGE_EXECUTABLE`; the build products directory that
    /// holds the test bundle (macOS `.xctest` bundle or Linux test executable);
    /// `.build/debug` and `.build/release` under the package root found from this file.
    static func url(filePath: String = #filePath) throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["PERSONAFORGE_EXECUTABLE"] {
            candidates.append(URL(fileURLWithPath: path))
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("personaforge"))
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("personaforge"))
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("personaforge"))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("personaforge"))
        }
        let root = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/personaforge"))
        candidates.append(root.appendingPathComponent(".build/release/personaforge"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ExecutableNotFound(searched: candidates.map(\.path))
        }
        return found
    }

    struct ExecutableNotFound: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "personaforge executable not found; run `swift build` or set PERSONAFORGE_EXECUTABLE. Searched: "
                + searched.joined(separator: ", ")
        }
    }
}

/// Exit status and captured output of a finished process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Runs `executable` to completion; output goes through temporary files so large output cannot block it.
    static func run(_ executable: URL, _ arguments: [String]) throws -> ProcessResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pf-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
