/// Returns `connectionString` with any password replaced by `***`, safe to
/// show in an error message or a log line.
///
/// Both forms libpq accepts are handled:
/// - URIs (`postgresql://user:secret@host:5432/db?sslmode=require`, also a
///   `password=` query parameter), parsed the way libpq parses them: the user
///   information ends at the first `@` before any `/`;
/// - key/value strings (`host=db user=pf password='s3 cret'`).
///
/// ```swift
/// redactedConnectionString("postgresql://pf:hunter2@db/pf")  // "postgresql://pf:***@db/pf"
/// ```
public func redactedConnectionString(_ connectionString: String) -> String {
    redactConnectionString(connectionString).redacted
}

/// Redacts `connectionString` and returns the password values it contained
/// (as written and percent-decoded), so that they can also be scrubbed from
/// libpq's messages.
func redactConnectionString(_ connectionString: String) -> (redacted: String, secrets: [String]) {
    let bytes = Array(connectionString.utf8)
    var secrets: [[UInt8]] = []
    let redacted: [UInt8]
    if let schemeEnd = uriSchemeEnd(bytes) {
        redacted = redactURI(bytes, authorityStart: schemeEnd, secrets: &secrets)
    } else {
        redacted = redactKeywordValue(bytes, secrets: &secrets)
    }
    var secretStrings: [String] = []
    for secret in secrets where !secret.isEmpty {
        secretStrings.append(String(decoding: secret, as: UTF8.self))
        let decoded = percentDecoded(secret)
        if decoded != secret { secretStrings.append(String(decoding: decoded, as: UTF8.self)) }
    }
    return (String(decoding: redacted, as: UTF8.self), secretStrings)
}

/// Replaces every occurrence of each secret in `text` with `***`.
func scrub(_ text: String, secrets: [String]) -> String {
    var text = text
    for secret in secrets where !secret.isEmpty {
        text = text.replacing(secret, with: "***")
    }
    return text
}

private func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    var index = 0
    while index < bytes.count {
        if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
           let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2]) {
            output.append(high << 4 | low)
            index += 3
        } else {
            output.append(bytes[index])
            index += 1
        }
    }
    return output
}

private func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

private let mask: [UInt8] = Array("***".utf8)

/// The index just after `postgresql://` or `postgres://`, or nil if this is not a URI.
private func uriSchemeEnd(_ bytes: [UInt8]) -> Int? {
    for scheme in ["postgresql://", "postgres://"] {
        let prefix = Array(scheme.utf8)
        if bytes.count >= prefix.count && Array(bytes[0..<prefix.count]) == prefix {
            return prefix.count
        }
    }
    return nil
}

private func redactURI(_ bytes: [UInt8], authorityStart: Int, secrets: inout [[UInt8]]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    output.append(contentsOf: bytes[0..<authorityStart])
    var index = authorityStart
    // libpq: user information runs to the first '@' that comes before any '/'.
    var scan = authorityStart
    while scan < bytes.count && bytes[scan] != UInt8(ascii: "@") && bytes[scan] != UInt8(ascii: "/") {
        scan += 1
    }
    if scan < bytes.count && bytes[scan] == UInt8(ascii: "@") {
        let userInfo = bytes[authorityStart..<scan]
        if let colon = userInfo.firstIndex(of: UInt8(ascii: ":")) {
            output.append(contentsOf: bytes[authorityStart...colon])
            output.append(contentsOf: mask)
            secrets.append(Array(bytes[(colon + 1)..<scan]))
        } else {
            output.append(contentsOf: userInfo)
        }
        output.append(UInt8(ascii: "@"))
        index = scan + 1
    }
    // Query parameters: redact the value of every `password=`.
    guard let question = bytes[index...].firstIndex(of: UInt8(ascii: "?")) else {
        output.append(contentsOf: bytes[index...])
        return output
    }
    output.append(contentsOf: bytes[index...question])
    let query = bytes[(question + 1)...]
    let parameters = query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
    let passwordKey = Array("password=".utf8)
    for (position, parameter) in parameters.enumerated() {
        if position > 0 { output.append(UInt8(ascii: "&")) }
        if parameter.starts(with: passwordKey) {
            output.append(contentsOf: passwordKey)
            output.append(contentsOf: mask)
            secrets.append(Array(parameter.dropFirst(passwordKey.count)))
        } else {
            output.append(contentsOf: parameter)
        }
    }
    return output
}

private func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
}

/// Redacts `password=value` in a libpq key/value string, where the value is
/// either single-quoted (with backslash escapes) or runs to the next space.
private func redactKeywordValue(_ bytes: [UInt8], secrets: inout [[UInt8]]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        // Copy leading whitespace.
        while index < bytes.count && isSpace(bytes[index]) {
            output.append(bytes[index])
            index += 1
        }
        guard index < bytes.count else { break }
        // Keyword.
        let keywordStart = index
        while index < bytes.count && !isSpace(bytes[index]) && bytes[index] != UInt8(ascii: "=") {
            index += 1
        }
        let keyword = bytes[keywordStart..<index]
        output.append(contentsOf: keyword)
        // Spaces, '=', spaces.
        while index < bytes.count && (isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "=")) {
            output.append(bytes[index])
            index += 1
        }
        // Value.
        let valueStart = index
        if index < bytes.count && bytes[index] == UInt8(ascii: "'") {
            index += 1
            while index < bytes.count && bytes[index] != UInt8(ascii: "'") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            index = min(index + 1, bytes.count)
        } else {
            while index < bytes.count && !isSpace(bytes[index]) {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            index = min(index, bytes.count)
        }
        if keyword.elementsEqual("password".utf8) {
            output.append(contentsOf: mask)
            var value = Array(bytes[valueStart..<index])
            if value.first == UInt8(ascii: "'") { value = Array(value.dropFirst().dropLast()) }
            secrets.append(value)
        } else {
            output.append(contentsOf: bytes[valueStart..<index])
        }
    }
    return output
}
