import Storage
import Testing

@Suite("Database URLs")
struct DatabaseLocationTests {
    @Test func sqlite() throws {
        #expect(try DatabaseLocation(url: "sqlite:var/omnifin.db") == .sqlite(path: "var/omnifin.db"))
        #expect(try DatabaseLocation(url: "sqlite:///tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        #expect(throws: StoreError.self) { try DatabaseLocation(url: "sqlite:") }
    }

    @Test func postgres() throws {
        let location = try DatabaseLocation(url: "postgres://app:s%40cret@db.internal:6543/omnifin?sslmode=require")
        guard case .postgres(let p) = location else {
            Issue.record("not parsed as PostgreSQL")
            return
        }
        #expect(p.host == "db.internal" && p.port == 6543 && p.username == "app" && p.password == "s@cret")
        #expect(p.database == "omnifin" && p.tls == .require)
        #expect(!location.description.contains("cret"))
        guard case .postgres(let defaults) = try DatabaseLocation(url: "postgresql://app@localhost") else { return }
        #expect(defaults.port == 5432 && defaults.database == "app" && defaults.tls == .prefer && defaults.password == nil)
    }

    @Test func rejectsWithAClearMessage() {
        for url in ["mysql://x@y/z", "postgres://localhost/db", "postgres://@host/db", "postgres://u@h/d?sslmode=sometimes", "var/omnifin.db"] {
            do {
                _ = try DatabaseLocation(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        do {
            _ = try DatabaseLocation(url: "mysql://u:topsecret@h/d")
        } catch {
            #expect(!error.message.contains("topsecret"))
        }
    }
}
