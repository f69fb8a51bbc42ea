import Chat
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Retrieval
import Storage

/// The Model Context Protocol over Streamable HTTP (revision 2025-06-18) at `/mcp`, for assistants and IDEs that call
/// tools: `search_knowledge`, `ask` and `get_document`, each under the rights of the person behind the API key (or
/// session token) that calls it, so an MCP client never reads what that person cannot.
///
/// Stateless: every `POST` carries one JSON-RPC message and is answered with `application/json` (a request) or 202 (a
/// notification or response); no session id is issued, and `GET` (a server-to-client stream) and `DELETE` answer 405.
/// The caller's identity comes from each HTTP request's own `Authorization` header, never from a session shared
/// between requests. Resources and prompts are not offered: documents are reached through `get_document`, whose
/// answer an MCP client can quote as it would a resource.
struct MCPController {
    let turns: ChatTurns
    let bank: KnowledgeBank
    let floor: Double
    let publicURL: String

    static let protocolVersions = ["2025-06-18", "2025-03-26"]
    static let serverVersion = "0.1.0"

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post(use: post)
        routes.get(use: notAllowed)
        routes.delete(use: notAllowed)
        return routes
    }

    func notAllowed(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.caller()
        throw APIError(
            .methodNotAllowed, code: "method_not_allowed", "this MCP server is stateless: POST one JSON-RPC message per request; it opens no event stream",
            headers: [.allow: "POST"])
    }

    /// A JSON-RPC failure: its code, and the HTTP status it travels with.
    struct RPCError: Error {
        var code: Int
        var message: String
        var status: HTTPResponse.Status = .ok
    }

    func post(request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.caller()
        // DNS rebinding: a browser page elsewhere must not reach a server on this machine through the user's network.
        if let origin = request.headers[.origin], !Self.sameOrigin(origin, publicURL) {
            throw APIError.forbidden("requests from the origin \(origin.prefix(100)) are not accepted")
        }
        if let version = request.headers[HTTPField.Name("MCP-Protocol-Version")!], !Self.protocolVersions.contains(version) {
            throw APIError.badRequest(
                "MCP-Protocol-Version \(version.prefix(40)) is not supported; this server speaks \(Self.protocolVersions.joined(separator: ", "))",
                field: "MCP-Protocol-Version")
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let message = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else {
            return Self.reply(id: NSNull(), error: RPCError(code: -32700, message: "the body is not JSON", status: .badRequest))
        }
        guard let object = message as? [String: Any] else {
            return Self.reply(
                id: NSNull(), error: RPCError(code: -32600, message: "send one JSON-RPC message per request (batches are not part of 2025-06-18)", status: .badRequest))
        }
        guard object["jsonrpc"] as? String == "2.0" else {
            return Self.reply(id: object["id"] ?? NSNull(), error: RPCError(code: -32600, message: "jsonrpc must be \"2.0\"", status: .badRequest))
        }
        guard let method = object["method"] as? String else {
            // A response to a request of ours (there are none) or a malformed message.
            if object["result"] != nil || object["error"] != nil { return Response(status: .accepted) }
            return Self.reply(id: object["id"] ?? NSNull(), error: RPCError(code: -32600, message: "a request needs a method", status: .badRequest))
        }
        guard let id = object["id"], id is String || id is NSNumber else {
            return Response(status: .accepted)  // a notification (notifications/initialized, notifications/cancelled …)
        }
        let params = object["params"] as? [String: Any] ?? [:]
        do {
            return Self.reply(id: id, result: try await handle(method, params: params, caller: caller))
        } catch let error as RPCError {
            return Self.reply(id: id, error: error)
        }
    }

    private func handle(_ method: String, params: [String: Any], caller: AuthenticatedUser) async throws -> Any {
        switch method {
        case "initialize":
            let asked = params["protocolVersion"] as? String ?? ""
            return [
                "protocolVersion": Self.protocolVersions.contains(asked) ? asked : Self.protocolVersions[0],
                "capabilities": ["tools": ["listChanged": false]],
                "serverInfo": ["name": "omnifin", "title": "Omnifin knowledge bank", "version": Self.serverVersion],
                "instructions":
                    "Omnifin answers questions from a finance team's knowledge bank. Use search_knowledge to find passages, get_document to read one, "
                    + "and ask for a grounded answer with citations. Everything is limited to what the signed-in person may see.",
            ]
        case "ping":
            return [String: Any]()
        case "tools/list":
            return ["tools": Self.tools(mayAsk: caller.mayChat)]
        case "tools/call":
            guard let name = params["name"] as? String else { throw RPCError(code: -32602, message: "tools/call needs the tool's name") }
            let arguments = params["arguments"] as? [String: Any] ?? [:]
            return try await call(name, arguments, caller: caller)
        default:
            throw RPCError(code: -32601, message: "unknown method \(method.prefix(100)); this server offers initialize, ping, tools/list and tools/call")
        }
    }

    static func tools(mayAsk: Bool) -> [[String: Any]] {
        var tools: [[String: Any]] = [
            [
                "name": "search_knowledge", "title": "Search the knowledge bank",
                "description": "Finds the passages of the knowledge bank that match a query (hybrid semantic and keyword search), best first, one per document.",
                "inputSchema": [
                    "type": "object",
                    "properties": [
                        "query": ["type": "string", "description": "What to look for, in your own words.", "minLength": 1, "maxLength": 2000],
                        "k": ["type": "integer", "description": "How many documents (1 to 20, default 5).", "minimum": 1, "maximum": 20],
                        "source": ["type": "string", "description": "Only documents of this source, e.g. handbook or salesforce."],
                    ],
                    "required": ["query"], "additionalProperties": false,
                ],
                "annotations": ["readOnlyHint": true, "openWorldHint": false],
            ],
            [
                "name": "get_document", "title": "Read a document",
                "description": "The text and metadata of one document of the knowledge bank, by the document_id a search or an answer cited.",
                "inputSchema": [
                    "type": "object", "properties": ["id": ["type": "string", "description": "The document_id.", "minLength": 1, "maxLength": 200]],
                    "required": ["id"], "additionalProperties": false,
                ],
                "annotations": ["readOnlyHint": true, "openWorldHint": false],
            ],
        ]
        if mayAsk {
            tools.insert(
                [
                    "name": "ask", "title": "Ask the knowledge bank",
                    "description":
                        "A grounded answer to a question from the knowledge bank, with numbered citations [n] of the passages it rests on; says so when the bank does not answer it.",
                    "inputSchema": [
                        "type": "object",
                        "properties": ["question": ["type": "string", "description": "The question, as a person would ask it.", "minLength": 1, "maxLength": 2000]],
                        "required": ["question"], "additionalProperties": false,
                    ],
                    "annotations": ["readOnlyHint": true, "openWorldHint": false],
                ], at: 1)
        }
        return tools
    }

    /// A tool's result: text for any client, and the same as `structuredContent`.
    private func call(_ name: String, _ arguments: [String: Any], caller: AuthenticatedUser) async throws -> [String: Any] {
        func text(_ field: String, required: Bool = true) throws -> String? {
            guard let value = arguments[field] else {
                if required { throw RPCError(code: -32602, message: "\(name) needs the argument \(field)") }
                return nil
            }
            guard let string = value as? String, !string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, string.count <= 2000 else {
                throw RPCError(code: -32602, message: "\(field) must be text of 1 to 2,000 characters")
            }
            return string
        }
        let known: [String: Set<String>] = ["search_knowledge": ["query", "k", "source"], "ask": ["question"], "get_document": ["id"]]
        guard let fields = known[name], name != "ask" || caller.mayChat else {
            throw RPCError(code: -32602, message: "unknown tool \(name.prefix(100)); tools/list names the tools this key may call")
        }
        if let unknown = arguments.keys.sorted().first(where: { !fields.contains($0) }) {
            throw RPCError(code: -32602, message: "\(name) has no argument \(unknown.prefix(100)); it takes \(fields.sorted().joined(separator: ", "))")
        }
        switch name {
        case "search_knowledge":
            let query = try text("query")!
            var k = 5
            if let value = arguments["k"] {
                guard let number = value as? Int, StoredJSON.bool(value) == nil, (1...20).contains(number) else {
                    throw RPCError(code: -32602, message: "k must be a whole number from 1 to 20")
                }
                k = number
            }
            let source = try text("source", required: false)
            let hits = try await OpenAIController.search(bank, query, k: k, source: source, floor: floor, rights: caller.rights)
            let lines = hits.map { "[\($0.n)] \($0.title) (document_id \($0.documentId), score \(String(format: "%.3f", $0.score)))\n\($0.snippet)" }
            return Self.result(
                lines.isEmpty ? "Nothing in the knowledge bank matches \"\(query)\"." : lines.joined(separator: "\n\n"),
                structured: ["results": hits.map { ["document_id": $0.documentId, "title": $0.title, "snippet": $0.snippet, "score": $0.score] as [String: Any] }])
        case "ask":
            let question = try text("question")!
            do {
                let answer = try await turns.answer(question, history: [], caller: caller, client: "mcp")
                let sources = OpenAIController.sourcesBlock(answer.citations)
                return Self.result(
                    answer.text + sources,
                    structured: [
                        "answer": answer.text, "grounded": answer.grounded, "generator": answer.generator,
                        "citations": answer.citations.map { ["n": $0.n, "document_id": $0.documentId, "title": $0.title, "snippet": $0.snippet] as [String: Any] },
                    ])
            } catch let error as ChatError {
                let apiError = ErrorMiddleware<AppRequestContext>.map(error)
                return Self.result(apiError.message, structured: ["error": apiError.code], isError: true)
            }
        default:
            let id = try text("id")!
            // One answer for a missing and a hidden document: a client learns nothing of what it may not see.
            guard let document = try await bank.document(id: id, rights: caller.rights) else {
                return Self.result("There is no document \(id.prefix(200)) that you may read.", structured: ["error": "not_found"], isError: true)
            }
            let structured: [String: Any] = [
                "id": document.id, "title": document.title, "source": document.source, "external_id": document.externalID ?? NSNull(),
                "metadata": document.metadata, "body": document.body, "updated_at": ISO8601DateFormatter().string(from: document.updatedAt),
            ]
            return Self.result("# \(document.title)\n\n\(document.body)", structured: structured)
        }
    }

    static func result(_ text: String, structured: [String: Any], isError: Bool = false) -> [String: Any] {
        ["content": [["type": "text", "text": text]], "structuredContent": structured, "isError": isError]
    }

    static func reply(id: Any, result: Any) -> Response {
        json(["jsonrpc": "2.0", "id": id, "result": result], status: .ok)
    }

    static func reply(id: Any, error: RPCError) -> Response {
        json(["jsonrpc": "2.0", "id": id, "error": ["code": error.code, "message": error.message]], status: error.status)
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Whether `origin` is the server's own (scheme, host and port of its public URL) or a loopback address.
    static func sameOrigin(_ origin: String, _ publicURL: String) -> Bool {
        guard let asked = URLComponents(string: origin), let own = URLComponents(string: publicURL) else { return false }
        if asked.scheme == own.scheme && asked.host == own.host && asked.port == own.port { return true }
        return false
    }
}
