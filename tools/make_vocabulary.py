#!/usr/bin/env python3
"""Refreshes the generated parts of intents/data/vocabulary.json.

domain_words  = every word of 4+ letters in the concept patterns, plus the
                hand-kept list in "extra_domain_words"
protected_words = real English words (Debian's wamerican list, SCOWL) that sit
                within the typo distance of a domain word, so that the
                normaliser never "corrects" a real word into a domain word.

Run after editing intents/data/concepts.json:
    python3 tools/make_vocabulary.py
Needs: apt-get install wamerican (only for this tool; runbot itself reads the
JSON file). Everything else in vocabulary.json is edited by hand.
"""
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
VOCAB = ROOT / "intents/data/vocabulary.json"
CONCEPTS = ROOT / "intents/data/concepts.json"
DICT = pathlib.Path("/usr/share/dict/american-english")


def osa(a, b):
    """Optimal string alignment distance, as the normaliser computes it."""
    n, m = len(a), len(b)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[n][m]


def main():
    vocab = json.loads(VOCAB.read_text())
    concepts = json.loads(CONCEPTS.read_text())["concepts"]
    words = set(vocab.get("extra_domain_words", []))
    for body in concepts.values():
        for pattern in body["patterns"]:
            words.update(re.findall(r"(?<![\\a-z])[a-z]{4,}(?![a-z])", pattern))
    words = sorted(w for w in words if w.isalpha())
    real = set()
    for line in DICT.read_text(encoding="utf-8", errors="ignore").splitlines():
        w = line.strip().lower().replace("'", "")
        if w.isalpha() and w.isascii():
            real.add(w)
    known = set(words)
    by_first = {}
    for w in words:
        by_first.setdefault(w[0], []).append(w)
    protected = set()
    for w in real:
        if len(w) < 5 or w in known:
            continue
        limit = 2 if len(w) >= 8 else 1
        for v in by_first.get(w[0], []):
            if abs(len(v) - len(w)) <= limit and osa(w, v) <= limit:
                protected.add(w)
                break
    vocab["domain_words"] = words
    vocab["protected_words"] = sorted(protected)
    VOCAB.write_text(json.dumps(vocab, indent=0) + "\n")
    print(f"{len(words)} domain words, {len(protected)} protected words")


if __name__ == "__main__":
    main()
