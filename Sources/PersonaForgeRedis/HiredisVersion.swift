internal import CHiredis

extension RedisConnection {
    /// The hiredis version this build links, e.g. `0.14.1`.
    public static var libraryVersion: String { "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)" }
}
