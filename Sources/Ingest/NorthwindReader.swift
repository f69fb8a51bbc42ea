import Foundation

/// Northwind-style ERP tables, as one CSV per table (a folder) or as a PostgreSQL dump of `INSERT` statements.
/// Related rows become one readable document: an order with its customer, employee, shipper and lines (product,
/// quantity, price, discount, total); customers, products, suppliers, employees, categories and shippers are
/// documents of their own. Column and table names match across both forms (`orderID` = `order_id`).
public enum NorthwindReader {
    /// Rows of each table by canonical table name, each row keyed by canonical column name, with its line.
    public typealias Tables = [String: [(line: Int, file: String, values: [String: String])]]

    /// Every `*.csv` of a folder.
    public static func readFolder(_ folder: String) -> ReadResult {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".csv") }.sorted()
        return readFiles(names.map { (folder as NSString).appendingPathComponent($0) })
    }

    /// Northwind tables as CSV files: each file's table is told from its header (`shipperID,companyName,phone` is
    /// the shippers), else from its name. Tables that only add to other documents (order lines, regions,
    /// territories) give nothing on their own, and say so.
    public static func readFiles(_ paths: [String]) -> ReadResult {
        var tables: Tables = [:]
        var issues: [IngestIssue] = []
        for path in paths {
            let name = (path as NSString).lastPathComponent
            do {
                let table = try CSVTable.read(path, name: name)
                issues += table.issues
                let key = self.table(header: table.header) ?? canonicalTable(String(name.prefix { $0 != "." }))
                tables[key, default: []] += table.rows.map { row in
                    (row.line, name, Dictionary(row.values.map { (FieldLabel.canonical($0.key), $0.value == "NULL" ? "" : $0.value) }, uniquingKeysWith: { a, _ in a }))
                }
            } catch {
                issues.append(error)
            }
        }
        var result = documents(tables)
        if result.records.isEmpty {
            for (table, rows) in tables.sorted(by: { $0.key < $1.key }) where !rows.isEmpty && !documentTables.contains(table) {
                issues.append(
                    IngestIssue(
                        file: rows[0].file, line: nil,
                        reason: "the Northwind table \(table) has no documents of its own (its rows are part of orders or employees); ingest it with the other tables"))
            }
        }
        result.issues = issues + result.issues
        return result
    }

    /// The tables whose rows become documents of their own.
    static let documentTables: Set<String> = ["customers", "suppliers", "categories", "shippers", "employees", "products", "orders"]

    /// The Northwind table a CSV header belongs to (canonical column names, as both the CSV and the SQL forms have
    /// them), or `nil`.
    public static func table(header: [String]) -> String? {
        let columns = Set(header.map(FieldLabel.canonical))
        func has(_ names: String...) -> Bool { names.allSatisfy(columns.contains) }
        if has("orderid", "productid", "quantity") { return "orderdetails" }
        if has("orderid", "customerid", "shipvia") { return "orders" }
        if has("productid", "productname") { return "products" }
        if has("shipperid", "companyname") { return "shippers" }
        if has("supplierid", "companyname") { return "suppliers" }
        if has("customerid", "companyname") { return "customers" }
        if has("categoryid", "categoryname") { return "categories" }
        if has("employeeid", "lastname", "firstname") { return "employees" }
        if has("employeeid", "territoryid") { return "employeeterritories" }
        if has("territoryid", "territorydescription") { return "territories" }
        if has("regionid", "regiondescription") { return "regions" }
        return nil
    }

    /// A `pg_dump` with `CREATE TABLE` and one-line `INSERT INTO t VALUES (…);` statements.
    public static func readDump(_ path: String) -> ReadResult {
        let name = (path as NSString).lastPathComponent
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return ReadResult(issues: [IngestIssue(file: name, line: nil, reason: "cannot read the file as UTF-8")])
        }
        var columns: [String: [String]] = [:]
        var tables: Tables = [:]
        var issues: [IngestIssue] = []
        var creating: String?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let table = creating {
                if line.hasPrefix(")") {
                    creating = nil
                } else if let column = line.split(separator: " ").first, !["CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE"].contains(column.uppercased()) {
                    columns[table, default: []].append(FieldLabel.canonical(String(column).trimmingCharacters(in: CharacterSet(charactersIn: "\""))))
                }
                continue
            }
            if line.uppercased().hasPrefix("CREATE TABLE "), let name = line.dropFirst(13).split(separator: " ").first {
                creating = canonicalTable(String(name).replacingOccurrences(of: "public.", with: ""))
                continue
            }
            guard line.uppercased().hasPrefix("INSERT INTO "), let valuesStart = line.range(of: " VALUES (", options: .caseInsensitive) else { continue }
            let table = canonicalTable(
                line[line.index(line.startIndex, offsetBy: 12)..<valuesStart.lowerBound].trimmingCharacters(in: .whitespaces)
                    .replacingOccurrences(of: "public.", with: ""))
            guard let names = columns[table] else {
                issues.append(IngestIssue(file: name, line: index + 1, reason: "INSERT INTO a table whose CREATE TABLE was not seen"))
                continue
            }
            guard let values = sqlValues(String(line[valuesStart.upperBound...])), values.count == names.count else {
                issues.append(IngestIssue(file: name, line: index + 1, reason: "the INSERT's values do not match the \(names.count) columns of \(table)"))
                continue
            }
            tables[table, default: []].append((index + 1, name, Dictionary(zip(names, values.map { $0 ?? "" }), uniquingKeysWith: { a, _ in a })))
        }
        var result = documents(tables)
        result.issues = issues + result.issues
        return result
    }

    static func canonicalTable(_ name: String) -> String {
        let key = FieldLabel.canonical(name)
        return key == "region" ? "regions" : key
    }

    /// The values of `…);` after `VALUES (`: numbers and NULL bare, strings quoted with `''` escapes.
    static func sqlValues(_ text: String) -> [String?]? {
        var values: [String?] = []
        var characters = Array(text)
        while characters.last == ";" || characters.last == ")" || characters.last == " " { characters.removeLast() }
        var index = 0
        while index <= characters.count {
            while index < characters.count, characters[index] == " " { index += 1 }
            if index < characters.count, characters[index] == "E" || characters[index] == "e", index + 1 < characters.count, characters[index + 1] == "'" {
                index += 1
            }
            if index < characters.count, characters[index] == "'" {
                var value = ""
                index += 1
                while index < characters.count {
                    if characters[index] == "'" {
                        if index + 1 < characters.count, characters[index + 1] == "'" {
                            value.append("'")
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    value.append(characters[index])
                    index += 1
                }
                values.append(value.hasPrefix("\\x") ? nil : value)
            } else {
                var token = ""
                while index < characters.count, characters[index] != "," { token.append(characters[index]); index += 1 }
                let trimmed = token.trimmingCharacters(in: .whitespaces)
                values.append(trimmed.uppercased() == "NULL" ? nil : trimmed)
            }
            while index < characters.count, characters[index] == " " { index += 1 }
            if index < characters.count, characters[index] == "," { index += 1; continue }
            break
        }
        return values
    }

    static func number(_ text: String?) -> Double? { text.flatMap { Double($0) } }

    static func money(_ value: Double) -> String { String(format: "%.2f", value) }

    static func day(_ text: String?) -> String { String((text ?? "").prefix(10)) }

    /// The documents over the tables.
    static func documents(_ tables: Tables) -> ReadResult {
        var result = ReadResult()
        func rows(_ table: String) -> [(line: Int, file: String, values: [String: String])] { tables[table] ?? [] }
        func index(_ table: String, _ key: String) -> [String: [String: String]] {
            Dictionary(rows(table).compactMap { row in row.values[key].map { ($0, row.values) } }, uniquingKeysWith: { a, _ in a })
        }
        let customers = index("customers", "customerid")
        let employees = index("employees", "employeeid")
        let shippers = index("shippers", "shipperid")
        let products = index("products", "productid")
        let suppliers = index("suppliers", "supplierid")
        let categories = index("categories", "categoryid")
        func person(_ row: [String: String]?) -> String {
            guard let row else { return "" }
            return [row["firstname"], row["lastname"]].compactMap { $0 }.joined(separator: " ")
        }
        func address(_ row: [String: String], prefix: String = "") -> String {
            ["address", "city", "region", "postalcode", "country"].compactMap { row[prefix + $0] }.filter { !$0.isEmpty }.joined(separator: ", ")
        }
        func add(_ table: String, key: String, type: String, build: ([String: String]) -> SourceRecord?) {
            for row in rows(table) {
                guard let id = row.values[key], !id.isEmpty else {
                    result.issues.append(IngestIssue(file: row.file, line: row.line, reason: "the \(type.lowercased()) row has no \(key)"))
                    continue
                }
                if var record = build(row.values) {
                    record.id = id
                    result.records.append(record)
                }
            }
        }
        add("customers", key: "customerid", type: "Customer") { row in
            SourceRecord(
                system: "northwind", type: "Customer", id: "", title: row["companyname"] ?? "",
                fields: [
                    .init("Customer ID", row["customerid"] ?? ""), .init("Contact", [row["contactname"], row["contacttitle"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")),
                    .init("Address", address(row)), .init("Phone", row["phone"] ?? ""), .init("Fax", row["fax"] ?? ""),
                ], metadata: ["country": row["country"] ?? ""])
        }
        add("suppliers", key: "supplierid", type: "Supplier") { row in
            SourceRecord(
                system: "northwind", type: "Supplier", id: "", title: row["companyname"] ?? "",
                fields: [
                    .init("Contact", [row["contactname"], row["contacttitle"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")),
                    .init("Address", address(row)), .init("Phone", row["phone"] ?? ""), .init("Home page", row["homepage"] ?? ""),
                ])
        }
        add("categories", key: "categoryid", type: "Category") { row in
            SourceRecord(system: "northwind", type: "Category", id: "", title: row["categoryname"] ?? "", fields: [.init("Description", row["description"] ?? "")])
        }
        add("shippers", key: "shipperid", type: "Shipper") { row in
            SourceRecord(system: "northwind", type: "Shipper", id: "", title: row["companyname"] ?? "", fields: [.init("Phone", row["phone"] ?? "")])
        }
        add("employees", key: "employeeid", type: "Employee") { row in
            SourceRecord(
                system: "northwind", type: "Employee", id: "", title: person(row),
                fields: [
                    .init("Title", row["title"] ?? ""), .init("Hire date", day(row["hiredate"])), .init("Reports to", person(employees[row["reportsto"] ?? ""])),
                    .init("Address", address(row)), .init("Home phone", row["homephone"] ?? ""), .init("Extension", row["extension"] ?? ""),
                ], text: row["notes"] ?? "")
        }
        add("products", key: "productid", type: "Product") { row in
            SourceRecord(
                system: "northwind", type: "Product", id: "", title: row["productname"] ?? "",
                fields: [
                    .init("Supplier", suppliers[row["supplierid"] ?? ""]?["companyname"] ?? ""),
                    .init("Category", categories[row["categoryid"] ?? ""]?["categoryname"] ?? ""), .init("Quantity per unit", row["quantityperunit"] ?? ""),
                    .init("Unit price", number(row["unitprice"]).map(money) ?? ""), .init("Units in stock", row["unitsinstock"] ?? ""),
                    .init("Units on order", row["unitsonorder"] ?? ""), .init("Reorder level", row["reorderlevel"] ?? ""),
                    .init("Discontinued", row["discontinued"] == "1" ? "yes" : "no"),
                ])
        }
        var lines: [String: [String]] = [:]
        var totals: [String: Double] = [:]
        for row in rows("orderdetails") {
            guard let order = row.values["orderid"], let quantity = number(row.values["quantity"]), let price = number(row.values["unitprice"]) else {
                result.issues.append(IngestIssue(file: row.file, line: row.line, reason: "the order line lacks its order, quantity or price"))
                continue
            }
            let discount = number(row.values["discount"]) ?? 0
            let amount = quantity * price * (1 - discount)
            let product = products[row.values["productid"] ?? ""]?["productname"] ?? "product \(row.values["productid"] ?? "?")"
            let off = discount > 0 ? " less \(Int((discount * 100).rounded())) %" : ""
            lines[order, default: []].append("- \(product): \(Int(quantity)) × \(money(price))\(off) = \(money(amount))")
            totals[order, default: 0] += amount
        }
        add("orders", key: "orderid", type: "Order") { row in
            let id = row["orderid"] ?? ""
            let customer = customers[row["customerid"] ?? ""]?["companyname"] ?? row["customerid"] ?? ""
            let text = (lines[id] ?? []).isEmpty ? "" : "Order lines\n" + (lines[id] ?? []).joined(separator: "\n") + "\nOrder total: \(money(totals[id] ?? 0))"
            return SourceRecord(
                system: "northwind", type: "Order", id: "", title: "Order \(id) — \(customer)",
                fields: [
                    .init("Customer", customer), .init("Employee", person(employees[row["employeeid"] ?? ""])), .init("Order date", day(row["orderdate"])),
                    .init("Required date", day(row["requireddate"])), .init("Shipped date", day(row["shippeddate"])),
                    .init("Shipped via", shippers[row["shipvia"] ?? ""]?["companyname"] ?? ""), .init("Freight", number(row["freight"]).map(money) ?? ""),
                    .init("Ship to", ([row["shipname"] ?? ""] + [address(row, prefix: "ship")]).filter { !$0.isEmpty }.joined(separator: ", ")),
                ], text: text, metadata: ["customer": row["customerid"] ?? "", "order_date": day(row["orderdate"])])
        }
        return result
    }
}
