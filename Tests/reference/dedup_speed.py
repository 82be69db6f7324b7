#!/usr/bin/env python3
"""Single-core speed of MinHash signatures and LSH decisions: datasketch and
rensa (Python) against personaforge-bench (Swift), on one generated corpus.

Usage (from the package root, after `swift build -c release`):
    .venv/bin/python Tests/reference/dedup_speed.py [--docs 5000] [--words 200]

The corpus: --docs documents of --words words, drawn Zipf-like from the
vocabulary of ../shared/data/personas-5k.jsonl when present, else synthetic.
Python shingling is lowercase + re.findall(r"\\w+") + 5-word join.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

from datasketch import MinHash, MinHashLSH
import rensa

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERSONAS = os.path.join(ROOT, "..", "shared", "data", "personas-5k.jsonl")
WORD = re.compile(r"\w+")


def make_corpus(docs, words, seed=7):
    rng = random.Random(seed)
    if os.path.exists(PERSONAS):
        with open(PERSONAS, encoding="utf-8") as f:
            vocabulary = sorted({w for line in f for w in json.loads(line)["persona"].split()})
    else:
        letters = "abcdefghijklmnopqrstuvwxyz"
        vocabulary = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(20000)]
    corpus = []
    for _ in range(docs):
        corpus.append(" ".join(vocabulary[int(rng.random() ** 2 * len(vocabulary))] for _ in range(words)))
    return corpus


def shingles(text, n):
    words = WORD.findall(text.lower())
    if len(words) < n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def best_of(repetitions, fn):
    best = float("inf")
    result = None
    for _ in range(repetitions):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "personaforge-bench"))
    args = parser.parse_args()
    n, k, t = args.ngram, args.num_perm, args.threshold
    corpus = make_corpus(args.docs, args.words)
    count = len(corpus)

    rows = {}
    shingled_time, shingled = best_of(args.repetitions, lambda: [shingles(d, n) for d in corpus])
    encoded = [[s.encode("utf-8") for s in doc] for doc in shingled]

    def datasketch_signatures(from_text):
        out = []
        for i, doc in enumerate(corpus):
            m = MinHash(num_perm=k, seed=1)
            m.update_batch([s.encode("utf-8") for s in shingles(doc, n)] if from_text else encoded[i])
            out.append(m)
        return out

    def rensa_signatures(from_text):
        out = []
        for i, doc in enumerate(corpus):
            m = rensa.RMinHash(num_perm=k, seed=1)
            m.update(shingles(doc, n) if from_text else shingled[i])
            out.append(m)
        return out

    ds_text, ds_sigs = best_of(args.repetitions, lambda: datasketch_signatures(True))
    ds_shingles, _ = best_of(args.repetitions, lambda: datasketch_signatures(False))
    rs_text, rs_sigs = best_of(args.repetitions, lambda: rensa_signatures(True))
    rs_shingles, _ = best_of(args.repetitions, lambda: rensa_signatures(False))

    def datasketch_lsh():
        lsh = MinHashLSH(threshold=t, num_perm=k)
        dups = 0
        for i, m in enumerate(ds_sigs):
            if any(m.jaccard(ds_sigs[c]) >= t for c in lsh.query(m)):
                dups += 1
            lsh.insert(i, m, check_duplication=False)
        return dups

    def rensa_lsh():
        # rensa needs num_perm divisible by num_bands: nearest divisor to datasketch's choice.
        b = rensa_bands
        lsh = rensa.RMinHashLSH(threshold=t, num_perm=k, num_bands=b)
        dups = 0
        for i, m in enumerate(rs_sigs):
            if any(m.jaccard(rs_sigs[c]) >= t for c in lsh.query(m)):
                dups += 1
            lsh.insert(i, m)
        return dups

    ds_bands = MinHashLSH(threshold=t, num_perm=k).b
    rensa_bands = min((d for d in range(1, k + 1) if k % d == 0), key=lambda d: abs(d - ds_bands))
    ds_lsh, _ = best_of(args.repetitions, datasketch_lsh)
    rs_lsh, _ = best_of(args.repetitions, rensa_lsh)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for doc in corpus:
                f.write(json.dumps({"text": doc}) + "\n")
        output = subprocess.run(
            [args.bench, "--corpus", path, "--field", "text", "--ngram", str(n), "--num-perm", str(k),
             "--threshold", str(t), "--repetitions", str(args.repetitions), "--json"],
            check=True, capture_output=True, text=True).stdout
        swift = json.loads(output.strip().splitlines()[-1])

    rows = [
        ("signatures incl. shingling (docs/s)", count / ds_text, count / rs_text, swift["signatures_docs_per_s"]),
        ("signatures from shingles (docs/s)", count / ds_shingles, count / rs_shingles,
         swift["permutations_only_docs_per_s"]),
        ("LSH decisions: query+confirm+insert (/s)", count / ds_lsh, count / rs_lsh, swift["lsh_decisions_per_s"]),
    ]
    print(f"corpus: {count} docs x {args.words} words; {n}-word shingles, {k} permutations, threshold {t}; "
          f"single core, best of {args.repetitions}")
    print(f"python shingling alone: {count / shingled_time:,.0f} docs/s; "
          f"swift normalize+hash shingles (no permutations, ceiling): "
          f"{swift['shingle_hashing_docs_per_s']:,.0f} docs/s; swift end to end (text -> decision): "
          f"{swift['end_to_end_docs_per_s']:,.0f} docs/s")
    print(f"LSH bands: datasketch and Swift {ds_bands} (b x r chosen from the threshold), "
          f"rensa {rensa_bands} (must divide num_perm)")
    print()
    print(f"| measurement | datasketch | rensa | personaforge (Swift) | × datasketch | × rensa |")
    print(f"|---|---:|---:|---:|---:|---:|")
    for name, ds, rs, sw in rows:
        print(f"| {name} | {ds:,.0f} | {rs:,.0f} | {sw:,.0f} | {sw / ds:.1f}× | {sw / rs:.2f}× |")


if __name__ == "__main__":
    sys.exit(main())
