#!/usr/bin/env python3
"""Compares two speech language models and their dictionaries (for checking a port or a rebuild).

usage: compare_models.py A.lm B.lm [A.dict B.dict]

Prints, per order, the n-grams only one model lists and the largest difference of the log10 probabilities and backoff
weights the two list; then whether the dictionaries give the same pronunciations for the words of A's model (B's
dictionary may hold more words, e.g. all of CMUdict).
"""
import collections
import sys


def arpa(path):
    grams, order = {}, 0
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1:line.index("-")])
        elif order and line and not line.startswith("\\"):
            fields = line.split()
            grams[tuple(fields[1:order + 1])] = (float(fields[0]), float(fields[order + 1]) if len(fields) > order + 1 else 0.0)
    return grams


def dictionary(path, words=None):
    entries = collections.defaultdict(list)
    for line in open(path, encoding="utf-8"):
        fields = line.split()
        if fields:
            entries[fields[0].split("(")[0]].append(" ".join(fields[1:]))
    return {w: p for w, p in entries.items() if words is None or w in words}


def main(argv):
    if len(argv) not in (3, 5):
        sys.exit(__doc__)
    a, b = arpa(argv[1]), arpa(argv[2])
    for n in sorted({len(g) for g in a} | {len(g) for g in b}):
        ka, kb = {g for g in a if len(g) == n}, {g for g in b if len(g) == n}
        common = ka & kb
        dp = max((abs(a[g][0] - b[g][0]) for g in common), default=0.0)
        db = max((abs(a[g][1] - b[g][1]) for g in common), default=0.0)
        print(f"{n}-grams: {len(ka)} and {len(kb)}, only in A {len(ka - kb)}, only in B {len(kb - ka)}, "
              f"max |difference| of log10 P {dp:.5f}, of log10 backoff {db:.5f}")
    if len(argv) == 5:
        words = {g[0] for g in a if len(g) == 1} - {"<s>", "</s>"}
        da, db = dictionary(argv[3], words), dictionary(argv[4], words)
        differ = sorted(w for w in words if da.get(w) != db.get(w))
        print(f"dictionaries: {len(words)} words of A's model, {len(differ)} pronounced differently or missing"
              + (f": {' '.join(differ[:20])}" if differ else ""))


if __name__ == "__main__":
    main(sys.argv)
