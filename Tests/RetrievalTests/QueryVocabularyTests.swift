@testable import Retrieval
import Testing

/// What the keyword index knows about words beyond postings: spelling and the acronyms the bank defines.
@Suite("Query vocabulary")
struct QueryVocabularyTests {
    static func index() -> BM25Index {
        let index = BM25Index()
        index.add(
            contentsOf: [
                (1, "## A to G\n- **GRNI**: goods received not invoiced, accrued automatically.\n- **Capex**: capital expenditure.", 0),
                (2, "Every purchase order (PO) needs three written quotes above 10,000 EUR. Keep the receipt.", 0),
                (3, "The VAT ID (value added tax identification number) is on every invoice. Receipts are kept ten years.", 0),
                (4, "Secret: the board minutes define SPV (special purpose vehicle) terms.", 1),
                (5, "Join the team; our joiners get a laptop.", 0),
            ])
        return index
    }

    @Test("acronyms are read from glossary lines and parentheses, only when the initials match, and only from visible passages")
    func acronyms() {
        #expect(AcronymGlossary.definitions(in: "- **GRNI**: goods received not invoiced, accrued").map(\.expansion) == ["goods received not invoiced"])
        #expect(AcronymGlossary.definitions(in: "a purchase order (PO) is needed").map(\.expansion) == ["purchase order"])
        #expect(AcronymGlossary.definitions(in: "GRNI (goods received not invoiced) is accrued").map(\.expansion) == ["goods received not invoiced"])
        #expect(AcronymGlossary.definitions(in: "the \"prepared by client\" list (PBC)").isEmpty == false)
        #expect(AcronymGlossary.definitions(in: "**Note**: see below (see the table)").isEmpty)
        #expect(AcronymGlossary.definitions(in: "costs (EUR) are net").isEmpty)
        let index = Self.index()
        #expect(index.expansions("what is GRNI?").map(\.expansion) == ["goods received not invoiced"])
        #expect(index.expansions("how many quotes for a grni po").map(\.expansion) == ["goods received not invoiced"], "lower-case po is too short to trust")
        #expect(index.expansions("how many quotes for a PO").map(\.expansion) == ["purchase order"])
        #expect(index.expansions("what is an SPV", allowedGroups: [0]).isEmpty, "a definition in a passage the caller cannot see is not used")
        #expect(index.expansions("what is an SPV").map(\.expansion) == ["special purpose vehicle"])
        index.remove(id: 1)
        #expect(index.expansions("what is GRNI?").isEmpty)
    }

    @Test("a misspelt word becomes the bank's word one edit away; short words, word forms and unknown names stay")
    func spelling() {
        let index = Self.index()
        #expect(index.corrected("lost my reciept").text == "lost my receipt")
        #expect(index.corrected("how many qoutes").text.hasSuffix("quotes"))
        #expect(index.corrected("the invocie").text == "the invoice")
        #expect(index.corrected("new joiner").corrections.isEmpty, "a form of a known word is not a typo")
        #expect(index.corrected("is it visa or amex").corrections.isEmpty, "four letters are too short to correct")
        #expect(index.corrected("munich offices").text == "munich offices")
        #expect(index.corrected("Reciept").text == "receipt")
        #expect(index.corrected("specail", allowedGroups: [0]).corrections.isEmpty, "hidden words do not correct")
    }

    @Test("term weights are counted over the visible passages; unknown words have none")
    func weights() {
        let index = Self.index()
        let weights = index.weights("receipt visa")
        #expect(weights.count == 2 && weights[0].idf != nil && weights[1].idf == nil)
        #expect(index.weights("special", allowedGroups: [0]).first?.idf == nil)
        #expect(index.weights("special").first?.idf != nil)
    }
}
