/// A complete HTTP response: status, headers and body, copied out of libcurl.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields of the final response (after redirects), in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Wall time libcurl measured for the transfer.
    public var totalTime: Duration

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], totalTime: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = body
        self.totalTime = totalTime
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body decoded as UTF-8 (invalid sequences repaired).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// True for 2xx statuses.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
