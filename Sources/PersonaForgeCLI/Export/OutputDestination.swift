import Foundation

/// A problem with an export or report output path; the message says what to change.
struct ExportError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

/// Where `export` or `report --html` writes: standard output (`-`) or a file path
/// checked before any record is read, so a bad path fails fast with the fix.
struct OutputDestination: Hashable {
    /// The path, or "-" for standard output.
    let path: String

    var isStandardOutput: Bool { path == "-" }

    /// Checks that `path` can be created: its directory exists and is writable, and
    /// it is not an existing file (unless `force`) or a directory.
    /// - Parameter what: names the output in messages ("export", "dataset card").
    static func check(_ path: String, force: Bool, what: String) throws(ExportError) -> OutputDestination {
        if path == "-" { return OutputDestination(path: path) }
        guard !path.isEmpty else { throw ExportError("the \(what) path is empty; give a file path or '-' for standard output") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw ExportError("'\(path)' is a directory; give a file path for the \(what)")
            }
            if !force {
                throw ExportError("'\(path)' already exists; pass --force to replace it (the \(what) is written to a temporary file and renamed into place)")
            }
        }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ExportError("cannot write the \(what) '\(path)': directory '\(directory)' does not exist; create it first (mkdir -p '\(directory)')")
        }
        guard isDirectory.boolValue else {
            throw ExportError("cannot write the \(what) '\(path)': '\(directory)' is not a directory")
        }
        guard access(directory, W_OK) == 0 else {
            throw ExportError("cannot write the \(what) '\(path)': no permission to create files in '\(directory)'")
        }
        return OutputDestination(path: path)
    }
}
