#!/usr/bin/env python3
"""Checks dev.jsonl and test.jsonl against corpora/: parsing, ids, documents, quotas, key facts.

Run from anywhere: python3 Benchmarks/answers/validate.py
Exit status 1 on any error. Computed key facts (questions with "computed": true) may be absent
from the documents; they are listed for review instead of failing.
"""
import json, os, re, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPORA = os.path.join(ROOT, "corpora")
KINDS = ["lookup", "apply-rule", "combine", "unanswerable", "off-topic"]

errors = []


def err(msg):
    errors.append(msg)


def norm(s):
    s = s.lower().replace("\u2019", "'").replace("€", " eur ").replace("euros", "eur")
    s = re.sub(r"\s+", " ", s)
    prev = None
    while prev != s:  # 10,000 / 10.000 / 10 000 -> 10000
        prev = s
        s = re.sub(r"(\d)[,. ](\d{3})(?!\d)", r"\1\2", s)
    return s


def occurs(form, text):
    f, t = form.lower(), text.lower()
    if f in t:
        return True
    nf, nt = norm(form), norm(text)
    if re.fullmatch(r"[\d.]+", nf.strip()):
        return re.search(r"(?<![\d.])" + re.escape(nf.strip()) + r"(?![\d])", nt) is not None
    return nf in nt


docs = {}
for name in os.listdir(CORPORA):
    if name.endswith(".md") and name != "README.md":
        with open(os.path.join(CORPORA, name), encoding="utf-8") as f:
            docs[name] = f.read()

splits = {}
for split in ("dev", "test"):
    rows = []
    with open(os.path.join(HERE, split + ".jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                err(f"{split}.jsonl line {n}: {e}")
    splits[split] = rows

allrows = splits["dev"] + splits["test"]
ids = [r["id"] for r in allrows]
for i, c in Counter(ids).items():
    if c > 1:
        err(f"duplicate id {i}")
for i in ids:
    if not re.fullmatch(r"a\d{3}", i):
        err(f"bad id {i}")

computed_unfound = []
doc_use = Counter()
for r in allrows:
    rid, kind = r["id"], r["kind"]
    if kind not in KINDS:
        err(f"{rid}: unknown kind {kind}")
    for d in r["documents"]:
        if d not in docs:
            err(f"{rid}: document {d} not in corpora/")
        doc_use[d] += 1
    answerable = kind not in ("unanswerable", "off-topic")
    if r["answerable"] != answerable:
        err(f"{rid}: answerable flag wrong for kind {kind}")
    if not answerable:
        if r["must_contain"] or r["documents"]:
            err(f"{rid}: unanswerable/off-topic must have empty must_contain and documents")
        continue
    if not r["documents"] or not r["must_contain"]:
        err(f"{rid}: answerable question without documents or key facts")
    if len(r["must_contain"]) > 3:
        err(f"{rid}: more than 3 key facts")
    text = "\n".join(docs.get(d, "") for d in r["documents"])
    for fact in r["must_contain"]:
        if not isinstance(fact, list) or not fact:
            err(f"{rid}: key fact must be a non-empty list of forms")
            continue
        if not any(occurs(form, text) for form in fact):
            if r.get("computed"):
                computed_unfound.append((rid, fact))
            else:
                err(f"{rid}: key fact {fact} not found in {r['documents']}")
    for bad in r.get("must_not_contain", []):
        if any(bad.lower() in form.lower() for fact in r["must_contain"] for form in fact):
            err(f"{rid}: must_not_contain {bad!r} clashes with a key fact")

# quotas
total = len(allrows)
kc = Counter(r["kind"] for r in allrows)
if total < 120:
    err(f"only {total} questions")
for d in docs:
    if doc_use[d] < 2:
        err(f"document {d} used by {doc_use[d]} questions (< 2)")
share = (kc["apply-rule"] + kc["combine"]) / total
if share < 0.35:
    err(f"apply-rule + combine share {share:.1%} < 35%")
if kc["unanswerable"] < 18:
    err(f"only {kc['unanswerable']} unanswerable")
if kc["off-topic"] < 12:
    err(f"only {kc['off-topic']} off-topic")
if len(splits["dev"]) != len(splits["test"]):
    err("dev and test differ in size")

print("computed key facts not found verbatim in the documents (checked by hand):")
for rid, fact in computed_unfound:
    print("  ", rid, fact)
print()
print(f"{'kind':<14}{'dev':>6}{'test':>6}{'total':>7}{'share':>8}")
for k in KINDS:
    d = sum(r["kind"] == k for r in splits["dev"])
    t = sum(r["kind"] == k for r in splits["test"])
    print(f"{k:<14}{d:>6}{t:>6}{d + t:>7}{(d + t) / total:>8.1%}")
print(f"{'all':<14}{len(splits['dev']):>6}{len(splits['test']):>6}{total:>7}")
print(f"apply-rule + combine: {share:.1%}; with must_not_contain: "
      f"{sum('must_not_contain' in r for r in allrows)}; computed: {sum(bool(r.get('computed')) for r in allrows)}")
print(f"documents: {len(docs)}, least used: {min(doc_use[d] for d in docs)} questions "
      f"({', '.join(sorted(d for d in docs if doc_use[d] == min(doc_use[x] for x in docs)))})")
if errors:
    print("\nERRORS:")
    for e in errors:
        print("  ", e)
    sys.exit(1)
print("OK")
