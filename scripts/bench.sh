#!/usr/bin/env bash
# `make bench`: the organization list under load, on SQLite and PostgreSQL,
# at three sizes: small (100 organizations / 1,000 users), as many
# organizations as the large one but few users (10,000 / 1,000), and large
# (10,000 / 1,000,000): the second against the third shows what the number
# of users costs, the first against the second what the number of
# organizations costs. For each (backend, size) it seeds a
# fresh database with `neosc dev seed`, starts the release server on a free
# loopback port, signs in as the platform admin (who sees every
# organization), runs neosc-bench against /healthz, /api/auth/me,
# /api/organizations?limit=100 (first and random pages) and the
# /organizations page, stops the server, and prints one table at the end. Expects ./target/release/neosc and ./target/release/neosc-bench
# (the Makefile builds them).
#
# Then, once on SQLite, abuse resistance (neosc-bench --abandon-logins and
# --register-flood): 200 sign-ins sent and abandoned (peak concurrent
# hashes, read from the server's debug log, and peak RSS, sampled from
# /proc), then a register flood from one address while a legitimate
# sign-in from another is timed.
#
# Settings (environment): ORGS / USERS (large size, default 10000 / 1000000),
# SMALL_ORGS / SMALL_USERS (default 100 / 1000), SIZES (default
# "SMALL_ORGS/SMALL_USERS ORGS/SMALL_USERS ORGS/USERS"), DURATION (seconds
# per endpoint, default 5), CONCURRENCY (default 8), BACKENDS (default
# "sqlite postgres"), PAGE=0 to leave out the server-rendered page,
# NEOSC_TEST_POSTGRES_URL (a database to connect to for CREATE/DROP
# DATABASE, default postgres://postgres@127.0.0.1:5432/postgres), ABUSE=0
# to leave out the abuse measurements, ONLY=abuse to run only them,
# ABANDONED (default 200) and FLOOD (default 300), BIN / DRIVER (the
# binaries, default ./target/release/neosc and ./target/release/neosc-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

ORGS=${ORGS:-10000}
USERS=${USERS:-1000000}
SMALL_ORGS=${SMALL_ORGS:-100}
SMALL_USERS=${SMALL_USERS:-1000}
SIZES=${SIZES:-$SMALL_ORGS/$SMALL_USERS $ORGS/$SMALL_USERS $ORGS/$USERS}
DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-8}
BACKENDS=${BACKENDS:-sqlite postgres}
PAGE=${PAGE:-1}
PG_URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ABUSE=${ABUSE:-1}
ONLY=${ONLY:-}
ABANDONED=${ABANDONED:-200}
FLOOD=${FLOOD:-300}
BIN=${BIN:-./target/release/neosc}
DRIVER=${DRIVER:-./target/release/neosc-bench}

for f in "$BIN" "$DRIVER"; do
    [[ -x $f ]] || { echo "bench: $f is missing; run make bench" >&2; exit 1; }
done

BENCH_NAME=bench
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
results=$work/results.txt
seeds=$work/seeds.txt
: >"$results"
: >"$seeds"

# run_case BACKEND ORGS USERS
run_case() {
    local backend=$1 orgs=$2 users=$3 url label port t0 token
    label="$backend $orgs/$users"
    echo
    echo "=== $backend: $orgs organizations, $users users"
    case $backend in
        sqlite) url="sqlite://$work/bench-$orgs-$users.db" ;;
        postgres)
            local db="neosc_bench_$$_${orgs}_${users}"
            psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
            pg_dbs+=("$db")
            url=$(pg_url_for "$db")
            ;;
        *) echo "bench: unknown backend $backend" >&2; exit 1 ;;
    esac

    t0=$EPOCHREALTIME
    DATABASE_URL=$url RUST_LOG=warn,sqlx=error "$BIN" dev seed --orgs "$orgs" --users "$users" | sed 's/^/  /'
    awk -v label="$label" -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%-24s %8.1f s\n", label, t1 - t0 }' >>"$seeds"

    port=$(free_port)
    DATABASE_URL=$url LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_ENV=PROD LEPTOS_OUTPUT_NAME=neosc \
        NEOSC_ADMIN_EMAIL=$admin_email NEOSC_ADMIN_PASSWORD=$admin_password NEOSC_DEMO=0 RUST_LOG=warn \
        "$BIN" serve >"$work/server-$backend-$orgs-$users.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "bench: the server stopped; its log:" >&2
            cat "$work/server-$backend-$orgs-$users.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"

    token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

    local page_flag=()
    [[ $PAGE == 1 ]] && page_flag=(--page)
    "$DRIVER" --url "http://127.0.0.1:$port" --token "$token" --duration "$DURATION" \
        --concurrency "$CONCURRENCY" --label "$label" --header "${page_flag[@]}" | tee "$work/out.txt"
    tail -n +2 "$work/out.txt" >>"$results"
    stop_server
}

