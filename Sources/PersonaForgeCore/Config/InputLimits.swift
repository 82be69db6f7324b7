/// How much a run config may make ``RunConfigLoader`` read, so that a wrong or
/// hostile input is refused with a clear message instead of filling memory.
///
/// Sizes are checked with `stat` before a file is read, and reading stops at the
/// first byte past a limit (a growing file, a device such as `/dev/zero`).
public struct InputLimits: Sendable, Hashable {
    /// The run config (YAML) itself.
    public var configBytes: Int
    /// All files one run config names (axis files, demonstrations, JSON schemas),
    /// together. `submit` stores them with the run in one PostgreSQL `jsonb` value,
    /// which holds at most 255 MiB after JSON escaping.
    public var fileBytes: Int
    /// One line of an axis or demonstrations file.
    public var lineBytes: Int
    /// What YAML aliases (`*name`) may add to the config in all, counting every alias
    /// as a copy of what it names (bytes of text plus one per node): a "billion
    /// laughs" document is a few hundred bytes that expand to billions of nodes.
    public var aliasBytes: Int

    /// Creates limits; the defaults are ``standard``.
    public init(configBytes: Int = 8 << 20, fileBytes: Int = 128 << 20, lineBytes: Int = 1 << 20, aliasBytes: Int = 1 << 20) {
        self.configBytes = configBytes
        self.fileBytes = fileBytes
        self.lineBytes = lineBytes
        self.aliasBytes = aliasBytes
    }

    /// 8 MiB of config, 128 MiB of files in all, 1 MiB lines, 1 MiB added by
    /// aliases (docs/config.md, "Limits").
    public static let standard = InputLimits()

    /// `1536` → "1.5 KiB", `10 << 30` → "10 GiB": sizes for messages.
    static func describe(bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) bytes" }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }
}
