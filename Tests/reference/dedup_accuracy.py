#!/usr/bin/env python3
"""Accuracy of `personaforge dedup` against exact Jaccard ground truth, side by
side with datasketch's MinHashLSH on the same shingles.

Usage (from the package root, after `swift build`; needs ../shared/data/):
    .venv/bin/python Tests/reference/dedup_accuracy.py [--binary .build/release/personaforge]

Ground truth: record i is a duplicate iff some earlier record j < i has exact
Jaccard(shingles_i, shingles_j) >= T (two empty shingle sets count as J = 1).
Shingles come from the hidden `personaforge dedup-shingles` helper, so the
ground truth, datasketch and Swift all see the same normalized n-gram sets.
datasketch: MinHash(num_perm).update_batch(utf-8 shingles), MinHashLSH(T, num_perm);
a record is a duplicate if some earlier candidate has estimated Jaccard >= T
("LSH+confirm", the same rule as Swift) or, for reference, if any candidate
exists at all ("LSH only", datasketch's raw query semantics).
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from datasketch import MinHash, MinHashLSH

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")


def load(path, field):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[field] for line in f if line.strip()]


def perturbed_set(bases, seed=2024):
    """Each base text plus, for half of them, 1-3 variants with word deletions,
    adjacent swaps and replacements at rates drawn from 0-20 %; shuffled."""
    rng = random.Random(seed)
    vocabulary = sorted({w for text in bases for w in text.split()})
    texts = []
    for text in bases:
        texts.append(text)
        if rng.random() < 0.5:
            continue
        for _ in range(rng.randint(1, 3)):
            words = text.split()
            rate = rng.uniform(0.0, 0.2)
            out = []
            for word in words:
                roll = rng.random()
                if roll < rate / 3:
                    continue  # deletion
                if roll < 2 * rate / 3:
                    out.append(rng.choice(vocabulary))  # replacement
                    continue
                out.append(word)
            for i in range(len(out) - 1):
                if rng.random() < rate / 3:
                    out[i], out[i + 1] = out[i + 1], out[i]  # adjacent swap
            texts.append(" ".join(out))
    rng.shuffle(texts)
    return texts


def write_dataset(directory, name, texts):
    path = os.path.join(directory, name + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts, 1):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    return path


def shingles_for(binary, path, ngram):
    output = subprocess.run([binary, "dedup-shingles", "--input", path, "--field", "text", "--ngram", str(ngram)],
                            check=True, capture_output=True, text=True).stdout
    return [set(json.loads(line)["shingles"]) for line in output.splitlines()]


def exact_duplicates(sets, threshold):
    """Indices i with an earlier j whose exact Jaccard >= threshold (inverted index over shingles)."""
    postings = collections.defaultdict(list)
    duplicates = set()
    seen_empty = False
    for i, s in enumerate(sets):
        if not s:
            if seen_empty:
                duplicates.add(i)
            seen_empty = True
            continue
        overlap = collections.Counter()
        for shingle in s:
            for j in postings.get(shingle, ()):
                overlap[j] += 1
        for j, inter in overlap.items():
            if inter / (len(s) + len(sets[j]) - inter) >= threshold:
                duplicates.add(i)
                break
        for shingle in s:
            postings[shingle].append(i)
    return duplicates


def swift_duplicates(binary, path, threshold, ngram, num_perm, directory):
    kept = os.path.join(directory, "kept.jsonl")
    dups = os.path.join(directory, "dups.jsonl")
    start = time.perf_counter()
    subprocess.run([binary, "dedup", "--input", path, "--field", "text", "--threshold", str(threshold),
                    "--ngram", str(ngram), "--num-perm", str(num_perm), "--output", kept, "--duplicates", dups],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - start
    with open(dups, encoding="utf-8") as f:
        return {json.loads(line)["id"] - 1 for line in f}, seconds


def datasketch_duplicates(minhashes, threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    confirmed, raw = set(), set()
    for i, m in enumerate(minhashes):
        candidates = lsh.query(m)
        if candidates:
            raw.add(i)
        if any(m.jaccard(minhashes[c]) >= threshold for c in sorted(candidates)):
            confirmed.add(i)
        lsh.insert(i, m, check_duplication=False)
    return confirmed, raw


def scores(predicted, truth):
    """Precision and recall; precision is 1 when nothing is predicted, recall 1 when nothing is true."""
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    return precision, recall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "personaforge"))
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--thresholds", default="0.7,0.8,0.9")
    args = parser.parse_args()
    if not os.path.isdir(DATA):
        sys.exit(f"no data directory at {DATA}: this benchmark needs the Persona Hub samples")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    tool = os.path.join(DATA, "personahub-tool.jsonl")
    datasets = [
        ("personas (personas-5k persona)", load(os.path.join(DATA, "personas-5k.jsonl"), "persona")),
        ("tool synthesized text", load(tool, "synthesized text")),
        ("tool description", load(tool, "description")),
        ("synthetic near-dups (perturbed synthesized text)", perturbed_set(load(tool, "synthesized text")[:2000])),
        ("synthetic near-dups (perturbed personas)",
         perturbed_set(load(os.path.join(DATA, "personas-5k.jsonl"), "persona")[:2000], seed=7)),
    ]
    print(f"{args.ngram}-word shingles, {args.num_perm} permutations; precision/recall of 'is a near-duplicate "
          f"of an earlier record' against exact Jaccard")
    print()
    print("| data set | records | T | true dups | Swift found | Swift P | Swift R | datasketch found "
          "| datasketch P | datasketch R | LSH-only found | LSH-only P | LSH-only R |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for name, texts in datasets:
            path = write_dataset(directory, "data", texts)
            sets = shingles_for(args.binary, path, args.ngram)
            assert len(sets) == len(texts)
            minhashes = []
            for s in sets:
                m = MinHash(num_perm=args.num_perm)
                m.update_batch([x.encode("utf-8") for x in s])
                minhashes.append(m)
            for threshold in thresholds:
                truth = exact_duplicates(sets, threshold)
                swift, _ = swift_duplicates(args.binary, path, threshold, args.ngram, args.num_perm, directory)
                confirmed, raw = datasketch_duplicates(minhashes, threshold, args.num_perm)
                sp, sr = scores(swift, truth)
                dp, dr = scores(confirmed, truth)
                rp, rr = scores(raw, truth)
                print(f"| {name} | {len(texts)} | {threshold} | {len(truth)} | {len(swift)} | {sp:.3f} | {sr:.3f} "
                      f"| {len(confirmed)} | {dp:.3f} | {dr:.3f} | {len(raw)} | {rp:.3f} | {rr:.3f} |", flush=True)


if __name__ == "__main__":
    main()
