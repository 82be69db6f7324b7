# shellcheck shell=bash
# Settings of the local stack, sourced by the other scripts in deploy/local/.
# Every value can be overridden from the environment before calling a script.

PF_ROOT="${PF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PF_STATE_DIR="${PF_STATE_DIR:-$PF_ROOT/.local}"
PF_VENV="${PF_VENV:-$PF_STATE_DIR/venv}"

PF_REDIS_PORT="${PF_REDIS_PORT:-16379}"
PF_POSTGRES_PORT="${PF_POSTGRES_PORT:-15432}"
PF_LLM_PORT="${PF_LLM_PORT:-8088}"

PF_POSTGRES_USER="${PF_POSTGRES_USER:-personaforge}"
PF_POSTGRES_PASSWORD="${PF_POSTGRES_PASSWORD:-personaforge}"
PF_POSTGRES_DB="${PF_POSTGRES_DB:-personaforge}"
# PostgreSQL's buffer cache. The default 128MB holds less than the band index of a
# 400,000-record run: its pages then go back and forth to the OS cache on every
# probe (docs/benchmarks.md, "Large families of near duplicates").
PF_POSTGRES_SHARED_BUFFERS="${PF_POSTGRES_SHARED_BUFFERS:-1GB}"

# The model name the local LLM server answers to, and its size knobs.
PF_LLM_MODEL="${PF_LLM_MODEL:-smollm2-135m-instruct}"
PF_LLM_THREADS="${PF_LLM_THREADS:-1}"
PF_LLM_PARALLEL="${PF_LLM_PARALLEL:-4}"
PF_LLM_CONTEXT="${PF_LLM_CONTEXT:-8192}"

PF_XLLAMACPP_VERSION="2026.10.11549"
PF_SMOLLM2_VERSION="0.1.2"

# The URLs every personaforge command reads (flags override them).
export PERSONAFORGE_REDIS_URL="${PERSONAFORGE_REDIS_URL:-redis://127.0.0.1:$PF_REDIS_PORT/0}"
export PERSONAFORGE_DATABASE_URL="${PERSONAFORGE_DATABASE_URL:-postgresql://$PF_POSTGRES_USER:$PF_POSTGRES_PASSWORD@127.0.0.1:$PF_POSTGRES_PORT/$PF_POSTGRES_DB}"
export PERSONAFORGE_LLM_BASE_URL="${PERSONAFORGE_LLM_BASE_URL:-http://127.0.0.1:$PF_LLM_PORT/v1}"
export PERSONAFORGE_LLM_MODEL="${PERSONAFORGE_LLM_MODEL:-$PF_LLM_MODEL}"

pf_say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
pf_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
pf_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Describes who listens on a port, for error messages.
pf_port_owner() {
    if command -v ss >/dev/null 2>&1; then
        ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
    fi
}
