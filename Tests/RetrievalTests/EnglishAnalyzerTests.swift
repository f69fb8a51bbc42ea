import Testing
@testable import Retrieval

@Suite("Porter stemmer")
struct PorterStemmerTests {
    /// Every step of the algorithm, expected stems from NLTK's `PorterStemmer(mode=ORIGINAL_ALGORITHM)`; for these
    /// words its `MARTIN_EXTENSIONS` mode and Lucene's `PorterStemFilter` give the same.
    static let stems: [(word: String, stem: String)] = [
        // Step 1a: plurals.
        ("caresses", "caress"), ("ponies", "poni"), ("ties", "ti"), ("caress", "caress"), ("cats", "cat"),
        // Step 1b: -eed, -ed, -ing, then -at/-bl/-iz, double consonants and the *o rule.
        ("feed", "feed"), ("agreed", "agre"), ("plastered", "plaster"), ("bled", "bled"), ("motoring", "motor"),
        ("sing", "sing"), ("conflated", "conflat"), ("troubled", "troubl"), ("sized", "size"), ("hopping", "hop"),
        ("tanned", "tan"), ("falling", "fall"), ("hissing", "hiss"), ("fizzed", "fizz"), ("failing", "fail"),
        ("filing", "file"), ("succeed", "succe"), ("meetings", "meet"), ("mating", "mate"), ("matting", "mat"),
        // Step 1c: y to i after a vowel in the stem.
        ("happy", "happi"), ("sky", "sky"), ("dying", "dy"),
        // Step 2: double suffixes.
        ("relational", "relat"), ("conditional", "condit"), ("rational", "ration"), ("valenci", "valenc"),
        ("hesitanci", "hesit"), ("digitizer", "digit"), ("conformabli", "conform"), ("radicalli", "radic"),
        ("differentli", "differ"), ("vileli", "vile"), ("analogousli", "analog"), ("vietnamization", "vietnam"),
        ("predication", "predic"), ("operator", "oper"), ("feudalism", "feudal"), ("decisiveness", "decis"),
        ("hopefulness", "hope"), ("callousness", "callous"), ("formaliti", "formal"), ("sensitiviti", "sensit"),
        ("sensibiliti", "sensibl"), ("generalization", "gener"), ("generalizations", "gener"), ("oscillators", "oscil"),
        // Step 3: -icate, -ative, -alize, -iciti, -ical, -ful, -ness.
        ("triplicate", "triplic"), ("formative", "form"), ("formalize", "formal"), ("electriciti", "electr"),
        ("electrical", "electr"), ("hopeful", "hope"), ("goodness", "good"),
        // Step 4: -al, -ance, -ence, -er, -ic, -able, -ible, -ant, -ement, -ment, -ent, -ion, -ou, -ism, -ate,
        // -iti, -ous, -ive, -ize.
        ("revival", "reviv"), ("allowance", "allow"), ("inference", "infer"), ("airliner", "airlin"),
        ("gyroscopic", "gyroscop"), ("adjustable", "adjust"), ("defensible", "defens"), ("irritant", "irrit"),
        ("replacement", "replac"), ("adjustment", "adjust"), ("dependent", "depend"), ("adoption", "adopt"),
        ("homologou", "homolog"), ("communism", "commun"), ("activate", "activ"), ("angulariti", "angular"),
        ("homologous", "homolog"), ("effective", "effect"), ("bowdlerize", "bowdler"), ("agreement", "agreement"),
        // Step 5: final -e and -ll.
        ("probate", "probat"), ("rate", "rate"), ("cease", "ceas"), ("controll", "control"), ("roll", "roll"),
        // Words from the corpus.
        ("proteins", "protein"), ("expression", "express"), ("increased", "increas"), ("studies", "studi"),
        ("analysis", "analysi"), ("significantly", "significantli"), ("associated", "associ"), ("biology", "biologi"),
    ]

    @Test("each step of the algorithm", arguments: stems)
    func steps(word: String, stem: String) {
        #expect(PorterStemmer.stem(word) == stem)
    }

    /// Martin Porter's reference implementation, and Lucene after it, map -bli to -ble (the paper: -abli to
    /// -able) and -logi to -log. NLTK's ORIGINAL_ALGORITHM mode gives "possibli", "assembli", "etiologi" here;
    /// its MARTIN_EXTENSIONS mode and Lucene give these.
    @Test("the reference implementation's departures from the paper, as Lucene has them")
    func departures() {
        #expect(PorterStemmer.stem("possibly") == "possibl")
        #expect(PorterStemmer.stem("reproducibly") == "reproduc")
        #expect(PorterStemmer.stem("assembly") == "assembl")
        #expect(PorterStemmer.stem("etiology") == "etiolog")
        #expect(PorterStemmer.stem("archaeology") == "archaeolog")
    }

    @Test("words of one or two characters are left alone")
    func shortWords() {
        for word in ["", "a", "as", "is", "us", "ed", "ys"] {
            #expect(PorterStemmer.stem(word) == word)
        }
    }

