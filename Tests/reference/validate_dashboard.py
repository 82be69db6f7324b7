#!/usr/bin/env python3
"""Offline check of the Grafana dashboard (deploy/grafana/personaforge.json).

  1. the file is valid JSON with a uid, a title and unique panel ids on a 24-column grid;
  2. every PromQL expression has balanced brackets and quotes;
  3. every metric it names is one the Swift code really exports: a string literal
     "personaforge_..." passed as `label:` to a swift-metrics Counter, Gauge or Timer
     in Sources/ (Timers are histograms: only they may be used with _bucket/_count/_sum);
  4. every label it filters or groups by is a dimension that metric is created with
     (plus `le` on _bucket series), so a typo or a renamed label cannot pass.

Usage: python3 Tests/reference/validate_dashboard.py [dashboard.json]   (exit 1 on any error)
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
dashboard_path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy/grafana/personaforge.json"
errors = []

# --- what the code exports -------------------------------------------------------
exported = {}    # name -> {"kind": "Counter"|"Gauge"|"Timer", "labels": set()}
call = re.compile(r'\b(Counter|Gauge|Timer|Recorder|Meter)\(\s*label:\s*"(personaforge_[a-z0-9_]+)"(.*?)factory:', re.S)
for source in sorted((ROOT / "Sources").rglob("*.swift")):
    text = source.read_text()
    for match in call.finditer(text):
        kind, name, arguments = match.group(1), match.group(2), match.group(3)
        labels = set(re.findall(r'\(\s*"([a-z_][a-z0-9_]*)"\s*,', arguments))
        named = re.search(r'dimensions:\s*([a-zA-Z_]\w*)\b', arguments)
        if named:
            # dimensions passed as a variable: take the tuple keys of its definition above.
            before = text[:match.start()]
            definition = before.rfind(f"let {named.group(1)} = [")
            if definition >= 0:
                labels |= set(re.findall(r'\(\s*"([a-z_][a-z0-9_]*)"\s*,', before[definition:definition + 400].split("\n")[0]))
        entry = exported.setdefault(name, {"kind": kind, "labels": set()})
        entry["labels"] |= labels
        if entry["kind"] != kind:
            errors.append(f"{name} is created as both {entry['kind']} and {kind} in Sources/")
if not exported:
    errors.append("found no personaforge_* metrics in Sources/ (is the scan broken?)")

# --- the dashboard ---------------------------------------------------------------
try:
    dashboard = json.loads(dashboard_path.read_text())
except (OSError, json.JSONDecodeError) as error:
    print(f"FAIL {dashboard_path}: {error}")
    sys.exit(1)

for key in ("uid", "title", "panels", "schemaVersion"):
    if key not in dashboard:
        errors.append(f"dashboard has no '{key}'")

def panels(items):
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))

ids, expressions = set(), []
for panel in panels(dashboard.get("panels", [])):
    if panel.get("id") in ids:
        errors.append(f"duplicate panel id {panel.get('id')}")
    ids.add(panel.get("id"))
    grid = panel.get("gridPos", {})
    if grid.get("x", 0) + grid.get("w", 0) > 24:
        errors.append(f"panel '{panel.get('title')}' is wider than the 24-column grid")
    for target in panel.get("targets", []):
        if "expr" in target:
            expressions.append((panel.get("title"), target["expr"]))
if not expressions:
    errors.append("the dashboard has no PromQL expressions")

keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "sum", "max", "min", "avg", "count", "rate",
            "irate", "increase", "histogram_quantile", "bool", "and", "or", "unless", "offset"}
used = set()
for title, expr in expressions:
    where = f"panel '{title}': {expr}"
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    if stripped.count('"') % 2:
        errors.append(f"unbalanced quotes in {where}")
    for open_, close in ("()", "[]", "{}"):
        if stripped.count(open_) != stripped.count(close):
            errors.append(f"unbalanced {open_}{close} in {where}")
    grouping = set()
    for clause in re.findall(r'\b(?:by|without)\s*\(([^)]*)\)', stripped):
        grouping |= {label.strip() for label in clause.split(",") if label.strip()}
    names = re.findall(r'\b(personaforge_[a-z0-9_]+)\b', expr)
    if not names:
        errors.append(f"no personaforge metric in {where}")
    for series in names:
        base, suffix = series, None
        for candidate in ("_bucket", "_count", "_sum"):
            if series.endswith(candidate) and series[: -len(candidate)] in exported:
                base, suffix = series[: -len(candidate)], candidate
        metric = exported.get(base)
        if metric is None:
            errors.append(f"{series} is not exported by the code ({where})")
            continue
        used.add(base)
        if suffix and metric["kind"] != "Timer":
            errors.append(f"{series}: {base} is a {metric['kind']}, not a histogram ({where})")
        if metric["kind"] == "Timer" and not suffix:
            errors.append(f"{series} is a histogram: use _bucket, _count or _sum ({where})")
        allowed = metric["labels"] | ({"le"} if suffix == "_bucket" else set())
        selector = re.search(re.escape(series) + r'\s*\{([^}]*)\}', expr)
        selected = set(re.findall(r'([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)', selector.group(1))) if selector else set()
        for label in selected - allowed:
            errors.append(f"{series} has no label '{label}' (it has {sorted(metric['labels']) or 'none'}) ({where})")
        # A grouping label must exist on at least one metric of the expression.
        grouping -= allowed
    for label in grouping - keywords:
        errors.append(f"grouping label '{label}' is not a label of any metric in {where}")

for error in errors:
    print("FAIL", error)
print(f"validate_dashboard: {len(expressions)} expressions, {len(used)} of {len(exported)} exported metrics used, {len(errors)} error(s)")
unused = sorted(set(exported) - used)
if unused:
    print("   not on the dashboard: " + ", ".join(unused))
sys.exit(1 if errors else 0)
