import Foundation

/// RFC 4180 CSV read as a stream of rows (quoted fields with commas, doubled quotes and line breaks inside),
/// each with the line it starts on. Reads the file in blocks: large exports are never loaded whole.
public struct CSVReader: Sequence {
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    let path: String
    let separator: UInt8

    public init(path: String, separator: Character = ",") {
        self.path = path
        self.separator = separator.asciiValue ?? UInt8(ascii: ",")
    }

    public func makeIterator() -> Iterator { Iterator(handle: FileHandle(forReadingAtPath: path), separator: separator) }

    public struct Iterator: IteratorProtocol {
        private let handle: FileHandle?
        private let separator: UInt8
        private var buffer: [UInt8] = []
        private var position = 0
        private var atEnd = false
        private var line = 1
        private var started = false

        init(handle: FileHandle?, separator: UInt8) {
            self.handle = handle
            self.separator = separator
        }

        private mutating func nextByte() -> UInt8? {
            if position >= buffer.count {
                guard !atEnd, let handle else { return nil }
                let data = handle.readData(ofLength: 1 << 16)
                if data.isEmpty {
                    atEnd = true
                    try? handle.close()
                    return nil
                }
                buffer = [UInt8](data)
                position = 0
                if !started {
                    started = true
                    if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // UTF-8 byte order mark
                }
            }
            defer { position += 1 }
            return buffer[position]
        }

        private mutating func peekByte() -> UInt8? {
            guard let byte = nextByte() else { return nil }
            position -= 1
            return byte
        }

        public mutating func next() -> Row? {
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            var sawAnything = false
            let startLine = line
            while let byte = nextByte() {
                sawAnything = true
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if peekByte() == UInt8(ascii: "\"") {
                            _ = nextByte()
                            field.append(byte)
                        } else {
                            quoted = false
                        }
                    } else {
                        if byte == UInt8(ascii: "\n") { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    if field.isEmpty { quoted = true } else { field.append(byte) }
                case separator:
                    fields.append(String(decoding: field, as: UTF8.self))
                    field = []
                case UInt8(ascii: "\r"):
                    continue
                case UInt8(ascii: "\n"):
                    line += 1
                    fields.append(String(decoding: field, as: UTF8.self))
                    return Row(line: startLine, fields: fields)
                default:
                    field.append(byte)
                }
            }
            guard sawAnything else { return nil }
            fields.append(String(decoding: field, as: UTF8.self))
            return Row(line: startLine, fields: fields)
        }
    }
}

/// A CSV file as header-keyed rows, the wrong-width rows reported and skipped.
public struct CSVTable {
    public var header: [String]
    public var rows: [(line: Int, values: [String: String])]
    public var issues: [IngestIssue]

    /// - Throws: ``IngestIssue`` when the file cannot be read or has no header.
    public static func read(_ path: String, name: String) throws(IngestIssue) -> CSVTable {
        guard FileManager.default.isReadableFile(atPath: path) else { throw IngestIssue(file: name, line: nil, reason: "cannot read the file") }
        var iterator = CSVReader(path: path).makeIterator()
        guard let header = iterator.next(), !header.fields.allSatisfy(\.isEmpty) else {
            throw IngestIssue(file: name, line: 1, reason: "the CSV file has no header row")
        }
        // A byte order mark (Excel's "CSV UTF-8") is not part of the first column's name.
        let names = header.fields.enumerated().map { index, field in
            (index == 0 && field.hasPrefix("\u{FEFF}") ? String(field.dropFirst()) : field).trimmingCharacters(in: .whitespaces)
        }
        var table = CSVTable(header: names, rows: [], issues: [])
        while let row = iterator.next() {
            if row.fields.count == 1 && row.fields[0].isEmpty { continue }  // a blank line
            guard row.fields.count == table.header.count else {
                table.issues.append(
                    IngestIssue(file: name, line: row.line, reason: "the row has \(row.fields.count) fields where the header has \(table.header.count)"))
                continue
            }
            table.rows.append((row.line, Dictionary(zip(table.header, row.fields), uniquingKeysWith: { first, _ in first })))
        }
        return table
    }
}

extension CSVTable {
    /// A CSV file as a reader starts on it: its name, the table, and a result holding the table's bad rows; or, when
    /// the file cannot be read or has no header, no table and a result with that one issue.
    static func opening(_ path: String) -> (name: String, table: CSVTable?, result: ReadResult) {
        let name = (path as NSString).lastPathComponent
        do {
            let table = try CSVTable.read(path, name: name)
            return (name, table, ReadResult(issues: table.issues))
        } catch {
            return (name, nil, ReadResult(issues: [error]))
        }
    }
}
