#!/usr/bin/env bash
# `make bench`, memory part (issue 15), once on SQLite with the release
# build:
#   1. the server's resident memory (VmRSS) when /healthz first answers
#      and after SETTLE_START (default 5) seconds idle;
#   2. password sign-ins to a real account, LOGINS (default 4) in flight for
#      LOGIN_SECONDS (default 10), each worker from its own loopback address,
#      while /api/auth/me is timed at 100/s (neosc-bench --login-load):
#      sign-ins/s against the argon2id limit measured on this machine
#      (cores / time of one hash), RSS before / peak / after SETTLE (default
#      10) seconds idle, /api/auth/me p50 / p99 idle and under that load;
#   3. on a fresh server, ABANDONED (default 200) sign-ins sent at once and
#      abandoned (neosc-bench --abandon-logins): RSS before / peak / after.
# Settings (environment): the above, BIN / DRIVER (default
# ./target/release/neosc and ./target/release/neosc-bench; the Makefile
# builds them).
set -euo pipefail
cd "$(dirname "$0")/.."

SETTLE_START=${SETTLE_START:-5}
LOGINS=${LOGINS:-4}
LOGIN_SECONDS=${LOGIN_SECONDS:-10}
SETTLE=${SETTLE:-10}
ABANDONED=${ABANDONED:-200}
BIN=${BIN:-./target/release/neosc}
DRIVER=${DRIVER:-./target/release/neosc-bench}
PG_URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}

for f in "$BIN" "$DRIVER"; do
    [[ -x $f ]] || { echo "bench-memory: $f is missing; run make bench" >&2; exit 1; }
done

BENCH_NAME=bench-memory
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
results=$work/results.txt
: >"$results"

rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# start DBFILE LOGFILE: a release server on a fresh SQLite file and a free
# port, once /healthz answers; sets port and server_pid.
start() {
    port=$(free_port)
    DATABASE_URL="sqlite://$work/$1" LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_ENV=PROD LEPTOS_OUTPUT_NAME=neosc \
        NEOSC_ADMIN_EMAIL=$admin_email NEOSC_ADMIN_PASSWORD=$admin_password NEOSC_DEMO=0 RUST_LOG=warn \
        "$BIN" serve >"$work/$2" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$server_pid" 2>/dev/null || { echo "bench-memory: the server stopped; its log:" >&2; cat "$work/$2" >&2; exit 1; }
        sleep 0.1
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "bench-memory: $(nproc) cores, load average $(load)"

echo
echo "=== idle after start (sqlite)"
start memory.db server.log
first=$(rss_mib "$server_pid")
sleep "$SETTLE_START"
echo "idle: server RSS $first MiB when /healthz first answers, $(rss_mib "$server_pid") MiB after ${SETTLE_START} s idle" | tee -a "$results"

echo
echo "=== $LOGINS password sign-ins in flight for $LOGIN_SECONDS s (same server)"
"$DRIVER" --url "http://127.0.0.1:$port" --login-load "$LOGINS" --duration "$LOGIN_SECONDS" --settle "$SETTLE" --pid "$server_pid" \
    --login-email "$admin_email" --login-password "$admin_password" | tee -a "$results"
stop_server

echo
echo "=== $ABANDONED abandoned sign-ins (fresh sqlite server)"
start abandon.db server-abandon.log
"$DRIVER" --url "http://127.0.0.1:$port" --abandon-logins "$ABANDONED" --pid "$server_pid" \
    --login-email "$admin_email" --login-password "$admin_password" | tee -a "$results"
stop_server

echo
echo "=== memory (sqlite, $BIN; load average now $(load))"
cat "$results"
