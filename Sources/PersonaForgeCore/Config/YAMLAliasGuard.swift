import Yams

/// Bounds what YAML aliases (`*name`) can make of a run config: a "billion laughs"
/// document is a few hundred bytes whose aliases expand to billions of nodes.
///
/// Yams shares an aliased node instead of copying it, so composing is cheap, with one
/// exception: it hashes every mapping key to find duplicates, so an alias *inside a
/// key* is expanded while the document is composed. Hence two checks:
/// ``complexKey(in:)`` runs on the text before composing and refuses explicit keys
/// (`? key`) and aliases inside implicit keys; ``expansion(of:limits:)`` runs on the
/// composed tree (while its parser is alive, which keeps the anchors) and measures,
/// without expanding anything, how much every alias adds and how deep the tree gets.
enum YAMLAliasGuard {
    /// The deepest a config may nest once its aliases are expanded: libyaml's own
    /// limit for the text, so that the readers' recursion stays bounded.
    static let maxDepth = 1000

    enum KeyProblem: Equatable {
        /// `? key`: an explicit (complex) mapping key.
        case explicitKey(line: Int)
        /// An alias used in a mapping key, e.g. `*big : 1` or `{[*a]: 1}`.
        case aliasInKey(line: Int)
    }

    struct Expansion: Equatable {
        /// What the aliases add, in bytes of scalar text plus one per node.
        var addedBytes: Int
        /// Depth of the tree with aliases expanded.
        var depth: Int
        /// Where the budget ran out: the collection holding the alias, and the anchor.
        var line: Int
        var anchor: String
    }

    // MARK: Before composing

