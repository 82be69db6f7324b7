public import PersonaForgeCore

/// What a worker needs to rebuild a run exactly as submitted: the config text, where
/// it was, and the contents of every file it references.
public struct StoredRun: Sendable {
    public var id: String
    public var state: RunState
    public var configYAML: String
    public var configFile: String
    public var baseDirectory: String
    /// Resolved path → file text, for every file the config references.
    public var bundle: [String: String]
}

extension StoredRun {
    /// The run config as submitted, loaded from the stored text and file contents (no
    /// access to the submitter's files needed).
    public func load() throws -> LoadedRun {
        let bundle = self.bundle
        let loader = RunConfigLoader(files: { path in
            guard let text = bundle[path] else {
                throw StoredRunError(message: "'\(path)' was not stored with the run")
            }
            return text
        })
        do {
            return try loader.load(yaml: configYAML, file: configFile, baseDirectory: baseDirectory)
        } catch {
            throw StoredRunError(message: "the stored config of run \(id) no longer loads: \(error.description)")
        }
    }
}

/// A stored run that cannot be rebuilt.
public struct StoredRunError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
