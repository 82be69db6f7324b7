internal import CCurl

extension HTTPClient {
    /// libcurl's version line, e.g. `libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13 ...`.
    public static var libraryVersion: String { String(cString: curl_version()) }
}
