import ChatAPI
import Foundation
import Index
import Ingest
import Retrieval
import Settings

/// Fuzz targets for every parser that reads data from outside: index snapshots, vector files, safetensors headers,
/// WAV and multipart recordings, JSON request bodies, prompt templates, the CRM/ERP export readers and what a
/// language model answers (citation formats, sentences and numbers for the claim check).
///
/// Built with libFuzzer (`make fuzz`: `swift build -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING`), the target
/// named by `OMNIFIN_FUZZ_TARGET` runs under libFuzzer's driver. Built normally, `omnifin-fuzz TARGET FILE…`
/// runs files through a target once (to replay a crash or check a corpus).
enum FuzzTarget: String, CaseIterable {
    case snapshot, vectors, safetensors, recording, json, prompt, export, answer

    /// Runs one input. Every parser must return or throw its own error; a crash, a hang or a precondition is a bug.
    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .snapshot:
            Scratch.withFile(bytes) { path in
                _ = try? HNSWIndex.snapshotInfo(at: path)
                if let (index, _) = try? HNSWIndex.load(from: path), index.count > 0 {
                    // A snapshot that loads must also search.
                    let dimension = index.configuration.dimension
                    _ = try? index.search([Float](repeating: 0.5, count: dimension), k: 3)
                }
            }
        case .vectors:
            Scratch.withFile(bytes) { path in
                _ = try? VectorFile.readFloatVectors(at: path, limit: 100)
                _ = try? VectorFile.readIntVectors(at: path)
            }
        case .safetensors:
            _ = try? SafeTensors(data: Data(bytes))
        case .recording:
            Parsers.recording(Array(bytes))
        case .json:
            Parsers.requestBody(Data(bytes))
        case .prompt:
            Parsers.promptTemplate(String(decoding: bytes, as: UTF8.self))
        case .answer:
            Parsers.modelAnswer(String(decoding: bytes, as: UTF8.self))
        case .export:
            // The first byte picks the reader, the rest is the file.
            guard let first = bytes.first else { return }
            let formats: [IngestFormat?] = [.salesforceTree, .salesforceCSV, .erpnext, .odoo, .northwindSQL, .jsonLines, .markdown, .html, .text, .northwindCSV, .csv, nil]
            let format = formats[Int(first) % formats.count]
            // nil: the format is told from the content first, as an upload's is.
            Scratch.withFile(UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), suffix: format?.fileSuffix ?? ".dat") { path in
                _ = IngestPipeline.read(path, format: format, type: nil)
            }
        }
    }
}

extension IngestFormat {
    /// The file name ending its reader expects.
    var fileSuffix: String {
        switch self {
        case .salesforceTree, .erpnext: ".json"
        case .salesforceCSV, .northwindCSV, .csv: ".csv"
        case .odoo: ".xml"
        case .northwindSQL: ".sql"
        case .jsonLines: ".jsonl"
        case .markdown: ".md"
        case .html: ".html"
        case .text: ".txt"
        }
    }
}

/// One temporary file per process, rewritten for each input (the file readers read paths).
enum Scratch {
    static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omnifin-fuzz-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func withFile(_ bytes: UnsafeRawBufferPointer, suffix: String = ".bin", _ body: (String) -> Void) {
        let path = directory + "/input" + suffix
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        body(path)
    }
}

#if FUZZING
/// libFuzzer's driver (its own `main` is not linked: SwiftPM names the executable's entry point itself).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// libFuzzer's entry point for one input (its runtime refers to it by this name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        _ = FuzzTarget.selected
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
}

extension FuzzTarget {
    static let selected: FuzzTarget = {
        let name = (try? Settings.read())?.fuzzTarget ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set OMNIFIN_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }()
}
#else
/// Without libFuzzer: runs the given files through a target once.
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "seed-snapshot", arguments.count == 3, let count = Int(arguments[2]), count > 0 {
            // A small, valid snapshot for the snapshot target's seed corpus (from 1,000 vectors on, with a quantiser).
            let dimension = 8
            var values: [Float] = []
            for row in 0..<count { for j in 0..<dimension { values.append(Float((row * 31 + j * 17) % 97) / 97 - 0.5) } }
            do {
                let index = try HNSWIndex(configuration: HNSWConfiguration(dimension: dimension, m: 4, efConstruction: 16))
                try index.add(contentsOf: values, ids: (0..<count).map(UInt64.init))
                try index.save(to: arguments[1], generation: 7)
            } catch {
                print("\(error)")
                exit(1)
            }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: omnifin-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…  or  omnifin-fuzz seed-snapshot FILE COUNT")
            exit(2)
        }
        var files: [String] = []
        for argument in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder), isFolder.boolValue {
                files += ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { argument + "/" + $0 }
            } else {
                files.append(argument)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { target.run($0) }
        }
        print("\(target.rawValue): \(files.count) inputs, no crash")
    }
}
#endif
