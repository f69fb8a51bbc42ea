import Foundation

/// PCM WAV in and out: 8-, 16- and 24-bit integer (and 32-bit float) samples, mono or stereo, any common rate,
/// turned into 16 kHz mono 16-bit samples for the recogniser.
public struct WAVAudio: Sendable, Equatable {
    public var sampleRate: Int
    public var samples: [Int16]

    /// What recordings Omnifin takes, in the one wording every voice error uses.
    public static let accepted =
        "a WAV recording of PCM samples (8, 16 or 24-bit integers or 32-bit floats), mono or stereo, 8 to 96 kHz, 0.3 to 60 seconds"

    public struct Invalid: Error, CustomStringConvertible {
        /// What is wrong with this recording (the caller adds what is accepted).
        public var description: String
        /// 415 for audio that is not PCM WAV at all, 422 for a WAV outside the limits.
        public var unsupported: Bool
    }

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }

    /// Decodes a RIFF/WAVE file and mixes it down to mono.
    public static func decode(_ data: [UInt8]) throws(Invalid) -> WAVAudio {
        func u16(_ i: Int) -> Int { Int(data[i]) | Int(data[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        guard data.count >= 12, data[0..<4].elementsEqual("RIFF".utf8), data[8..<12].elementsEqual("WAVE".utf8) else {
            throw Invalid(description: "the audio is not a WAV file (no RIFF/WAVE header)", unsupported: true)
        }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        var payload: Range<Int>?
        while offset + 8 <= data.count {
            let size = u32(offset + 4)
            let body = offset + 8
            let end = min(data.count, body + size)
            if data[offset..<offset + 4].elementsEqual("fmt ".utf8), end - body >= 16 {
                var code = u16(body)
                if code == 0xFFFE, end - body >= 26 { code = u16(body + 24) }  // WAVE_FORMAT_EXTENSIBLE: the sub-format
                format = (code, u16(body + 2), u32(body + 4), u16(body + 14))
            } else if data[offset..<offset + 4].elementsEqual("data".utf8) {
                payload = body..<end
                break
            }
            offset = body + size + (size & 1)
        }
        guard let format, let payload else { throw Invalid(description: "the WAV file has no fmt or data chunk", unsupported: false) }
        guard format.code == 1 || (format.code == 3 && format.bits == 32) else {
            throw Invalid(description: "the WAV file is compressed (format \(format.code)), not PCM", unsupported: true)
        }
        guard [1, 2].contains(format.channels) else { throw Invalid(description: "the WAV file has \(format.channels) channels", unsupported: false) }
        guard (8_000...96_000).contains(format.rate) else { throw Invalid(description: "the sample rate \(format.rate) Hz is outside 8–96 kHz", unsupported: false) }
        guard [8, 16, 24, 32].contains(format.bits) else { throw Invalid(description: "the WAV file has \(format.bits)-bit samples", unsupported: false) }
        let width = format.bits / 8
        let frame = width * format.channels
        let frames = payload.count / frame
        var mono = [Int16](repeating: 0, count: frames)
        for index in 0..<frames {
            var sum = 0.0
            for channel in 0..<format.channels {
                let at = payload.lowerBound + index * frame + channel * width
                let value: Double
                switch (format.bits, format.code) {
                case (8, _): value = (Double(data[at]) - 128) / 128
                case (16, _): value = Double(Int16(bitPattern: UInt16(u16(at)))) / 32768
                case (24, _):
                    var raw = Int(data[at]) | Int(data[at + 1]) << 8 | Int(data[at + 2]) << 16
                    if raw & 0x80_0000 != 0 { raw -= 0x100_0000 }
                    value = Double(raw) / 8_388_608
                case (32, 3): value = Double(Float(bitPattern: UInt32(u32(at))))
                default: value = Double(Int32(bitPattern: UInt32(u32(at)))) / 2_147_483_648
                }
                sum += value
            }
            mono[index] = Int16(clamping: Int((sum / Double(format.channels) * 32767).rounded()))
        }
        return WAVAudio(sampleRate: format.rate, samples: mono)
    }

    /// The audio at `rate` Hz: averaging over each output sample's span when shrinking (a simple low-pass against
    /// aliasing), linear interpolation when growing.
    public func resampled(to rate: Int) -> WAVAudio {
        guard rate != sampleRate, !samples.isEmpty else { return self }
        let ratio = Double(sampleRate) / Double(rate)
        let count = Int(Double(samples.count) / ratio)
        var output = [Int16](repeating: 0, count: count)
        for index in 0..<count {
            let position = Double(index) * ratio
            if ratio > 1 {
                let start = Int(position)
                let end = min(samples.count, max(start + 1, Int(position + ratio)))
                var sum = 0
                for j in start..<end { sum += Int(samples[j]) }
                output[index] = Int16(clamping: sum / (end - start))
            } else {
                let left = Int(position)
                let right = min(samples.count - 1, left + 1)
                let fraction = position - Double(left)
                output[index] = Int16(clamping: Int((Double(samples[left]) * (1 - fraction) + Double(samples[right]) * fraction).rounded()))
            }
        }
        return WAVAudio(sampleRate: rate, samples: output)
    }

    /// A 16-bit mono PCM WAV file.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + samples.count * 2)
        func append(_ text: String) { bytes += Array(text.utf8) }
        func append32(_ value: Int) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24 & 0xFF)] }
        func append16(_ value: Int) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        append("RIFF")
        append32(36 + samples.count * 2)
        append("WAVEfmt ")
        append32(16)
        append16(1)
        append16(1)
        append32(sampleRate)
        append32(sampleRate * 2)
        append16(2)
        append16(16)
        append("data")
        append32(samples.count * 2)
        for sample in samples { append16(Int(UInt16(bitPattern: sample))) }
        return bytes
    }
}
