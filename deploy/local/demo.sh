#!/usr/bin/env bash
# The README's main command: sets up everything on a fresh Debian/Ubuntu machine
# and runs PersonaForge against the local stack.
#
# Today that is: install dependencies, start Redis, PostgreSQL and the SmolLM2
# server on 127.0.0.1, build personaforge, apply the schema, check every
# connection with `personaforge doctor`, plan an example run, and print one real
# chat completion made through the Swift libcurl client.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || pf_die "no Swift toolchain on PATH: install Swift 6 from swift.org (see README)"

"$here/stack.sh" up
cd "$PF_ROOT"
pf_say "swift build"
swift build
personaforge="$(swift build --show-bin-path)/personaforge"

pf_say "personaforge migrate"
"$personaforge" migrate
pf_say "personaforge doctor"
"$personaforge" doctor
pf_say "personaforge plan config/math-word-problems.yaml --show 1"
"$personaforge" plan config/math-word-problems.yaml --show 1
pf_say "personaforge chat (one real completion from $PERSONAFORGE_LLM_MODEL)"
"$personaforge" chat --verbose --max-tokens 96 --seed 42 \
    --system "You write short, concrete math word problems." \
    "Write one math word problem for a beekeeper who sells honey at a farmers' market."
pf_say "done. The stack keeps running: deploy/local/stack.sh status | down"
