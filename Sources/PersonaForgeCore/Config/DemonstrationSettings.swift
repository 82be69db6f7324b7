/// In-context demonstrations (`demonstrations:` in the config): `count` records
/// drawn per sample from a JSONL pool, available as `{{#demos}}...{{/demos}}`.
public struct DemonstrationSettings: Sendable, Hashable {
    /// The pool path as written.
    public var path: String
    /// The pool path resolved against the config file's directory.
    public var resolvedPath: String
    /// Demonstrations per sample (default 2).
    public var count: Int

    /// Creates settings.
    public init(path: String, resolvedPath: String, count: Int = 2) {
        self.path = path
        self.resolvedPath = resolvedPath
        self.count = count
    }
}