# start_server URL LOGFILE [VAR=value ...]: the server on a free port, once
# /healthz answers; sets port and server_pid.
start_server() {
    local url=$1 log=$2
    shift 2
    port=$(free_port)
    env DATABASE_URL="$url" LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_ENV=PROD LEPTOS_OUTPUT_NAME=neosc \
        NEOSC_ADMIN_EMAIL="$admin_email" NEOSC_ADMIN_PASSWORD="$admin_password" NEOSC_DEMO=0 RUST_LOG=warn "$@" \
        "$BIN" serve >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "bench: the server stopped; its log:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.2
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
}

# Abuse resistance, on a fresh SQLite database: abandoned sign-ins, then a
# register flood (each on a server of its own, so the first's throttle rows
# do not meet the second).
run_abuse() {
    local log=$work/server-abuse.log peak
    echo
    echo "=== abuse resistance (sqlite; $(nproc) hashing slots, one per core)"
    start_server "sqlite://$work/abuse.db" "$log" RUST_LOG=warn,neosc::hashing=debug
    "$DRIVER" --url "http://127.0.0.1:$port" --abandon-logins "$ABANDONED" --pid "$server_pid" \
        --login-email "$admin_email" --login-password "$admin_password" | tee -a "$work/abuse.txt"
    # The log's colours off, then the most hashes that ran at once.
    peak=$( (sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'running=[0-9]*' || true) | cut -d= -f2 | sort -n | tail -1)
    echo "abandoned logins: peak concurrent hashes ${peak:-0} (at most $(nproc)), $( (grep -c 'hash started' "$log" || true) ) hashes run" |
        tee -a "$work/abuse.txt"
    [[ -n ${KEEP_LOG:-} ]] && cp "$log" "$KEEP_LOG"
    stop_server
    start_server "sqlite://$work/abuse-flood.db" "$log.flood"
    "$DRIVER" --url "http://127.0.0.1:$port" --register-flood "$FLOOD" \
        --login-email "$admin_email" --login-password "$admin_password" | tee -a "$work/abuse.txt"
    "$DRIVER" --url "http://127.0.0.1:$port" --token none --duration 2 --requests 2000000 --label "sqlite (abuse run)" --header --healthz-only |
        tee -a "$work/abuse.txt"
    stop_server
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench: $(nproc) cores, load average $(load); each endpoint ${DURATION} s at concurrency $CONCURRENCY after 1 s of warm-up"
if [[ $ONLY != abuse && " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || { echo "bench: psql is needed to create the PostgreSQL database" >&2; exit 1; }
    if ! psql "$PG_URL" -qAt -c 'SELECT 1' >/dev/null 2>&1; then
        echo "bench: PostgreSQL at $PG_URL is unreachable (set NEOSC_TEST_POSTGRES_URL, or BACKENDS=sqlite)" >&2
        exit 1
    fi
fi
if [[ $ONLY != abuse ]]; then
    for backend in $BACKENDS; do
        for size in $SIZES; do
            run_case "$backend" "${size%/*}" "${size#*/}"
        done
    done
fi
[[ $ABUSE == 1 || $ONLY == abuse ]] && run_abuse

if [[ -s $work/abuse.txt ]]; then
    echo
    echo "=== abuse resistance"
    cat "$work/abuse.txt"
fi
echo
echo "=== results (setup = backend organizations/users; latency in ms, measured by the client over loopback)"
printf '%-24s %-34s %9s %6s %8s %8s %8s %8s\n' setup endpoint requests errors req/s "p50 ms" "p99 ms" "max ms"
cat "$results"
echo
echo "=== seeding (neosc dev seed, including migrations and the count checks)"
cat "$seeds"
echo
echo "bench: done in $((SECONDS - started)) s; load average now $(load) (other work on the machine skews the numbers)"
