import Chat
import Foundation
import Hummingbird
import Retrieval
import Storage

/// `/api/admin/prompts`: versioned prompt templates, one active version per name (admins only).
package struct PromptsController {
    let prompts: any PromptStore
    let audit: AuditTrail

    struct PromptView: ResponseEncodable {
        var id: String
        var name: String
        var version: Int
        var template: String
        var active: Bool
        var placeholders: [String]
        var createdBy: String?
        var createdAt: Date

        init(_ record: PromptRecord) {
            id = record.id
            name = record.name
            version = record.version
            template = record.template
            active = record.active
            placeholders = (try? PromptTemplate.placeholders(in: record.template)) ?? []
            createdBy = record.createdBy
            createdAt = record.createdAt
        }
    }

    struct KindView: Encodable {
        var name: String
        var purpose: String
        var required: [String]
        var optional: [String]
    }

    struct PromptList: ResponseEncodable {
        var prompts: [PromptView]
        var kinds: [KindView]
    }

    package struct CreateRequest: JSONRequestBody {
        var name: String
        var template: String
        var activate: Bool?
        package enum CodingKeys: String, CodingKey, CaseIterable { case name, template, activate }
    }

    package struct UpdateRequest: JSONRequestBody {
        /// A new template becomes a new version of this prompt's name.
        var template: String?
        var activate: Bool?
        package enum CodingKeys: String, CodingKey, CaseIterable { case template, activate }
    }

    struct Change: Encodable, Sendable {
        var name: String
        var version: Int
        var active: Bool
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(use: list)
        routes.post(use: create)
        routes.get(":id", use: show)
        routes.put(":id", use: update)
        return routes
    }


    func list(request: Request, context: AppRequestContext) async throws -> PromptList {
        _ = try context.caller(in: [.admin])
        let name = request.uri.formParameters.get("name").flatMap { $0.isEmpty ? nil : $0 }
        let kinds = PromptTemplate.kinds.sorted { $0.key < $1.key }.map {
            KindView(name: $0.key, purpose: $0.value.purpose, required: $0.value.required.sorted(), optional: $0.value.optional.sorted())
        }
        return PromptList(prompts: try await prompts.prompts(name: name).map(PromptView.init), kinds: kinds)
    }

    func show(request: Request, context: AppRequestContext) async throws -> PromptView {
        _ = try context.caller(in: [.admin])
        return PromptView(try await prompt(context))
    }

    func create(request: Request, context: AppRequestContext) async throws -> EditedResponse<PromptView> {
        let admin = try context.caller(in: [.admin])
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context)
        let record = try await addVersion(name: body.name, template: body.template, activate: body.activate ?? true, by: admin, context: context)
        return EditedResponse(status: .created, response: PromptView(record))
    }

    func update(request: Request, context: AppRequestContext) async throws -> PromptView {
        let admin = try context.caller(in: [.admin])
        let body = try await request.decodeJSON(as: UpdateRequest.self, context: context)
        let existing = try await prompt(context)
        if let template = body.template {
            return PromptView(try await addVersion(name: existing.name, template: template, activate: body.activate ?? true, by: admin, context: context))
        }
        guard body.activate == true else { throw APIError.badRequest("send template (a new version) and/or activate: true", field: "activate") }
        guard let activated = try await prompts.activatePrompt(id: existing.id) else { throw APIError.notFound("no prompt \(existing.id)") }
        await audit.record(
            "prompt.activate", actor: admin.user.id, target: "prompt:\(activated.name)", context: context,
            detail: Change(name: activated.name, version: activated.version, active: true))
        return PromptView(activated)
    }

    private func addVersion(name: String, template: String, activate: Bool, by admin: AuthenticatedUser, context: AppRequestContext) async throws
        -> PromptRecord
    {
        do {
            _ = try PromptTemplate(name: name, text: template)
        } catch {
            throw APIError.badRequest(error.message, field: PromptTemplate.kinds[name] == nil ? "name" : "template")
        }
        let record = try await prompts.addPromptVersion(name: name, template: template, createdBy: admin.user.id, activate: activate, at: Date())
        await audit.record(
            "prompt.create", actor: admin.user.id, target: "prompt:\(name)", context: context,
            detail: Change(name: name, version: record.version, active: activate))
        return record
    }

    private func prompt(_ context: AppRequestContext) async throws -> PromptRecord {
        let id = try context.parameters.require("id")
        guard id.count <= 100, let record = try await prompts.prompt(id: id) else { throw APIError.notFound("no prompt \(id)") }
        return record
    }
}
