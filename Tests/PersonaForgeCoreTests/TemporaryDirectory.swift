import Foundation

/// A fresh directory under the system temp dir for one test's files.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "personaforge-core-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` (subdirectories created) and returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    /// Writes raw bytes (invalid UTF-8, NUL) to `name` and returns the full path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Creates a sparse file of `size` bytes (zeros that cost no disk) and returns its path.
    @discardableResult
    func sparse(_ name: String, size: Int) throws -> String {
        let full = path + "/" + name
        FileManager.default.createFile(atPath: full, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: full))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return full
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
