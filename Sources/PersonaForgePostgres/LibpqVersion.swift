internal import CLibpq

extension PostgresConnection {
    /// The libpq version this build links, e.g. `15.18`.
    public static var libraryVersion: String {
        let version = Int(PQlibVersion())
        return version >= 100_000 ? "\(version / 10_000).\(version % 10_000)" : "\(version / 10_000).\(version / 100 % 100).\(version % 100)"
    }
}
