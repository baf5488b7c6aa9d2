# Sourced by scripts/bench.sh and scripts/bench-workspaces.sh: the scratch
# directory, the server they start and the PostgreSQL databases they make,
# all cleaned up on exit. Expects PG_URL and BENCH_NAME (for messages).

work=$(mktemp -d)
server_pid=
pg_dbs=()
started=$SECONDS

stop_server() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}

cleanup() {
    stop_server
    for db in "${pg_dbs[@]}"; do
        psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
            echo "$BENCH_NAME: could not drop database $db" >&2
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The URL of database $1 on the server PG_URL names.
pg_url_for() {
    python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_URL" "$1"
}

admin_email=bench-admin@neogenesys.com
admin_password=$(python3 -c 'import secrets; print("bench-" + secrets.token_urlsafe(18))')
