import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 with a scripted handler: the tests' stand-in for an OpenAI-compatible API.
final class LoopbackHTTPServer: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var headers: HTTPHeaders
        var body: Data

        func json() -> [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus = .ok
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        var body: Data = Data()
        /// Send the head (announcing the body's length) and then nothing: a provider that stalls mid-answer.
        var stallAfterHead = false

        static func json(_ object: Any, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> Response {
            Response(
                status: status, headers: [("Content-Type", "application/json")] + headers,
                body: try! JSONSerialization.data(withJSONObject: object))
        }
    }

    typealias Handler = @Sendable (Request) async -> Response

    private let channel: any Channel
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    static func start(_ handler: @escaping Handler) async throws -> LoopbackHTTPServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handler))
                }
            }
        return LoopbackHTTPServer(channel: try await bootstrap.bind(host: "127.0.0.1", port: 0).get())
    }

    func stop() async {
        try? await channel.close()
    }

    private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let handler: Handler
        private var head: HTTPRequestHead?
        private var body = ByteBuffer()

        init(_ handler: @escaping Handler) { self.handler = handler }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let request = Request(method: head.method, path: head.uri, headers: head.headers, body: Data(body.readableBytesView))
                let channel = context.channel
                let handler = self.handler
                context.eventLoop.makeFutureWithTask { await handler(request) }.whenSuccess { response in
                    var headers = HTTPHeaders(response.headers)
                    headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
                    let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
                    if response.stallAfterHead {
                        channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
                        return
                    }
                    channel.write(HTTPServerResponsePart.head(head), promise: nil)
                    channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body))), promise: nil)
                    channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                }
            }
        }
    }
}
