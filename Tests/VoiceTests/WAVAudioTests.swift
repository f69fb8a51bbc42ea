import Foundation
import Testing
@testable import Voice

@Suite("WAV audio")
struct WAVAudioTests {
    static func wav(bits: Int, channels: Int, rate: Int, frames: [Double], format: Int = 1) -> [UInt8] {
        var data: [UInt8] = []
        for value in frames {
            for _ in 0..<channels {
                switch bits {
                case 8: data.append(UInt8(clamping: Int(value * 127) + 128))
                case 16: withUnsafeBytes(of: Int16(value * 32767).littleEndian) { data += $0 }
                default:
                    let raw = Int32(value * 8_388_607)
                    withUnsafeBytes(of: raw.littleEndian) { data += $0.prefix(3) }
                }
            }
        }
        var out = Array("RIFF".utf8)
        withUnsafeBytes(of: UInt32(36 + data.count).littleEndian) { out += $0 }
        out += Array("WAVEfmt ".utf8)
        withUnsafeBytes(of: UInt32(16).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt16(format).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt16(channels).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt32(rate).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt32(rate * channels * bits / 8).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt16(channels * bits / 8).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt16(bits).littleEndian) { out += $0 }
        out += Array("data".utf8)
        withUnsafeBytes(of: UInt32(data.count).littleEndian) { out += $0 }
        return out + data
    }

    @Test("8, 16 and 24-bit, mono and stereo decode to the same mono signal; resampling keeps the duration; encoding round-trips")
    func formats() throws {
        let frames = (0..<4_410).map { sin(Double($0) * 2 * .pi * 440 / 44_100) * 0.5 }
        let reference = try WAVAudio.decode(Self.wav(bits: 16, channels: 1, rate: 44_100, frames: frames))
        for (bits, channels) in [(8, 1), (16, 2), (24, 1), (24, 2)] {
            let decoded = try WAVAudio.decode(Self.wav(bits: bits, channels: channels, rate: 44_100, frames: frames))
            #expect(decoded.samples.count == reference.samples.count && decoded.sampleRate == 44_100)
            let error = zip(decoded.samples, reference.samples).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(error <= (bits == 8 ? 400 : 2), "\(bits)-bit \(channels) channels differ by \(error)")
        }
        let resampled = reference.resampled(to: 16_000)
        #expect(resampled.sampleRate == 16_000 && abs(resampled.seconds - reference.seconds) < 0.001)
        #expect(try WAVAudio.decode(resampled.encoded()) == resampled)
        do {
            _ = try WAVAudio.decode(Self.wav(bits: 16, channels: 1, rate: 8_000, frames: frames, format: 7))
            Issue.record("a μ-law WAV was accepted")
        } catch { #expect(error.unsupported) }
        do {
            _ = try WAVAudio.decode(Array("hello".utf8))
            Issue.record("text was accepted as WAV")
        } catch { #expect(error.unsupported) }
        #expect(SpeechSynthesizer.speakable("The limit is 10,000 EUR [1]. The CFO signs [2, 3].") == "The limit is 10,000 EUR. The CFO signs.")
    }
}
