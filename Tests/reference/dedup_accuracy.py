#!/usr/bin/env python3
"""Accuracy of `personaforge dedup` against exact Jaccard ground truth, side by
side with datasketch's MinHashLSH on the same shingles, over many independent
permutation seeds.

Usage (from the package root, after `swift build -c release`; needs ../shared/data/):
    .venv/bin/python Tests/reference/dedup_accuracy.py [--seeds 20] [--perturbation-seeds 3]
        [--generated Tests/reference/data/dedup-generated-smollm2.jsonl] [--binary .build/release/personaforge]

Ground truth: record i is a duplicate iff some earlier record j < i has exact
Jaccard(shingles_i, shingles_j) >= T (two empty shingle sets count as J = 1).
Shingles come from the hidden `personaforge dedup-shingles` helper, so the
ground truth, datasketch and Swift all see the same normalized n-gram sets.

For every data set, threshold T and permutation seed s = 1..--seeds:
- Swift: `personaforge dedup --seed s` (the real command, end to end);
- datasketch: MinHash(num_perm, seed=s).update_batch(utf-8 shingles), MinHashLSH(T, num_perm);
  a record is a duplicate if some earlier candidate has estimated Jaccard >= T
  (the same "LSH + confirm" rule as Swift).
Synthetic near-duplicate sets are drawn again for every perturbation seed.

Per row the script reports the mean precision, recall and F1 over all
(perturbation seed, permutation seed) runs with their standard errors, and the
paired difference Swift - datasketch (same data, same seed index) with its
standard error. It also measures each estimator directly: over all pairs with
exact Jaccard >= 0.3, the bias of the estimated Jaccard and its mean squared
error relative to the ideal J(1-J)/k of k independent permutations.

Exit status 1 if, on any row, Swift is worse than datasketch beyond statistical
noise: mean F1 difference < -Z standard errors (--z, default 2), or mean
precision or recall difference < -(Z + 1) standard errors (a stricter bar,
because three metrics per row are tested).
"""
import argparse
import collections
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from datasketch import MinHash, MinHashLSH

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")
GENERATED = os.path.join(ROOT, "Tests", "reference", "data", "dedup-generated-smollm2.jsonl")


def load(path, field):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[field] for line in f if line.strip()]


def perturbed_set(bases, seed):
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