    @Test("non-letters are consonants and non-ASCII words are stemmed over UTF-16, as Lucene does")
    func nonLetters() {
        #expect(PorterStemmer.stem("1990s") == "1990")
        #expect(PorterStemmer.stem("3.5") == "3.5")
        #expect(PorterStemmer.stem("u.s.a") == "u.s.a")
        #expect(PorterStemmer.stem("yyyy") == "yyyi")
        #expect(PorterStemmer.stem("cafés") == "café")
        #expect(PorterStemmer.stem("naïve") == "naïv")
        #expect(PorterStemmer.stem("résumés") == "résumé")
    }

    @Test("the byte entry point stems in place")
    func inPlace() {
        var bytes = Array("generalizations".utf8)
        let length = bytes.withUnsafeMutableBufferPointer { PorterStemmer.stem($0) }
        #expect(String(decoding: bytes[..<length], as: UTF8.self) == "gener")
    }
}

@Suite("English analyzer")
struct EnglishAnalyzerTests {
    let analyzer = EnglishAnalyzer()

    // Expected terms below are Lucene 9's EnglishAnalyzer output for the same text.

    @Test("possessives lose their 's, with any of the three apostrophes")
    func possessives() {
        #expect(analyzer.terms("John's cat and JAMES’S dog; the cat＇s toy") == ["john", "cat", "jame", "dog", "cat", "toi"])
    }

    @Test("contractions stay whole: an apostrophe between letters is inside the word")
    func contractions() {
        #expect(
            analyzer.terms("don't isn't wasn't they're rock'n'roll 'quoted'")
                == ["don't", "isn't", "wasn't", "they'r", "rock'n'rol", "quot"])
    }

    @Test("numbers keep dots and commas between digits")
    func numbers() {
        #expect(
            analyzer.terms("3.5 mg/kg, 1,000 cells at 10,000,000.00 in 1990s; v1.2.3 at 12:30")
                == ["3.5", "mg", "kg", "1,000", "cell", "10,000,000.00", "1990", "v1.2.3", "12", "30"])
        #expect(analyzer.terms("p<0.05 and n=17 with CD4+ T-cells") == ["p", "0.05", "n", "17", "cd4", "t", "cell"])
    }

    @Test("hyphens and slashes separate words")
    func hyphens() {
        #expect(
            analyzer.terms("self-esteem COVID-19 SARS-CoV-2 α-synuclein well-being")
                == ["self", "esteem", "covid", "19", "sar", "cov", "2", "α", "synuclein", "well", "be"])
    }

    @Test("dots and colons between letters stay, a final dot goes; underscores join")
    func acronyms() {
        #expect(
            analyzer.terms("The U.S.A. e.g. i.e. x:y foo_bar __init__")
                == ["u.s.a", "e.g", "i.", "x:y", "foo_bar", "__init__"])
    }

    @Test("non-ASCII letters are letters, lower-cased one to one like Java")
    func unicode() {
        #expect(
            analyzer.terms("Café’s naïve résumé ＩＢＭ İstanbul ΣΊΣΥΦΟΣ Größe")
                == ["café", "naïv", "résumé", "ｉｂｍ", "istanbul", "σίσυφοσ", "größe"])
        #expect(analyzer.terms("hy\u{AD}phen e\u{301}cole") == ["hy\u{AD}phen", "e\u{301}col"])
    }

    @Test("ideographs are one token each, katakana runs one, pictographs their own")
    func scripts() {
        #expect(analyzer.terms("日本語テキストです") == ["日", "本", "語", "テキスト", "で", "す"])
        #expect(analyzer.terms("I ❤️ NY") == ["i", "❤️", "ny"])
        #expect(analyzer.terms("Tween®20") == ["tween", "®", "20"])
    }

    @Test("Lucene's English stop words are dropped after lower-casing")
    func stopWords() {
        #expect(
            analyzer.terms("The quick brown fox's tail wasn't there; they're the best of the rest.")
                == ["quick", "brown", "fox", "tail", "wasn't", "they'r", "best", "rest"])
        #expect(analyzer.terms("It is not such a thing: as if by then there were these, their, or this into that.") == ["thing", "were"])
        #expect(EnglishAnalyzer.defaultStopWords.count == 33)
    }

    @Test("empty and blank text have no terms")
    func empty() {
        #expect(analyzer.terms("").isEmpty)
        #expect(analyzer.terms("   \n\t ").isEmpty)
        #expect(analyzer.terms("... -- // !?").isEmpty)
    }

    @Test("stemming and the stop list can be changed")
    func options() {
        let plain = EnglishAnalyzer(stem: false)
        #expect(plain.terms("The ponies' generalizations") == ["ponies", "generalizations"])
        let custom = EnglishAnalyzer(stopWords: ["ponies"], stem: false)
        #expect(custom.terms("The ponies' generalizations") == ["the", "generalizations"])
        #expect(EnglishAnalyzer(stopWords: []).terms("the cats") == ["the", "cat"])
    }

    @Test("a substring gives the terms of the same text")
    func substring() {
        let text = "xx Relational databases' generalizations yy"
        let inner = text.dropFirst(3).dropLast(3)
        #expect(analyzer.terms(inner) == analyzer.terms(String(inner)))
        #expect(analyzer.terms(inner) == ["relat", "databas", "gener"])
    }

    @Test("tokens longer than 255 characters are cut there")
    func longTokens() {
        let terms = analyzer.terms(String(repeating: "x", count: 300) + " end")
        #expect(terms == [String(repeating: "x", count: 255), String(repeating: "x", count: 45), "end"])
    }
}
