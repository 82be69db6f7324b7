#!/usr/bin/env bash
# The local stack: Redis, PostgreSQL and the SmolLM2 LLM server on 127.0.0.1.
#
#   deploy/local/stack.sh up      [redis|postgres|llm ...]   start (installs first if needed)
#   deploy/local/stack.sh down    [redis|postgres|llm ...]   stop
#   deploy/local/stack.sh status                              show what runs where
#   deploy/local/stack.sh env                                 print export lines for your shell
#
# Ports: PF_REDIS_PORT (16379), PF_POSTGRES_PORT (15432), PF_LLM_PORT (8088).
# State (data, logs, pid files) lives in .local/ in the project (git-ignored).
# Idempotent: starting a running service does nothing; a port held by some other
# process is reported with a way out.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

mkdir -p "$PF_STATE_DIR/logs"
redis_dir="$PF_STATE_DIR/redis"
# PostgreSQL runs as the postgres user, which must reach its data directory. When the
# checkout sits under a directory it cannot enter (e.g. /root), its data goes to
# /var/tmp/personaforge-<hash of the checkout path> instead.
pg_root="$PF_STATE_DIR/postgres"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    probe="$PF_STATE_DIR"
    mkdir -p "$probe"
    if ! su postgres -s /bin/sh -c "test -x '$probe'" 2>/dev/null; then
        pg_root="/var/tmp/personaforge-$(printf '%s' "$PF_ROOT" | md5sum | cut -c1-8)/postgres"
    fi
fi
pg_data="$pg_root/data"
pg_socket="$pg_root/run"
llm_pidfile="$PF_STATE_DIR/llm.pid"

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] || pf_die "PostgreSQL server binaries not found: run deploy/local/install.sh"
    echo "$dir"
}

# Runs a command as the postgres user (PostgreSQL refuses to run as root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }

# Refuses to start on a port someone else holds.
claim_port() {
    local name=$1 port=$2 variable=$3
    if pf_port_open "$port"; then
        local owner; owner=$(pf_port_owner "$port")
        pf_die "$name: port $port on 127.0.0.1 is already in use${owner:+ by $owner}, and not by this stack. Stop that process or choose another port, e.g. $variable=$((port + 1)) $0 up"
    fi
}

wait_for() {
    local name=$1 seconds=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.3
    done
}

# --- Redis -------------------------------------------------------------------
redis_pidfile="$redis_dir/redis.pid"
redis_up() {
    if pid_alive "$redis_pidfile"; then pf_say "redis already running on 127.0.0.1:$PF_REDIS_PORT"; return; fi
    command -v redis-server >/dev/null || pf_die "redis-server not installed: run deploy/local/install.sh"
    claim_port redis "$PF_REDIS_PORT" PF_REDIS_PORT
    mkdir -p "$redis_dir"
    local auth=()
    [ -n "${PF_REDIS_PASSWORD:-}" ] && auth=(--requirepass "$PF_REDIS_PASSWORD")
    redis-server --bind 127.0.0.1 --port "$PF_REDIS_PORT" --daemonize yes \
        --dir "$redis_dir" --pidfile "$redis_pidfile" --logfile "$PF_STATE_DIR/logs/redis.log" \
        --appendonly yes --save "" "${auth[@]}"
    wait_for redis 10 redis_ping || pf_die "redis did not answer within 10 s; see $PF_STATE_DIR/logs/redis.log"
    pf_say "redis running on 127.0.0.1:$PF_REDIS_PORT"
}
redis_ping() { redis-cli -h 127.0.0.1 -p "$PF_REDIS_PORT" ${PF_REDIS_PASSWORD:+-a "$PF_REDIS_PASSWORD" --no-auth-warning} ping | grep -q PONG; }
redis_down() {
    if pid_alive "$redis_pidfile"; then
        kill "$(head -1 "$redis_pidfile")"
        wait_for redis 10 bash -c "! kill -0 $(head -1 "$redis_pidfile") 2>/dev/null" || true
        pf_say "redis stopped"
    else
        pf_say "redis not running"
    fi
}

