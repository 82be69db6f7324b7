#!/usr/bin/env bash
# Sets up everything (apt and pip dependencies, Redis, PostgreSQL and the SmolLM2
# server on 127.0.0.1) and runs the whole test suite against it.
#
#   deploy/local/test.sh                 all tests
#   deploy/local/test.sh --filter Redis  any extra arguments go to `swift test`
#
# This is the README's test command and exactly what CI (.ci/run) runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || pf_die "no Swift toolchain on PATH: install Swift 6 from swift.org (see README)"

"$here/stack.sh" up
cd "$PF_ROOT"
pf_say "swift build"
swift build --build-tests
pf_say "swift test (services: $PERSONAFORGE_REDIS_URL, postgres on port $PF_POSTGRES_PORT, $PERSONAFORGE_LLM_BASE_URL)"
swift test --skip-build "$@"
