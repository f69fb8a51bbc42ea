import Retrieval

/// How employees say what finance policies write: `sign off` for approve, `boss` for manager, `cap` for limit.
/// Used to tell whether a sentence states what a question asks (the terms are the keyword index's stems).
enum Thesaurus {
    /// Groups of words that name the same thing in a question and in a policy.
    static let groups: [[String]] = [
        ["approve", "approval", "approver", "sign", "signs", "signature", "ok", "okay", "authorise", "authorize", "authorisation", "release"],
        ["manager", "boss", "supervisor", "superior"],
        ["limit", "cap", "ceiling", "maximum", "max", "threshold"],
        ["invoice", "bill", "billed"],
        ["reimburse", "reimbursed", "reimbursement", "refund", "claim", "expense", "repaid", "paid"],
        ["pay", "paid", "payment", "payout", "salary"],
        ["salary", "payroll", "payslip", "pay", "wage"],
        ["supplier", "vendor"],
        ["customer", "client"],
        ["allowance", "diem", "per"],
        ["motorcycle", "motorbike", "scooter", "bike"],
        ["car", "vehicle", "drive", "drove", "driving", "mileage"],
        ["flight", "fly", "flying", "flights"],
        ["hotel", "accommodation", "overnight", "night"],
        ["quote", "quotation", "offer", "bid", "tender"],
        ["lost", "missing", "lose"],
        ["receipt", "voucher"],
        ["resign", "resigned", "notice", "quit", "leave", "leaver"],
        ["new", "joiner", "starter", "hire"],
        ["subsidiary", "sub", "entity"],
        ["write-off", "write", "bust", "bankrupt", "insolvent", "insolvency", "uncollectable"],
        ["card", "credit"],
        ["close", "closing", "books"],
        ["deadline", "due", "cut-off", "cutoff", "latest"],
        ["keep", "retain", "retention", "store", "stored", "archive"],
        ["laptop", "computer", "equipment", "hardware", "server", "asset"],
        ["dinner", "lunch", "meal", "entertainment", "restaurant"],
        ["gift", "present", "presents", "gifts"],
        ["bonus", "bonuses"],
        ["commission", "commissions"],
        ["fine", "ticket", "penalty", "penalties", "speeding"],
        ["train", "rail"],
        ["access", "role", "permission", "rights", "account"],
        ["meaning", "mean", "definition", "stand", "stands"],
    ]

    /// Question words that say how something is asked, not what about.
    static let questionWords: Set<String> = stems([
        "what", "who", "whom", "whose", "when", "where", "which", "why", "how", "much", "many", "long", "i", "we", "me", "my", "our", "us", "you",
        "your", "do", "does", "did", "can", "could", "would", "should", "may", "might", "must", "need", "needs", "get", "got", "want", "know",
        "tell", "have", "has", "had", "am", "is", "are", "was", "were", "be", "been", "someone", "anyone", "anything", "something", "actually",
        "just", "still", "really", "ok", "okay", "please", "hi", "hello", "thanks", "exactly", "someth", "there", "here", "so", "also", "about",
        "roughly", "around", "maybe", "like", "need", "happens", "happen", "now", "then", "today", "do", "go", "goes", "going", "sure",
        "right", "all", "any", "some", "one", "this", "that", "these", "those", "it", "its", "they", "them", "their", "he", "she", "his", "her",
        "from", "up", "out", "over", "off", "only", "than", "very", "too", "more", "most", "e", "g", "eur", "euro", "euros", "s", "t",
        "afterwards", "afterward", "beforehand", "anyway", "anyhow", "yet", "already", "ago", "later", "soon", "else", "instead", "whether",
        "though", "although", "basically", "probably", "definitely", "somehow", "thing", "things", "stuff", "guys", "hey",
    ])

    /// For each stem, the stems of its synonyms.
    static let alternatives: [String: [String]] = {
        var result: [String: Set<String>] = [:]
        for group in groups {
            let stemmed = Set(group.flatMap { analyzer.terms($0) })
            for stem in stemmed { result[stem, default: []].formUnion(stemmed.subtracting([stem])) }
        }
        return result.mapValues { Array($0).sorted() }
    }()

    private static let analyzer = EnglishAnalyzer()

    private static func stems(_ words: [String]) -> Set<String> {
        Set(words.flatMap { EnglishAnalyzer(stopWords: [], stem: true).terms($0) })
    }
}
