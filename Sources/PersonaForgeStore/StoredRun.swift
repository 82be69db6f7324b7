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
