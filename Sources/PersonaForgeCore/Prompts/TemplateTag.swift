/// One Mustache tag found by ``TemplateTag/scan(_:)``: enough to check which
/// variables a template uses before anything is rendered.
struct TemplateTag: Hashable {
    enum Kind: Hashable {
        case variable
        case sectionOpen
        case invertedSectionOpen
        case sectionClose
        /// Partials, parents, blocks and delimiter changes: not supported in prompts.
        case unsupported(String)
    }

    var kind: Kind
    /// The variable name with any transform stripped (`uppercased(persona)` → `persona`).
    var name: String
    /// 0-based line of the tag within the template.
    var line: Int

    /// The tags of `template` in order; comments and pragmas are skipped.
    static func scan(_ template: String) -> [TemplateTag] {
        var tags: [TemplateTag] = []
        var rest = template[...]
        var line = 0
        while let open = rest.range(of: "{{") {
            line += rest[rest.startIndex..<open.lowerBound].filter { $0 == "\n" }.count
            let afterOpen = rest[open.upperBound...]
            let triple = afterOpen.hasPrefix("{")
            let closer = triple ? "}}}" : "}}"
            guard let close = afterOpen.range(of: closer) else { break }  // the Mustache parser reports it
            var content = afterOpen[afterOpen.startIndex..<close.lowerBound]
            let tagLine = line
            line += content.filter { $0 == "\n" }.count
            rest = afterOpen[close.upperBound...]
            if triple { content = content.dropFirst() }
            content = content.drop(while: \.isWhitespace)
            guard let sigil = content.first else { continue }
            let kind: Kind
            switch sigil {
            case "!", "%": continue
            case "#": kind = .sectionOpen; content = content.dropFirst()
            case "^": kind = .invertedSectionOpen; content = content.dropFirst()
            case "/": kind = .sectionClose; content = content.dropFirst()
            case "&": kind = .variable; content = content.dropFirst()
            case ">": kind = .unsupported("partials ({{>name}})")
            case "<": kind = .unsupported("parent templates ({{<name}})")
            case "$": kind = .unsupported("blocks ({{$name}})")
            case "=": kind = .unsupported("changing delimiters ({{=<% %>=}})")
            default: kind = triple ? .variable : .variable
            }
            var name = content.trimmingCharactersInWhitespace()
            if let openParen = name.lastIndex(of: "("), let closeParen = name[openParen...].firstIndex(of: ")") {
                name = String(name[name.index(after: openParen)..<closeParen]).trimmingCharactersInWhitespace()
            }
            tags.append(TemplateTag(kind: kind, name: name, line: tagLine))
        }
        return tags
    }
}

extension StringProtocol {
    func trimmingCharactersInWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
