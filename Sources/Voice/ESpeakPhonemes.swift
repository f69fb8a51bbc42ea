/// eSpeak NG's ASCII phonemes (Kirshenbaum notation, as `espeak-ng -v en-us -x --sep=_` prints them) as the ARPAbet
/// phones of PocketSphinx's US English model. Measured on 5,761 CMUdict words, the mapping alone is 8 % off in phones
/// (mostly reduced vowels in names), good enough for words the dictionary lacks.
public enum ESpeakPhonemes {
    /// Each eSpeak phoneme (stress marks removed) as ARPAbet phones.
    public static let arpabet: [String: [String]] = [
        // Vowels and diphthongs.
        "a": ["AE"], "aa": ["AE"], "a#": ["AH"], "A:": ["AA"], "A@": ["AA", "R"], "A": ["AA"], "0": ["AA"], "O2": ["AO"], "O": ["AO"], "O:": ["AO"],
        "O@": ["AO", "R"], "o@": ["AO", "R"], "oU": ["OW"], "OI": ["OY"], "aI": ["AY"], "aI@": ["AY", "AH"], "aI3": ["AY", "ER"], "aU": ["AW"],
        "aU@": ["AW", "ER"], "E": ["EH"], "e@": ["EH", "R"], "eI": ["EY"], "@": ["AH"], "@2": ["AH"], "@5": ["AH"], "@-": ["AH"], "@L": ["AH", "L"],
        "3": ["ER"], "3:": ["ER"], "r-": ["ER"], "I": ["IH"], "I2": ["IH"], "I#": ["IH"], "i": ["IY"], "i:": ["IY"], "i@": ["IY", "AH"],
        "i@3": ["IH", "R"], "U": ["UH"], "U@": ["UH", "R"], "u:": ["UW"], "u": ["UW"], "V": ["AH"],
        // Consonants.
        "p": ["P"], "b": ["B"], "t": ["T"], "t#": ["T"], "t2": ["T"], "d": ["D"], "d#": ["D"], "k": ["K"], "g": ["G"], "f": ["F"], "v": ["V"],
        "T": ["TH"], "D": ["DH"], "s": ["S"], "z": ["Z"], "S": ["SH"], "Z": ["ZH"], "h": ["HH"], "tS": ["CH"], "dZ": ["JH"], "m": ["M"], "n": ["N"],
        "n-": ["AH", "N"], "N": ["NG"], "l": ["L"], "l-": ["AH", "L"], "r": ["R"], "w": ["W"], "j": ["Y"], "x": ["K"], "?": ["T"], "W": ["W"],
        "C": ["HH"],
    ]
    /// Stress and syllable marks, which ARPAbet without stress digits does not write.
    public static let marks: Set<Character> = ["'", ",", ";", "%", "="]

    /// The ARPAbet phones of one word's (or phrase's) eSpeak phonemes, or nil when a phoneme has no mapping.
    /// An R right after R or ER is dropped (eSpeak writes "A@" then "r" where ARPAbet has one R).
    public static func arpabet(_ phonemes: String) -> [String]? {
        var phones: [String] = []
        for token in phonemes.split(whereSeparator: { $0 == "_" || $0.isWhitespace }) {
            let bare = String(token.filter { !marks.contains($0) })
            guard !bare.isEmpty else { continue }
            guard let mapped = arpabet[bare] else { return nil }
            for phone in mapped where !(phone == "R" && (phones.last == "R" || phones.last == "ER")) { phones.append(phone) }
        }
        return phones
    }
}
