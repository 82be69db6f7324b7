/// Escaping for text that goes into the report's HTML and SVG.
///
/// Everything that comes from a run — names, axis values, generated text,
/// reject reasons, metric names — passes through `escape` before it reaches
/// the page, in element content and in quoted attribute values alike, so no
/// input can open a tag, close an attribute or start a script (the page also
/// carries a Content-Security-Policy that allows no scripts at all).
enum HTMLText {
    /// `text` with `& < > " '` replaced by character references, and characters
    /// that are not allowed in an HTML document (C0 controls other than tab,
    /// newline and carriage return, DEL, C1 controls and non-characters)
    /// replaced by U+FFFD. Everything else, including any Unicode text, is kept.
    static func escape(_ text: some StringProtocol) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                if isForbidden(scalar) {
                    result.unicodeScalars.append("\u{FFFD}")
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) { return true }
        if (0xFDD0...0xFDEF).contains(value) || value & 0xFFFE == 0xFFFE { return true }
        return false
    }

    /// `text` cut to at most `limit` characters, with "…" when cut.
    static func truncated(_ text: String, to limit: Int) -> String {
        text.count > limit ? String(text.prefix(max(0, limit - 1))) + "…" : text
    }
}
