#!/usr/bin/env python3
"""Agreement of `personaforge metrics --json` with the reference `diversity`
package (Shaib et al., "Standardizing the Measurement of Text Diversity").

Usage (from the project root, after `swift build`):

    python3 -m venv .venv && .venv/bin/pip install diversity
    .venv/bin/python Tests/reference/metrics_agreement.py [--binary PATH] [--tolerance 0.01]

Corpora: the Persona Hub files in ../shared/data/ when present (never copied
into the repository), else a generated corpus. For each corpus it runs the
reference and the CLI on the same texts, prints a table and exits non-zero if
a checked metric differs by more than the tolerance (relative, default 1 %).

`pip install diversity` does not pull spacy, which the package's __init__
imports; the metric modules used here only need nltk/numpy/rouge-score, so
they are loaded by file path instead of `import diversity`.
"""
import argparse
import gzip
import importlib.util
import json
import os
import random
import site
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")


def load_reference(name):
    for directory in site.getsitepackages() + [site.getusersitepackages()]:
        path = os.path.join(directory, "diversity", name + ".py")
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("diversity_" + name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    sys.exit("the `diversity` package is not installed in this interpreter: "
             "python3 -m venv .venv && .venv/bin/pip install diversity")


def read_jsonl(path, field):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[field] for line in f if line.strip()]


def generated_corpus(count=3000, seed=7):
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(2000)]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    templates = ["As a {} I want to {} the {}.", "The {} helps {} with {} every day.", "{} {} {}"]
    texts = []
    for _ in range(count):
        words = rng.choices(vocabulary, weights, k=rng.randint(5, 60))
        texts.append(rng.choice(templates).format(words[0], words[1], words[2]) + " " + " ".join(words[3:]))
    return texts


def corpora():
    tool = os.path.join(DATA, "personahub-tool.jsonl")
    personas = os.path.join(DATA, "personas-5k.jsonl")
    found = []
    if os.path.exists(tool):
        found.append(("personahub-tool (synthesized text)", read_jsonl(tool, "synthesized text")))
    if os.path.exists(personas):
        found.append(("personas-5k (persona)", read_jsonl(personas, "persona")))
    if not found:
        found.append(("generated (3,000 Zipfian texts)", generated_corpus()))
    return found


def run_cli(binary, texts, extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
        path = f.name
    try:
        started = time.monotonic()
        output = subprocess.run([binary, "metrics", "--input", path, "--field", "text", "--json", *extra],
                                check=True, capture_output=True, text=True).stdout
        return json.loads(output), time.monotonic() - started
    finally:
        os.unlink(path)


def reference_distinct(texts, n):
    """The inner term of the reference's ngram_diversity_score for one n (unrounded)."""
    import nltk
    data = " ".join(texts).split(" ")
    grams = list(nltk.ngrams(data, n))
    return len(set(grams)) / len(grams)


def reference_gzip_size_mtime0(texts):
    """The reference's compressed size with the inner gzip header's mtime pinned
    to 0 (the reference uses the wall clock there), for a byte-exact check."""
    import zlib
    data = " ".join(texts).encode("utf-8")
    inner = (bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 2, 0xFF]) + zlib.compress(data, 9, wbits=-15)
             + zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little"))
    return len(zlib.compress(inner, 9, wbits=-15)) + 10 + len("compressed") + 1 + 8


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "personaforge"))
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--homogenization-records", type=int, default=100,
                        help="records (the first N) on which the O(N²) reference homogenization score is compared")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build` first or pass --binary")

    compression = load_reference("compression")
    ngram = load_reference("ngram_diversity")
    repetition = load_reference("self_repetition")
    homogenization = load_reference("homogenization")

    rows = []  # (corpus, metric, reference, ours, checked)
    for name, texts in corpora():
        ours, seconds = run_cli(args.binary, texts)
        ratio_reference = compression.compression_ratio(texts, "gzip")
        rows.append((name, "compression_ratio (reference, rounded to 3)", ratio_reference, ours["compression_ratio"], True))
        exact_size = reference_gzip_size_mtime0(texts)
        rows.append((name, "compressed bytes (reference, mtime 0)", exact_size, ours["compression_compressed_bytes"], True))
        rows.append((name, "ngram_diversity_score (reference, rounded to 3)",
                     ngram.ngram_diversity_score(texts, 4), ours["ngram_diversity_score"], True))
        for n in range(1, 5):
            rows.append((name, f"distinct_{n} (reference formula)", reference_distinct(texts, n), ours[f"distinct_{n}"], True))
        rows.append((name, "self_repetition_score (reference)",
                     repetition.self_repetition_score(texts, verbose=False), ours["self_repetition_score"], True))
        subset = texts[:args.homogenization_records]
        ours_subset, _ = run_cli(args.binary, subset, ["--homogenization-sample", str(len(subset))])
        rows.append((name, f"homogenization_rougel (first {len(subset)}, reference)",
                     homogenization.homogenization_score(subset, verbose=False), ours_subset["homogenization_rougel"], True))
        # The sketches: the same corpus with a tiny exact limit forces HyperLogLog
        # and sampled entropy; reported against the exact values, not checked.
        approximate, _ = run_cli(args.binary, texts, ["--exact-limit", "2048"])
        for n in (1, 4):
            rows.append((name, f"distinct_{n} (--exact-limit 2048 vs exact)", ours[f"distinct_{n}"], approximate[f"distinct_{n}"], False))
            rows.append((name, f"entropy_{n} (--exact-limit 2048 vs exact)", ours[f"entropy_{n}"], approximate[f"entropy_{n}"], False))
        rows.append((name, "self_repetition (--exact-limit 2048 vs exact)", ours["self_repetition_score"],
                     approximate["self_repetition_score"], False))
        print(f"# {name}: {len(texts)} records, CLI {seconds:.1f} s", file=sys.stderr)

    failures = 0
    print(f"| corpus | metric | reference | personaforge | rel. diff | within {args.tolerance:.0%} |")
    print("|---|---|---:|---:|---:|---|")
    for corpus, metric, reference, value, checked in rows:
        difference = abs(value - reference) / abs(reference) if reference else abs(value)
        ok = difference <= args.tolerance
        if checked and not ok:
            failures += 1
        verdict = ("yes" if ok else "**NO**") if checked else "(info)"
        print(f"| {corpus} | {metric} | {reference:.6g} | {value:.6g} | {difference:.4%} | {verdict} |")
    if failures:
        print(f"{failures} metric(s) disagree by more than {args.tolerance:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
