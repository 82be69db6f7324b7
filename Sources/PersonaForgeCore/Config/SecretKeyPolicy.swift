/// Recognizes keys that would put a secret into a run config, which is stored
/// in the database and printed by `plan`; secrets come from the environment or
/// a mounted file instead.
enum SecretKeyPolicy {
    private static let exact: Set<String> = [
        "api_key", "apikey", "api-key", "key", "token", "access_token", "auth_token", "bearer", "bearer_token",
        "password", "passwd", "secret", "client_secret", "authorization", "private_key", "credentials",
    ]
    private static let suffixes = ["_api_key", "_apikey", "-api-key", "_token", "_password", "_secret"]

    static func looksLikeSecret(_ key: String) -> Bool {
        let key = key.lowercased()
        return exact.contains(key) || suffixes.contains { key.hasSuffix($0) }
    }

    /// The message for a secret-looking key; never includes the value.
    static func message(for key: String, context: String) -> String {
        "'\(key)' in \(context) looks like a secret; secrets are never accepted in a run config "
            + "(it is stored with the run and printed by plan) — keep the key in an environment variable and write "
            + "'api_key_env: OPENAI_API_KEY' under model:, or mount it as a file and write 'api_key_file: /run/secrets/llm-api-key'"
    }
}
