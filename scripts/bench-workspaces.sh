#!/usr/bin/env bash
# `make bench`, workspace part: on SQLite and PostgreSQL, a fresh release
# server with the real Docker Engine (scripts/workspace-engine.sh made it
# answer), signed in as the platform admin:
#   1. PROVISION (default 200) workspaces requested at once: the time until
#      every one runs (containers started, status `running`), then until
#      every one is deleted again (containers and volumes gone);
#   2. ROWS (default 10,000) stopped workspaces allocated in one
#      organization, then GET /api/workspaces (first page, any page) next
#      to /healthz from the same run.
# Settings (environment): PROVISION, ROWS, DURATION (seconds per endpoint,
# default 5), CONCURRENCY (default 8), BACKENDS (default "sqlite postgres"),
# NEOSC_TEST_POSTGRES_URL. Expects ./target/release/neosc and
# ./target/release/neosc-bench (the Makefile builds them).
set -euo pipefail
cd "$(dirname "$0")/.."

PROVISION=${PROVISION:-200}
ROWS=${ROWS:-10000}
DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-8}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BIN=./target/release/neosc
DRIVER=./target/release/neosc-bench
IMAGE=${NEOSC_WORKSPACE_IMAGE:-neosc/workspace-busybox:dev}

for f in "$BIN" "$DRIVER"; do
    [[ -x $f ]] || { echo "bench-workspaces: $f is missing; run make bench" >&2; exit 1; }
done
docker version >/dev/null 2>&1 || { echo "bench-workspaces: no Docker Engine answers (run scripts/workspace-engine.sh)" >&2; exit 1; }

BENCH_NAME=bench-workspaces
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
results=$work/results.txt
: >"$results"

run_case() {
    local backend=$1 url port base token template label=$1
    echo
    echo "=== $backend: $PROVISION workspaces at once, then $ROWS rows"
    case $backend in
        sqlite) url="sqlite://$work/bench-ws.db" ;;
        postgres)
            local db="neosc_bench_ws_$$"
            psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
            pg_dbs+=("$db")
            url=$(pg_url_for "$db")
            ;;
        *) echo "bench-workspaces: unknown backend $backend" >&2; exit 1 ;;
    esac
    port=$(free_port)
    base=http://127.0.0.1:$port
    DATABASE_URL=$url LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_ENV=PROD LEPTOS_OUTPUT_NAME=neosc NEOSC_WORKSPACE_ENGINE=docker \
        NEOSC_ADMIN_EMAIL=$admin_email NEOSC_ADMIN_PASSWORD=$admin_password NEOSC_DEMO=0 RUST_LOG=warn \
        "$BIN" serve >"$work/server-$backend.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server-$backend.log" >&2; exit 1; }
        sleep 0.2
    done
    token=$(curl -fsS -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    template=$(curl -fsS -X POST "$base/api/workspace-templates" -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
        -d "{\"name\":\"bench\",\"image\":\"$IMAGE\",\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; while :; do sleep 1; done\"],
             \"default_vcpu\":100,\"default_memory_mib\":16,\"default_storage_gib\":1,
             \"max_vcpu\":100,\"max_memory_mib\":16,\"max_storage_gib\":1}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    "$DRIVER" --url "$base" --token "$token" --label "$label" --provision "$PROVISION" --template "$template" | tee -a "$results"
    "$DRIVER" --url "$base" --token "$token" --label "$label" --concurrency "$CONCURRENCY" --create-stopped "$ROWS" \
        --template "$template" | tee -a "$results"
    "$DRIVER" --url "$base" --token "$token" --label "$label $ROWS rows" --duration "$DURATION" --concurrency "$CONCURRENCY" \
        --workspaces --header | tee "$work/out.txt"
    tail -n +2 "$work/out.txt" >>"$work/table.txt"
    stop_server
}

: >"$work/table.txt"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench-workspaces: $(nproc) cores, load average $(load); Docker $(docker version --format '{{.Server.Version}}'), image $IMAGE"
for backend in $BACKENDS; do
    run_case "$backend"
done
echo
echo "=== workspaces: provisioning on the real engine"
grep -v '^setup' "$results" | grep -E 'at once|allocated' || true
echo
echo "=== workspaces: the list with $ROWS rows next to /healthz (latency in ms, measured by the client over loopback)"
printf '%-24s %-34s %9s %6s %8s %8s %8s %8s\n' setup endpoint requests errors req/s "p50 ms" "p99 ms" "max ms"
cat "$work/table.txt"
echo
echo "bench-workspaces: done in $((SECONDS - started)) s; load average now $(load)"
