public import Foundation

/// Paths inside the project checkout, for tests that run scripts or the executable.
public enum ProjectPaths {
    /// The project root (the directory holding Package.swift).
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// A file under Tests/fixtures/.
    public static func fixture(_ name: String) -> String {
        root.appendingPathComponent("Tests/fixtures/\(name)").path
    }

    /// The built `personaforge` executable, next to the running test bundle.
    public static var executable: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("personaforge").path,
            root.appendingPathComponent(".build/debug/personaforge").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// python3 on PATH (absolute), for fixtures.
    public static var python: String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }
}
