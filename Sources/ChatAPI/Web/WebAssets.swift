import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// The web app and the admin panel: plain HTML, CSS and JavaScript modules shipped in the binary's resource bundle
/// (`Sources/ChatAPI/Resources/web`), read into memory once at start, served with an `ETag` and revalidated on
/// every load (`Cache-Control: no-cache`). With ``ServerConfiguration/webDirectory`` they are read from that folder
/// on every request instead, so the pages can be worked on without rebuilding the server.
///
/// The pages call the same REST API as every other client; they hold no secret and need no route of their own.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    private let bundled: [String: Asset]
    private let directory: URL?

    /// The pages a browser may open by address; everything else lives under `/assets/`.
    static let pages: [(route: String, file: String)] = [
        ("/", "index.html"), ("/verify", "index.html"), ("/reset-password", "index.html"), ("/setup", "index.html"), ("/admin", "admin.html"), ("/manifest.webmanifest", "manifest.webmanifest"),
        ("/sw.js", "sw.js"),
    ]

    init(directory: String?) {
        self.directory = directory.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if self.directory == nil, let root = Bundle.module.url(forResource: "web", withExtension: nil) {
            bundled = Self.load(root)
        } else {
            bundled = [:]
        }
    }

    /// Every file under `root`, keyed by its path relative to it.
    private static func load(_ root: URL) -> [String: Asset] {
        var assets: [String: Asset] = [:]
        let base = root.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true, let data = try? Data(contentsOf: url) else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(base.count + 1))
            assets[path] = asset(data, name: path)
        }
        return assets
    }

    private static func asset(_ data: Data, name: String) -> Asset {
        let digest = SHA256.hash(data: data).prefix(12).hexadecimal
        return Asset(body: ByteBuffer(bytes: data), contentType: contentType(of: name), etag: "\"\(digest)\"")
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "webmanifest": "application/manifest+json"
        case "json": "application/json"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// The file at a relative path: only letters, digits, `-`, `_`, `.` and `/`, no `..` and no hidden files, so a
    /// request can never leave the web folder.
    func asset(_ path: String) -> Asset? {
        let allowed = path.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
                || byte == 0x2E || byte == 0x2F
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard allowed, !path.isEmpty, !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) else { return nil }
        guard let directory else { return bundled[path] }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(path)) else { return nil }
        return Self.asset(data, name: path)
    }

    func response(_ asset: Asset, for request: Request) -> Response {
        var headers: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"]
        if request.headers[values: .ifNoneMatch].contains(where: { $0 == asset.etag || $0 == "*" }) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        for page in Self.pages {
            router.get(RouterPath(page.route)) { request, _ -> Response in
                guard let asset = asset(page.file) else { throw APIError.notFound("this build has no web pages (\(page.file) is missing)") }
                return response(asset, for: request)
            }
        }
        router.get("assets/**") { request, context -> Response in
            let path = "assets/" + context.parameters.getCatchAll().joined(separator: "/")
            guard let asset = asset(path) else { throw APIError.notFound("no file \(request.uri.path)") }
            return response(asset, for: request)
        }
    }
}
