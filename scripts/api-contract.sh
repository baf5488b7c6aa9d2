#!/usr/bin/env bash
# `make api-contract`: the OpenAPI document is the contract.
#
#  1. `redocly lint` (Redocly CLI from node_modules, recommended rules,
#     scripts/redocly.yaml) on the document the server serves: 0 errors;
#  2. Schemathesis (`--checks all`, from the virtualenv the Makefile makes)
#     against a fresh server on a temporary SQLite file, signed in as the
#     platform admin: 0 failures.
#
# Starts ./target/debug/neosc (the Makefile builds it: `cargo build
# --features ssr --bin neosc`; it serves the API without the site) on a free
# loopback port and stops it at the end. Settings (environment):
# MAX_EXAMPLES (test cases per operation and phase, default 50), PHASES
# (default examples,coverage,fuzzing,stateful), SEED (default the config's,
# 1), CONTRACT_DATABASE_URL (default a temporary SQLite file; an empty
# PostgreSQL database works too), VENV (default .venv), KEEP=1 keeps the temporary directory (server
# log, reports).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-./target/debug/neosc}
VENV=${VENV:-.venv}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
PHASES=${PHASES:-examples,coverage,fuzzing,stateful}
[[ -x $BIN ]] || { echo "api-contract: $BIN is missing; run make api-contract" >&2; exit 1; }
[[ -x $VENV/bin/schemathesis ]] || { echo "api-contract: $VENV/bin/schemathesis is missing; run make api-contract" >&2; exit 1; }

# The vendored Redoc bundle /api/docs serves is the pinned npm package's.
cmp -s node_modules/redoc/bundles/redoc.standalone.js src/server/rest/redoc/redoc.standalone.js || {
    echo "api-contract: src/server/rest/redoc/redoc.standalone.js differs from node_modules/redoc (copy it after updating redoc)" >&2
    exit 1
}

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then echo "api-contract: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_email=contract-admin@neosc.test
admin_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')

DATABASE_URL="${CONTRACT_DATABASE_URL:-sqlite://$work/contract.db}" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    NEOSC_ADMIN_EMAIL=$admin_email NEOSC_ADMIN_PASSWORD=$admin_password RUST_LOG=${RUST_LOG:-warn} \
    NEOSC_WORKSPACE_ENGINE=none NEOSC_ALLOW_RESERVED_DOMAINS=1 \
    "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "api-contract: the server did not start" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null

# POST a JSON body (optionally with a bearer token), print one field of
# the answer (a dotted path for a nested one: a.b).
post() { # path json field [token]
    local auth=()
    [[ -n ${4:-} ]] && auth=(-H "Authorization: Bearer $4")
    curl -fsS -X POST "$base$1" -H 'Content-Type: application/json' "${auth[@]}" -d "$2" |
        python3 -c "import functools, json, sys; print(functools.reduce(lambda v, k: v[k], sys.argv[1].split('.'), json.load(sys.stdin)))" "$3"
}

# The platform admin: a session, and from it a personal API token, which
# is what the run uses.
session=$(post /api/auth/login "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" token)
export NEOSC_CONTRACT_TOKEN
NEOSC_CONTRACT_TOKEN=$(post /api/account/tokens '{"name":"api-contract"}' token "$session")

# Two more sessions of the admin, for the operations that end the session
# they are called with, and the owner of a separate organization for the
# API token operations (scripts/schemathesis.toml says why).
export NEOSC_CONTRACT_SESSION_1 NEOSC_CONTRACT_SESSION_2 NEOSC_CONTRACT_SANDBOX
NEOSC_CONTRACT_SESSION_1=$(post /api/auth/login "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" token)
NEOSC_CONTRACT_SESSION_2=$(post /api/auth/login "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" token)
# Registration waits for a mailed link (no mail server here), so the
# platform admin makes the sandbox organization and invites its owner; the
# link in the invitation's answer makes the account, signed in.
sandbox_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
sandbox_org=$(post /api/organizations '{"name":"Contract Sandbox","domain":"sandbox.contract.test"}' id "$NEOSC_CONTRACT_TOKEN")
sandbox_link=$(post "/api/organizations/$sandbox_org/invitations" '{"email":"owner@sandbox.contract.test","role":"org_admin"}' link "$NEOSC_CONTRACT_TOKEN")
NEOSC_CONTRACT_SANDBOX=$(post "/api/invitations/${sandbox_link##*/}/accept" "{\"name\":\"Sandbox Owner\",\"password\":\"$sandbox_password\"}" token)

status=0
curl -fsS "$base/api/openapi.json" >"$work/openapi.json"
echo "api-contract: redocly lint"
node_modules/.bin/redocly lint --config scripts/redocly.yaml "$work/openapi.json" || status=1

echo "api-contract: schemathesis against $base (max $MAX_EXAMPLES examples per operation, phases $PHASES)"
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/openapi.json" \
    --checks all --phases "$PHASES" --max-examples "$MAX_EXAMPLES" --workers 1 --max-redirects 0 --generation-database none \
    ${SEED:+--seed "$SEED"} --report junit --report-dir "$work/reports" --no-color || status=1

if [[ $status != 0 ]]; then
    echo "api-contract: FAILED (server log: last lines below; KEEP=1 keeps $work)" >&2
    tail -n 30 "$work/server.log" >&2
fi
exit $status
