/// One HTTP request, as plain Swift values.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order; names are case-insensitive on the wire.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Limit for the whole transfer (connect, send, wait, receive).
    public var timeout: Duration
    /// Limit for establishing the connection only.
    public var connectTimeout: Duration

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(60),
        connectTimeout: Duration = .seconds(5)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// A `POST` of a JSON body (already encoded) with the matching content type.
    public static func postJSON(
        url: String, body: [UInt8], headers: [(name: String, value: String)] = [], timeout: Duration = .seconds(60)
    ) -> HTTPRequest {
        HTTPRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json")] + headers,
            body: body, timeout: timeout
        )
    }
}
