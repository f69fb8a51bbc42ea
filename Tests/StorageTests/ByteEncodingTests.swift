import Foundation
import Storage
import Testing

@Suite("Byte encodings")
struct ByteEncodingTests {
    @Test("URL-safe base64 without padding equals Foundation's base64 with - and _ and no =, for every length and byte")
    func base64URL() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "=", with: "")
                #expect(bytes.base64URL == expected, "\(bytes)")
            }
        }
        #expect([UInt8]().base64URL == "" && [0xfb, 0xff].base64URL == "-_8" && Array("any carnal pleas".utf8).base64URL == "YW55IGNhcm5hbCBwbGVhcw")
    }
}