def write_dataset(directory, texts):
    path = os.path.join(directory, "data.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts, 1):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    return path


def shingles_and_signatures(binary, path, ngram, num_perm, seeds):
    """Shingle sets, and (when seeds is non-empty) Swift signatures per seed as uint32 arrays."""
    command = [binary, "dedup-shingles", "--input", path, "--field", "text", "--ngram", str(ngram)]
    if seeds:
        command += ["--signatures", "--num-perm", str(num_perm), "--seeds", ",".join(map(str, seeds))]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    sets, signatures = [], {s: [] for s in seeds}
    for line in output.splitlines():
        obj = json.loads(line)
        sets.append(set(obj["shingles"]))
        for s in seeds:
            signatures[s].append(np.array(obj["signatures"][str(s)], dtype=np.uint64))
    return sets, signatures


def similar_pairs(sets, minimum):
    """Pairs (j, i), j < i, with exact Jaccard >= minimum, and that Jaccard (inverted index).

    A set equal to an earlier one is paired with its first occurrence only (J = 1) and
    not indexed again: the first occurrence stands for it, so every record with a
    qualifying earlier partner still gets one, without n² pairs for constant fields."""
    postings = collections.defaultdict(list)
    pairs = []
    first = {}
    for i, s in enumerate(sets):
        key = frozenset(s)
        if s and key in first:
            pairs.append((first[key], i, 1.0))
            continue
        first.setdefault(key, i)
        overlap = collections.Counter()
        for shingle in s:
            for j in postings.get(shingle, ()):
                overlap[j] += 1
        for j, inter in overlap.items():
            jaccard = inter / (len(s) + len(sets[j]) - inter)
            if jaccard >= minimum:
                pairs.append((j, i, jaccard))
        for shingle in s:
            postings[shingle].append(i)
    return pairs


def exact_duplicates(sets, pairs, threshold):
    """Indices i with an earlier j whose exact Jaccard >= threshold (two empty sets count as J = 1)."""
    duplicates = {i for _, i, jaccard in pairs if jaccard >= threshold}
    empties = [i for i, s in enumerate(sets) if not s]
    duplicates.update(empties[1:])
    return duplicates


def swift_duplicates(binary, path, threshold, ngram, num_perm, seed, directory):
    kept = os.path.join(directory, "kept.jsonl")
    dups = os.path.join(directory, "dups.jsonl")
    subprocess.run([binary, "dedup", "--input", path, "--field", "text", "--threshold", str(threshold),
                    "--ngram", str(ngram), "--num-perm", str(num_perm), "--seed", str(seed),
                    "--output", kept, "--duplicates", dups], check=True, capture_output=True)
    with open(dups, encoding="utf-8") as f:
        return {json.loads(line)["id"] - 1 for line in f}


def datasketch_minhashes(sets, num_perm, seed):
    """datasketch 2.0.0's default scheme ("affine32": sha1_hash32, fmix32, then a·h + b mod 2^32, a odd)."""
    template = MinHash(num_perm=num_perm, seed=seed)  # permutations generated once per seed, then shared
    minhashes = []
    for s in sets:
        m = MinHash(num_perm=num_perm, seed=seed, permutations=template.permutations, scheme=template.scheme)
        m.update_batch([x.encode("utf-8") for x in s])
        minhashes.append(m)
    return minhashes


def datasketch_duplicates(minhashes, threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    confirmed = set()
    for i, m in enumerate(minhashes):
        candidates = lsh.query(m)
        if any(m.jaccard(minhashes[c]) >= threshold for c in sorted(candidates)):
            confirmed.add(i)
        lsh.insert(i, m, check_duplication=False)
    return confirmed


def scores(predicted, truth):
    """Precision, recall, F1; precision is 1 when nothing is predicted, recall 1 when nothing is true."""
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def mean_se(values):
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


class Estimates:
    """Errors of estimated Jaccard against exact Jaccard, pooled over pairs and seeds."""

    def __init__(self, num_perm):
        self.k = num_perm
        self.errors = []
        self.ideal = []

    def add(self, estimate, exact):
        self.errors.append(estimate - exact)
        self.ideal.append(exact * (1 - exact) / self.k)

    def summary(self):
        errors = np.array(self.errors)
        n = len(errors)
        bias = errors.mean()
        bias_se = errors.std(ddof=1) / math.sqrt(n)
        mse_ratio = float((errors ** 2).mean() / np.mean(self.ideal))
        return n, bias, bias_se, mse_ratio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "personaforge"))
    parser.add_argument("--ngram", type=int, default=5)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--thresholds", default="0.7,0.8,0.9")
    parser.add_argument("--seeds", type=int, default=20, help="permutation seeds 1..N for both implementations")
    parser.add_argument("--perturbation-seeds", type=int, default=3,
                        help="independent draws of each synthetic near-duplicate set")
    parser.add_argument("--generated", default=GENERATED,
                        help="JSONL of real generated outputs with a 'text' field (skipped if absent)")
    parser.add_argument("--z", type=float, default=2.0, help="standard errors of the F1 difference that fail")
    args = parser.parse_args()
    if not os.path.isdir(DATA):
        sys.exit(f"no data directory at {DATA}: this benchmark needs the Persona Hub samples")
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no personaforge binary at {args.binary}: run `swift build -c release` first")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    seeds = list(range(1, args.seeds + 1))
    tool = os.path.join(DATA, "personahub-tool.jsonl")
    personas = load(os.path.join(DATA, "personas-5k.jsonl"), "persona")
    synthesized = load(tool, "synthesized text")

    # (row name, [texts per instance], measure the estimators on it)
    datasets = [
        ("Persona Hub personas (personas-5k)", [personas], False),
        ("Persona Hub tool `synthesized text` (GPT-4 output)", [synthesized], False),
        ("Persona Hub tool `description`", [load(tool, "description")], False),
    ]
    if args.generated and os.path.exists(args.generated):
        datasets.append((f"SmolLM2 outputs ({os.path.basename(args.generated)})", [load(args.generated, "text")], True))
    else:
        print(f"(no generated corpus at {args.generated}; skipping that row)", file=sys.stderr)
    datasets += [
        ("perturbed `synthesized text` (2,000 bases)",
         [perturbed_set(synthesized[:2000], seed=2024 + p) for p in range(args.perturbation_seeds)], True),
        ("perturbed personas (2,000 bases)",
         [perturbed_set(personas[:2000], seed=7 + p) for p in range(args.perturbation_seeds)], True),
    ]

    results = collections.defaultdict(lambda: {"swift": [], "datasketch": []})  # (name, T) -> runs
    info = {}
    estimates = {"swift": Estimates(args.num_perm), "datasketch": Estimates(args.num_perm)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        for name, instances, measure in datasets:
            for instance, texts in enumerate(instances):
                path = write_dataset(directory, texts)
                sets, swift_signatures = shingles_and_signatures(
                    args.binary, path, args.ngram, args.num_perm, seeds if measure else [])
                assert len(sets) == len(texts)
                pairs = similar_pairs(sets, min(0.3, min(thresholds)))
                truths = {t: exact_duplicates(sets, pairs, t) for t in thresholds}
                for t in thresholds:
                    records, dups = info.get((name, t), (0, 0))
                    info[(name, t)] = (records + len(texts), dups + len(truths[t]))
                for seed in seeds:
                    minhashes = datasketch_minhashes(sets, args.num_perm, seed)
                    if measure:
                        for j, i, exact in pairs:
                            if sets[i] and sets[j]:
                                a, b = swift_signatures[seed][i], swift_signatures[seed][j]
                                estimates["swift"].add(float(np.mean(a == b)), exact)
                                estimates["datasketch"].add(minhashes[i].jaccard(minhashes[j]), exact)
                    for t in thresholds:
                        swift = swift_duplicates(args.binary, path, t, args.ngram, args.num_perm, seed, directory)
                        confirmed = datasketch_duplicates(minhashes, t, args.num_perm)
                        results[(name, t)]["swift"].append(scores(swift, truths[t]))
                        results[(name, t)]["datasketch"].append(scores(confirmed, truths[t]))
                print(f"  done: {name} #{instance + 1} ({len(texts)} records, {len(pairs)} pairs with J >= 0.3) "
                      f"after {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    print(f"{args.ngram}-word shingles, {args.num_perm} permutations, permutation seeds 1..{args.seeds} for both; "
          f"{args.perturbation_seeds} draws of each perturbed set. Mean ± standard error over runs; "
          f"Δ = Swift − datasketch, paired by data set and seed index.")
    print()
    print("| data set | T | runs | records | true dups | Swift P | Swift R | Swift F1 | datasketch P | datasketch R "
          "| datasketch F1 | ΔP | ΔR | ΔF1 | verdict |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    failures = []
    for (name, t), runs in results.items():
        n = len(runs["swift"])
        records, dups = info[(name, t)]
        cells, verdict = [], "parity"
        for side in ("swift", "datasketch"):
            for metric in range(3):
                mean, se = mean_se([r[metric] for r in runs[side]])
                cells.append(f"{mean:.4f} ± {se:.4f}")
        for metric, label in ((0, "P"), (1, "R"), (2, "F1")):
            diffs = [s[metric] - d[metric] for s, d in zip(runs["swift"], runs["datasketch"])]
            mean, se = mean_se(diffs)
            cells.append(f"{mean:+.4f} ± {se:.4f}")
            bar = args.z if label == "F1" else args.z + 1
            if mean < 0 and (se == 0 or mean < -bar * se):
                verdict = f"Swift worse ({label})"
                failures.append(f"{name}, T = {t}: Δ{label} = {mean:+.4f} ± {se:.4f}")
            elif mean > 0 and mean > bar * se and verdict == "parity":
                verdict = f"Swift better ({label})"
        print(f"| {name} | {t} | {n} | {records // (n // args.seeds)} | {dups / (n // args.seeds):.0f} | "
              + " | ".join(cells) + f" | {verdict} |")
    print()
    print("Estimated vs exact Jaccard over pairs with exact J >= 0.3 (perturbed and generated sets, all seeds); "
          "MSE ratio = mean (Ĵ − J)² / mean J(1 − J)/k, 1.0 for k independent permutations:")
    print()
    print("| implementation | estimates | bias (mean Ĵ − J) | MSE ratio |")
    print("|---|---:|---:|---:|")
    for side, label in (("swift", "Swift"), ("datasketch", "datasketch")):
        n, bias, bias_se, ratio = estimates[side].summary()
        print(f"| {label} | {n} | {bias:+.5f} ± {bias_se:.5f} | {ratio:.3f} |")
    print()
    print(f"({time.perf_counter() - started:.0f} s)")
    if failures:
        print("Swift is worse than datasketch beyond noise on: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
