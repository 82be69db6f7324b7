/// A deterministic, mergeable uniform sample of at most `capacity` items:
/// the items with the smallest keys, where a key is the seeded portable hash
/// of the item's content (bottom-k sampling).
///
/// The sample depends only on the multiset of items and the seed — not on
/// arrival order — so streaming equals batch and merging equals the sample of
/// the union. Identical contents share a key and are kept or dropped together.
public struct BottomKSample<Element: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    /// One kept item and its sampling key.
    public struct Entry: Sendable, Hashable, Codable {
        /// The sampling key (smaller is kept first).
        public var key: UInt64
        /// The item.
        public var element: Element
    }

    /// The maximum number of kept items.
    public let capacity: Int
    /// Items offered so far.
    public private(set) var offeredCount = 0
    /// The kept items, ascending by key.
    public private(set) var entries: [Entry] = []

    /// An empty sample of at most `capacity` items.
    public init(capacity: Int) {
        precondition(capacity >= 0, "capacity must not be negative")
        self.capacity = capacity
    }

    /// Whether every offered item is kept.
    public var isComplete: Bool { entries.count == offeredCount }

    /// The kept items, ascending by key.
    public var elements: [Element] { entries.map(\.element) }

    /// Whether an item with this key would be kept now.
    public func wouldKeep(key: UInt64) -> Bool {
        entries.count < capacity || (entries.last.map { key < $0.key } ?? false)
    }

    /// Offers one item with its key; `makeElement` is called only if it is kept.
    public mutating func offer(key: UInt64, _ makeElement: () -> Element) {
        offeredCount += 1
        guard capacity > 0, wouldKeep(key: key) else { return }
        insert(Entry(key: key, element: makeElement()))
    }

    /// Keeps the bottom `capacity` of both samples.
    public mutating func merge(_ other: BottomKSample<Element>) {
        offeredCount += other.offeredCount
        for entry in other.entries where wouldKeep(key: entry.key) {
            insert(entry)
        }
    }

    /// Rewrites every kept element in place.
    public mutating func updateElements(_ body: (inout Element) -> Void) {
        for index in entries.indices { body(&entries[index].element) }
    }

    private mutating func insert(_ entry: Entry) {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].key <= entry.key { low = mid + 1 } else { high = mid }
        }
        entries.insert(entry, at: low)
        if entries.count > capacity { entries.removeLast() }
    }
}
