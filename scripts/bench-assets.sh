#!/usr/bin/env bash
# `make bench`, first-load part (issue 15): what the first visit costs and
# how the server-rendered console page holds up.
#
#  1. the hydrate bundle (target/site/pkg/neosc.*.wasm): raw bytes, gzip -9,
#     brotli (quality 11, as scripts/precompress.mjs writes it);
#  2. a first visit to /login in Chromium (empty cache): bytes received over
#     all responses (end2end/first-visit.mjs sums CDP encodedDataLength);
#  3. the /organizations page (demo data, signed in as the platform admin)
#     against /healthz from the same server in the same run: wrk with
#     CONNECTIONS (default 64) connections for DURATION (default 10) seconds
#     each; req/s, p99 and their ratio.
#
# Expects the release site from `make build` (target/site, target/release/
# neosc, target/release/hash.txt). Settings: DURATION, CONNECTIONS, THREADS
# (wrk threads, default 2), VISIT=0 to leave out the browser, BIN, SITE_ROOT.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
VISIT=${VISIT:-1}
BIN=${BIN:-./target/release/neosc}
SITE_ROOT=${SITE_ROOT:-target/site}
PG_URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}

[[ -x $BIN ]] || { echo "bench-assets: $BIN is missing; run make build" >&2; exit 1; }
wasm=$(find "$SITE_ROOT/pkg" -maxdepth 1 -name 'neosc*.wasm' | head -n 1)
[[ -n $wasm ]] || { echo "bench-assets: no bundle under $SITE_ROOT/pkg; run make build" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

BENCH_NAME=bench-assets
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# 1. The bundle, and the stylesheet and glue that come with it.
size() { wc -c <"$1" | tr -d ' '; }
brotli_size() {
    node -e 'const z=require("zlib"),fs=require("fs");const b=fs.readFileSync(process.argv[1]);
      console.log(z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_LGWIN]:24,[z.constants.BROTLI_PARAM_SIZE_HINT]:b.length}}).length)' "$1"
}
echo "=== bundle ($SITE_ROOT/pkg)"
printf '%-44s %10s %10s %10s\n' file raw gzip-9 brotli-11
total_raw=0 total_br=0
for f in "$SITE_ROOT"/pkg/*.wasm "$SITE_ROOT"/pkg/*.js "$SITE_ROOT"/pkg/*.css; do
    [[ -f $f ]] || continue
    raw=$(size "$f")
    gz=$(gzip -9 -c "$f" | wc -c | tr -d ' ')
    br=$(brotli_size "$f")
    total_raw=$((total_raw + raw)) total_br=$((total_br + br))
    printf '%-44s %10d %10d %10d\n' "$(basename "$f")" "$raw" "$gz" "$br"
    [[ $f == "$wasm" ]] && { bundle_raw=$raw bundle_gz=$gz bundle_br=$br; }
done
printf '%-44s %10d %10s %10d\n' "wasm + js + css" "$total_raw" "" "$total_br"

# A server with the demo data on a fresh SQLite file.
port=$(free_port)
DATABASE_URL="sqlite://$work/assets.db" LEPTOS_SITE_ADDR=127.0.0.1:$port LEPTOS_SITE_ROOT=$SITE_ROOT LEPTOS_ENV=PROD \
    LEPTOS_OUTPUT_NAME=neosc NEOSC_ADMIN_EMAIL=$admin_email NEOSC_ADMIN_PASSWORD=$admin_password NEOSC_DEMO=1 \
    NEOSC_WORKSPACE_ENGINE=none RUST_LOG=warn "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "bench-assets: the server stopped; its log:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
done
base=http://127.0.0.1:$port

# 2. The first visit, as Chromium receives it.
visit_bytes="not measured (VISIT=0)"
if [[ $VISIT == 1 ]]; then
    echo
    echo "=== first visit to /login in Chromium (empty cache; bytes received per response)"
    (cd end2end && node first-visit.mjs "$base/login") | tee "$work/visit.txt"
    visit_bytes=$(awk '$1 == "total" { print $2 }' "$work/visit.txt")
fi

# 3. The console page next to /healthz.
token=$(curl -fsS -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/organizations" ||
    { echo "bench-assets: /organizations does not answer 200 when signed in" >&2; exit 1; }
# wrk's summary: Requests/sec and the 99% latency of --latency, in ms.
measure() {
    local path=$1 out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "$base$path")
    echo "$out" | grep -q 'Non-2xx' && { echo "bench-assets: $path answered other than 2xx:" >&2; echo "$out" >&2; exit 1; }
    echo "$out" | awk -v path="$path" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = ms($2) }
        END { printf "%s %.0f %.2f\n", path, rps, p99 }'
}
echo
echo "=== /organizations page vs /healthz (wrk, $CONNECTIONS connections, ${DURATION} s each, demo data, platform admin)"
health=$(measure /healthz)
page=$(measure /organizations)
stop_server

echo
echo "=== first load (issue 15)"
awk -v raw="$bundle_raw" -v gz="$bundle_gz" -v br="$bundle_br" -v visit="$visit_bytes" -v health="$health" -v page="$page" 'BEGIN {
    split(health, h, " "); split(page, p, " ")
    printf "%-44s %s\n", "bundle " "raw / gzip -9 / brotli (bytes)", raw " / " gz " / " br
    printf "%-44s %s\n", "first visit to /login, bytes received", visit
    printf "%-44s %.0f req/s, p99 %.2f ms\n", "/healthz", h[2], h[3]
    printf "%-44s %.0f req/s, p99 %.2f ms\n", "/organizations page", p[2], p[3]
    printf "%-44s %.3f (goal >= 0.1)\n", "page / healthz req/s", p[2] / h[2]
}'
