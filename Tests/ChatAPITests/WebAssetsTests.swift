@testable import ChatAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StoreTesting
import Testing

@Suite("The web pages")
struct WebAssetsTests {
    @Test("pages and assets are served with their types, an ETag, revalidation and the strict CSP; nothing outside the web folder is")
    func serving() async throws {
        try await APIHarness.withAPI(.sqlite) { api in
            func get(_ path: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, HTTPFields, String) {
                try await api.client.execute(uri: path, method: .get, headers: headers) { response in
                    (response.status, response.headers, String(decoding: response.body.readableBytesView, as: UTF8.self))
                }
            }
            for (path, type, marker) in [
                ("/", "text/html; charset=utf-8", "/assets/app.js"), ("/verify?token=abc", "text/html; charset=utf-8", "/assets/app.js"),
                ("/admin", "text/html; charset=utf-8", "/assets/admin.js"), ("/assets/api.js", "text/javascript; charset=utf-8", "X-CSRF-Token"),
                ("/assets/base.css", "text/css; charset=utf-8", ":root"), ("/manifest.webmanifest", "application/manifest+json", "\"start_url\""),
                ("/sw.js", "text/javascript; charset=utf-8", "caches"),
            ] {
                let (status, headers, body) = try await get(path)
                #expect(status == .ok && headers[.contentType] == type && body.contains(marker), "\(path): \(status) \(headers[.contentType] ?? "")")
                let policy = headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
                #expect(policy.contains("script-src 'self'") && policy.contains("require-trusted-types-for 'script'") && !policy.contains("unsafe"))
                #expect(headers[.cacheControl] == "no-cache")
                let etag = try #require(headers[.eTag])
                let (again, _, empty) = try await get(path, headers: [.ifNoneMatch: etag])
                #expect(again == .notModified && empty.isEmpty)
            }
            let icon = try await api.client.execute(uri: "/assets/icons/icon-192.png", method: .get) { ($0.headers[.contentType], $0.body.readableBytes) }
            #expect(icon.0 == "image/png" && icon.1 > 1000)
            // No way out of the web folder, no hidden files, no directory listings.
            for path in ["/assets/../../Package.swift", "/assets/%2e%2e/openapi.json", "/assets/.hidden", "/assets/", "/assets/icons", "/assets/nope.js"] {
                let (status, _, _) = try await get(path)
                #expect(status == .notFound, "\(path): \(status)")
            }
        }
    }

    @Test("the page shell references only files that exist")
    func shellReferences() throws {
        let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ChatAPI/Resources/web")
        for page in ["index.html", "admin.html"] {
            let html = try String(contentsOf: web.appendingPathComponent(page), encoding: .utf8)
            #expect(!html.contains("<script>") && !html.contains("style=\"") && !html.contains(" onclick="), "\(page) has inline script or style")
            for match in html.matches(of: /(?:src|href)="\/(assets\/[^"]+)"/) {
                #expect(FileManager.default.fileExists(atPath: web.appendingPathComponent(String(match.1)).path), "\(page) links \(match.1)")
            }
        }
    }
}