# --- PostgreSQL --------------------------------------------------------------
pg_running() { [ -f "$pg_data/postmaster.pid" ] && as_postgres "$(pg_bin)/pg_ctl -D '$pg_data' status" >/dev/null 2>&1; }
postgres_up() {
    local bin; bin=$(pg_bin)
    if pg_running; then pf_say "postgres already running on 127.0.0.1:$PF_POSTGRES_PORT"; return; fi
    claim_port postgres "$PF_POSTGRES_PORT" PF_POSTGRES_PORT
    mkdir -p "$pg_data" "$pg_socket"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres:postgres "$pg_root"
        if ! su postgres -s /bin/sh -c "test -x '$pg_data'"; then
            pf_die "the postgres user cannot reach $pg_data (a parent directory is not world-executable). Set PF_STATE_DIR to a directory it can reach, e.g. PF_STATE_DIR=/var/tmp/personaforge $0 up"
        fi
    fi
    chmod 700 "$pg_data"
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        pf_say "initdb $pg_data"
        local pwfile="$pg_root/.pw"
        printf '%s\n' "postgres-local" > "$pwfile"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
        as_postgres "'$bin/initdb' -D '$pg_data' -U postgres --pwfile='$pwfile' --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8" \
            > "$PF_STATE_DIR/logs/initdb.log" 2>&1 || pf_die "initdb failed; see $PF_STATE_DIR/logs/initdb.log"
        rm -f "$pwfile"
    fi
    as_postgres "'$bin/pg_ctl' -D '$pg_data' -l '$pg_root/postgres.log' -w -t 30 \
        -o \"-c listen_addresses=127.0.0.1 -p $PF_POSTGRES_PORT -k '$pg_socket' -c max_connections=200 -c shared_buffers=$PF_POSTGRES_SHARED_BUFFERS -c fsync=off -c synchronous_commit=off\" start" >/dev/null \
        || pf_die "postgres did not start; see $pg_root/postgres.log"
    local psql=("$bin/psql" -h "$pg_socket" -p "$PF_POSTGRES_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
    if ! as_postgres "${psql[*]} -c \"SELECT 1 FROM pg_roles WHERE rolname = '$PF_POSTGRES_USER'\"" | grep -q 1; then
        as_postgres "${psql[*]} -c \"CREATE ROLE \\\"$PF_POSTGRES_USER\\\" LOGIN CREATEDB PASSWORD '$PF_POSTGRES_PASSWORD'\""
    fi
    if ! as_postgres "${psql[*]} -c \"SELECT 1 FROM pg_database WHERE datname = '$PF_POSTGRES_DB'\"" | grep -q 1; then
        as_postgres "${psql[*]} -c \"CREATE DATABASE \\\"$PF_POSTGRES_DB\\\" OWNER \\\"$PF_POSTGRES_USER\\\"\""
    fi
    pf_say "postgres running on 127.0.0.1:$PF_POSTGRES_PORT (database $PF_POSTGRES_DB, user $PF_POSTGRES_USER)"
}
postgres_down() {
    if pg_running; then
        as_postgres "'$(pg_bin)/pg_ctl' -D '$pg_data' -m fast -w stop" >/dev/null
        pf_say "postgres stopped"
    else
        pf_say "postgres not running"
    fi
}

# --- LLM server --------------------------------------------------------------
llm_healthy() { curl -fsS -m 2 "http://127.0.0.1:$PF_LLM_PORT/health" >/dev/null; }
llm_up() {
    if pid_alive "$llm_pidfile"; then pf_say "llm already running on 127.0.0.1:$PF_LLM_PORT"; return; fi
    [ -x "$PF_VENV/bin/python" ] || pf_die "Python venv missing at $PF_VENV: run deploy/local/install.sh"
    claim_port llm "$PF_LLM_PORT" PF_LLM_PORT
    OMP_WAIT_POLICY=PASSIVE nohup "$PF_VENV/bin/python" "$PF_ROOT/deploy/local/llm_server.py" \
        --host 127.0.0.1 --port "$PF_LLM_PORT" --alias "$PF_LLM_MODEL" \
        --threads "$PF_LLM_THREADS" --parallel "$PF_LLM_PARALLEL" --context "$PF_LLM_CONTEXT" \
        --pidfile "$llm_pidfile" > "$PF_STATE_DIR/logs/llm.log" 2>&1 < /dev/null &
    echo $! > "$llm_pidfile"
    if ! wait_for llm 120 llm_healthy; then
        pf_die "LLM server did not become healthy within 120 s; see $PF_STATE_DIR/logs/llm.log"
    fi
    pf_say "llm running on 127.0.0.1:$PF_LLM_PORT (model $PF_LLM_MODEL)"
}
llm_down() {
    if pid_alive "$llm_pidfile"; then
        local pid; pid=$(head -1 "$llm_pidfile")
        kill "$pid"
        wait_for llm 15 bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
        rm -f "$llm_pidfile"
        pf_say "llm stopped"
    else
        pf_say "llm not running"
    fi
}

status() {
    local line
    if pid_alive "$redis_pidfile"; then line="running"; else line="stopped"; fi
    printf '%-9s %-8s %s\n' redis "$line" "$PERSONAFORGE_REDIS_URL"
    if pg_running; then line="running"; else line="stopped"; fi
    printf '%-9s %-8s %s\n' postgres "$line" "postgresql://$PF_POSTGRES_USER:***@127.0.0.1:$PF_POSTGRES_PORT/$PF_POSTGRES_DB"
    if pid_alive "$llm_pidfile" && llm_healthy; then line="running"; elif pid_alive "$llm_pidfile"; then line="starting"; else line="stopped"; fi
    printf '%-9s %-8s %s (model %s)\n' llm "$line" "$PERSONAFORGE_LLM_BASE_URL" "$PF_LLM_MODEL"
}

command=${1:-status}
shift || true
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(redis postgres llm)
case "$command" in
    up)
        "$(dirname "${BASH_SOURCE[0]}")/install.sh"
        for service in "${services[@]}"; do
            case "$service" in redis|postgres|llm) "${service}_up" ;; *) pf_die "unknown service '$service' (redis, postgres, llm)";; esac
        done ;;
    down)
        for service in "${services[@]}"; do
            case "$service" in redis|postgres|llm) "${service}_down" ;; *) pf_die "unknown service '$service' (redis, postgres, llm)";; esac
        done ;;
    status) status ;;
    env)
        echo "export PERSONAFORGE_REDIS_URL='$PERSONAFORGE_REDIS_URL'"
        echo "export PERSONAFORGE_DATABASE_URL='$PERSONAFORGE_DATABASE_URL'"
        echo "export PERSONAFORGE_LLM_BASE_URL='$PERSONAFORGE_LLM_BASE_URL'"
        echo "export PERSONAFORGE_LLM_MODEL='$PERSONAFORGE_LLM_MODEL'" ;;
    *) pf_die "usage: $0 up|down|status|env [redis|postgres|llm ...]" ;;
esac