    /// The first explicit key or alias inside an implicit mapping key, or nil.
    ///
    /// A lexical scan, exact for what a run config uses: quoted scalars (single and
    /// double, across lines), comments, block scalars (`|`, `>`: their content is
    /// skipped), flow collections (across lines) and block sequences. Implicit keys
    /// fit on one line (YAML 1.2), so an alias before a `:` in the same flow entry (or
    /// on the same line, in block context) is in the key.
    static func complexKey(in yaml: String) -> KeyProblem? {
        var lineNumber = 0
        var quote: UInt8?  // inside a quoted scalar that goes on to the next line
        var blockScalarParent: Int?  // inside a block scalar: its parent's column
        // Per flow depth (0: block context): does the current entry have an alias, and
        // does the collection have one anywhere (it makes the entry holding it have one)?
        var levels: [(entry: Bool, collection: Bool)] = [(false, false)]
        for rawLine in yaml.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine)
            let indentation = line.prefix { $0 == UInt8(ascii: " ") }.count
            if let parent = blockScalarParent {
                let blank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
                if blank || indentation > parent { continue }
                blockScalarParent = nil
            }
            levels[0] = (false, false)
            var atNodeStart = quote == nil
            var blockNodeColumn = indentation
            var index = 0
            func byte(_ offset: Int) -> UInt8? { index + offset < line.count ? line[index + offset] : nil }
            func isBlankOrEnd(_ value: UInt8?) -> Bool {
                value == nil || value == UInt8(ascii: " ") || value == UInt8(ascii: "\t") || value == UInt8(ascii: "\r")
            }
            func isFlowIndicator(_ value: UInt8?) -> Bool {
                value.map { ",[]{}".utf8.contains($0) } ?? false
            }
            // libyaml's anchor and alias names: letters, digits, '-', '_'.
            func skipName() {
                while index < line.count, case let c = line[index],
                      (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
                        || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") {
                    index += 1
                }
            }
            while index < line.count {
                let c = line[index]
                if let open = quote {
                    if open == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if c == open {
                        if open == UInt8(ascii: "'") && byte(1) == open {
                            index += 2
                            continue
                        }
                        quote = nil
                    }
                    index += 1
                    continue
                }
                let flowDepth = levels.count - 1
                if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                    index += 1
                    continue
                }
                if c == UInt8(ascii: "#"), index == 0 || isBlankOrEnd(line[index - 1]) { break }
                if atNodeStart {
                    switch c {
                    case UInt8(ascii: "-") where flowDepth == 0 && isBlankOrEnd(byte(1)):
                        levels[0].entry = false
                        blockNodeColumn = index
                        index += 1
                        continue
                    case UInt8(ascii: "?") where isBlankOrEnd(byte(1)):
                        return .explicitKey(line: lineNumber)
                    case UInt8(ascii: "*"):
                        levels[flowDepth] = (true, true)
                        index += 1
                        skipName()
                        atNodeStart = false
                        continue
                    case UInt8(ascii: "&"):
                        // An anchor: the node itself follows.
                        index += 1
                        skipName()
                        continue
                    case UInt8(ascii: "!"):
                        // A tag: the node itself follows.
                        while index < line.count, !isBlankOrEnd(line[index]), !isFlowIndicator(line[index]) { index += 1 }
                        continue
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        quote = c
                        atNodeStart = false
                        index += 1
                        continue
                    case UInt8(ascii: "|"), UInt8(ascii: ">") where flowDepth == 0:
                        blockScalarParent = blockNodeColumn
                        index = line.count
                        continue
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        levels.append((false, false))
                        index += 1
                        continue
                    default:
                        if flowDepth == 0 { blockNodeColumn = index }
                        atNodeStart = false
                    }
                }
                switch c {
                case UInt8(ascii: ":") where isBlankOrEnd(byte(1)) || (flowDepth > 0 && (isFlowIndicator(byte(1)) || (index > 0 && "\"'".utf8.contains(line[index - 1])))):
                    if levels[flowDepth].entry { return .aliasInKey(line: lineNumber) }
                    atNodeStart = true
                case UInt8(ascii: ",") where flowDepth > 0:
                    levels[flowDepth].entry = false
                    atNodeStart = true
                // One `where` per pattern: a `where` after the last one applies to it alone,
                // so an unmatched `]` in block context once popped the base level (found by
                // fuzzing: a crash on `b: x*b,*b]`).
                case UInt8(ascii: "]") where flowDepth > 0, UInt8(ascii: "}") where flowDepth > 0:
                    if levels.removeLast().collection { levels[flowDepth - 1] = (true, true) }
                    atNodeStart = false
                case UInt8(ascii: "[") where flowDepth > 0, UInt8(ascii: "{") where flowDepth > 0:
                    levels.append((false, false))
                    atNodeStart = true
                default:
                    break
                }
                index += 1
            }
        }
        return nil
    }

    // MARK: After composing

    /// How much the aliases of `root` add and how deep it gets once they are
    /// expanded, or nil when both stay within `limits`. Linear in the document: an
    /// alias's expanded size is remembered by anchor, never recomputed.
    ///
    /// Must be called while the `Parser` that composed `root` is alive: nodes hold
    /// their anchors weakly and the parser owns them.
    static func expansion(of root: Node, limits: InputLimits) -> Expansion? {
        var known: [ObjectIdentifier: (bytes: Int, depth: Int)] = [:]
        var added = 0
        var exceeded: Expansion?
        let cap = Int.max / 4

        func measure(_ node: Node, parentLine: Int) -> (bytes: Int, depth: Int) {
            if exceeded != nil { return (0, 0) }
            let anchor = node.anchorObject
            if let anchor, let size = known[ObjectIdentifier(anchor)] {
                // An alias: the node it names, again.
                added = min(cap, added + size.bytes)
                if added > limits.aliasBytes || size.depth > maxDepth {
                    exceeded = Expansion(addedBytes: added, depth: size.depth, line: parentLine, anchor: anchor.rawValue)
                }
                return size
            }
            var size: (bytes: Int, depth: Int)
            let line = node.mark?.line ?? parentLine
            switch node {
            case .scalar(let scalar):
                size = (1 + scalar.string.utf8.count, 1)
            case .sequence(let sequence):
                size = (1, 1)
                for child in sequence {
                    let inner = measure(child, parentLine: line)
                    size = (min(cap, size.bytes + inner.bytes), max(size.depth, inner.depth + 1))
                }
            case .mapping(let mapping):
                size = (1, 1)
                for (key, value) in mapping {
                    for child in [key, value] {
                        let inner = measure(child, parentLine: line)
                        size = (min(cap, size.bytes + inner.bytes), max(size.depth, inner.depth + 1))
                    }
                }
            case .alias:
                size = (1, 1)
            }
            if let anchor { known[ObjectIdentifier(anchor)] = size }
            if exceeded == nil, size.depth > maxDepth {
                exceeded = Expansion(addedBytes: added, depth: size.depth, line: line, anchor: "")
            }
            return size
        }
        _ = measure(root, parentLine: 1)
        return exceeded
    }
}

private extension Node {
    /// The anchor (`&name`) of this node, shared by every alias of it.
    var anchorObject: Anchor? {
        switch self {
        case .scalar(let scalar): scalar.anchor
        case .mapping(let mapping): mapping.anchor
        case .sequence(let sequence): sequence.anchor
        case .alias: nil
        }
    }
}
