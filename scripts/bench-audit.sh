#!/usr/bin/env bash
# `make bench`, audit log part (issue 13): on SQLite and PostgreSQL, a fresh
# database seeded with `neosc dev seed-audit` (AUDIT_EVENTS events over
# AUDIT_ORGS new organizations, one of them holding AUDIT_BIG events, spread
# over two years, hashed and chained as the server records them), then:
#   1. `neosc audit verify --org <the big one>` and `neosc audit checkpoint`
#      (which replays every chain before signing it, so a seed that broke a
#      chain fails here; it also leaves the server's start-up checkpoint pass
#      nothing to replay during the measurements), timed;
#   2. the release server, signed in as the platform admin: /healthz, then
#      GET /api/organizations/{id}/audit for a typical organization (the
#      median one) and the big one, unfiltered and by each filter (exact
#      action, action pattern, actor by id and by email, one month a year
#      ago, outcome=denied, an IPv4 /24, a deep cursor), p50/p99 each, with
#      neosc-bench --audit;
#   3. the big organization's full export, CSV then JSON Lines, with the
#      server's RSS sampled from /proc (neosc-bench --audit-export).
# Each backend's database is dropped (the SQLite file removed) before the
# next one is seeded.
#
# Settings (environment): AUDIT_EVENTS (default 10000000), AUDIT_ORGS
# (default 1000), AUDIT_BIG (default 1000000), AUDIT_ACTORS (members per
# organization, default 200), DURATION (seconds per endpoint, default 5),
# CONCURRENCY (default 8), BACKENDS (default "sqlite postgres"),
# NEOSC_TEST_POSTGRES_URL, BIN / DRIVER (default ./target/release/neosc and
# ./target/release/neosc-bench; the Makefile builds them).
set -euo pipefail
cd "$(dirname "$0")/.."

AUDIT_EVENTS=${AUDIT_EVENTS:-10000000}
AUDIT_ORGS=${AUDIT_ORGS:-1000}
AUDIT_BIG=${AUDIT_BIG:-1000000}
AUDIT_ACTORS=${AUDIT_ACTORS:-200}
DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-8}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BIN=${BIN:-./target/release/neosc}
DRIVER=${DRIVER:-./target/release/neosc-bench}

for f in "$BIN" "$DRIVER"; do
    [[ -x $f ]] || { echo "bench-audit: $f is missing; run make bench" >&2; exit 1; }
done

BENCH_NAME=bench-audit
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
: >"$work/table.txt"
: >"$work/prep.txt"
: >"$work/export.txt"

# timed LABEL COMMAND…: runs it, output indented, and notes how long it took.
timed() {
    local label=$1 t0=$EPOCHREALTIME
    shift
    "$@" 2>&1 | sed 's/^/  /'
    awk -v l="$label" -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%-52s %8.1f s\n", l, t1 - t0 }' | tee -a "$work/prep.txt"
}

run_case() {
    local backend=$1 url db= port base token big typical size
    echo
    echo "=== $backend: $AUDIT_EVENTS audit events over $AUDIT_ORGS organizations ($AUDIT_BIG in one)"
    case $backend in
        sqlite) url="sqlite://$work/bench-audit.db" ;;
        postgres)
            db="neosc_bench_audit_$$"
            psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
            pg_dbs+=("$db")
            url=$(pg_url_for "$db")
            ;;
        *) echo "bench-audit: unknown backend $backend" >&2; exit 1 ;;
    esac
    export DATABASE_URL=$url RUST_LOG=error
    timed "$backend: neosc dev seed-audit" "$BIN" dev seed-audit --events "$AUDIT_EVENTS" --orgs "$AUDIT_ORGS" \
        --big-org-events "$AUDIT_BIG" --actors "$AUDIT_ACTORS" | tee "$work/seed.txt"
    big=$(sed -n 's/.*big_org=\(org-[0-9a-f-]*\).*/\1/p' "$work/seed.txt")
    typical=$(sed -n 's/.*typical_org=\(org-[0-9a-f-]*\).*/\1/p' "$work/seed.txt")
    [[ -n $big ]] || { echo "bench-audit: the seed named no big organization" >&2; exit 1; }
    case $backend in
        sqlite) size=$(du -sh "$work/bench-audit.db" | cut -f1) ;;
        postgres) size=$(psql "$PG_URL" -qAt -c "SELECT pg_size_pretty(pg_database_size('$db'))") ;;
    esac
    echo "$backend: database size after seeding: $size" | tee -a "$work/prep.txt"
    timed "$backend: neosc audit verify --org <big>" "$BIN" audit verify --org "$big"
    # Every chain replayed, then signed; prints one long JSON line.
    timed "$backend: neosc audit checkpoint (replays every chain)" \
        bash -c "'$BIN' audit checkpoint | python3 -c 'import json, sys; p = [json.loads(l) for l in sys.stdin if l.startswith(\"{\")][-1][\"pass\"]; print(len(p[\"written\"]), \"chains verified and signed,\", len(p[\"broken\"]), \"broken\")'"

    unset RUST_LOG
    port=$(free_port)
    base=http://127.0.0.1:$port
    LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_ENV=PROD LEPTOS_OUTPUT_NAME=neosc NEOSC_ADMIN_EMAIL=$admin_email \
        NEOSC_ADMIN_PASSWORD=$admin_password NEOSC_DEMO=0 RUST_LOG=warn NEOSC_AUDIT_CHECKPOINT_INTERVAL_SECS=86400 \
        "$BIN" serve >"$work/server-$backend.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server-$backend.log" >&2; exit 1; }
        sleep 0.2
    done
    token=$(curl -fsS -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
    "$DRIVER" --url "$base" --token "$token" --label "$backend" --duration "$DURATION" --concurrency "$CONCURRENCY" \
        --header --audit "${typical:+$typical,}$big" | tee "$work/out.txt"
    tail -n +2 "$work/out.txt" >>"$work/table.txt"
    "$DRIVER" --url "$base" --token "$token" --label "$backend" --audit-export "$big" --pid "$server_pid" | tee -a "$work/export.txt"
    stop_server
    unset DATABASE_URL
    # The next backend gets the disk.
    case $backend in
        sqlite) rm -f "$work"/bench-audit.db* ;;
        postgres) psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null ;;
    esac
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench-audit: $(nproc) cores, load average $(load); each endpoint ${DURATION} s at concurrency $CONCURRENCY after 1 s of warm-up"
if [[ " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || { echo "bench-audit: psql is needed to create the PostgreSQL database" >&2; exit 1; }
    psql "$PG_URL" -qAt -c 'SELECT 1' >/dev/null 2>&1 ||
        { echo "bench-audit: PostgreSQL at $PG_URL is unreachable (set NEOSC_TEST_POSTGRES_URL, or BACKENDS=sqlite)" >&2; exit 1; }
fi
for backend in $BACKENDS; do
    run_case "$backend"
done
echo
echo "=== audit log: seeding and verifying ($AUDIT_EVENTS events, $AUDIT_ORGS organizations, $AUDIT_BIG in the big one)"
cat "$work/prep.txt"
echo
echo "=== audit log: the list by filter next to /healthz (latency in ms, measured by the client over loopback; pages of 50)"
printf '%-24s %-34s %9s %6s %8s %8s %8s %8s\n' setup endpoint requests errors req/s "p50 ms" "p99 ms" "max ms"
cat "$work/table.txt"
echo
echo "=== audit log: full export of the big organization"
cat "$work/export.txt"
echo
echo "bench-audit: done in $((SECONDS - started)) s; load average now $(load)"
