#!/usr/bin/env bash
# Makes a PostgreSQL server answer for the test suites, at the address the
# tests use (NEOSC_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432),
# when it does not already. Only does what is missing:
#   - starts the machine's cluster when one is installed but stopped;
#   - installs Debian's postgresql when there is none (as root), and lets the
#     local `postgres` user in over loopback without a password (trust, only
#     on 127.0.0.1 and ::1): the suites create and drop throwaway databases.
# A server at another address (NEOSC_TEST_POSTGRES_URL set) is left alone:
# it is someone else's to run.
set -euo pipefail

URL=${NEOSC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
HOST=127.0.0.1
PORT=5432

answers() { python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$HOST', $PORT)))" 2>/dev/null; }

if [ -n "${NEOSC_TEST_POSTGRES_URL:-}" ] || answers; then
  exit 0
fi

cluster() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

if [ -z "$(cluster)" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "postgres: nothing answers at $HOST:$PORT and PostgreSQL is not installed; install it or set NEOSC_TEST_POSTGRES_URL" >&2
    exit 1
  fi
  echo "postgres: installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(cluster)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # First match wins: trust the postgres user on loopback, nothing else changes.
  sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
fi

version=$(cluster)
echo "postgres: starting cluster $version/main"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 60); do answers && break; sleep 0.5; done
answers || { echo "postgres: the cluster $version/main did not answer at $HOST:$PORT ($URL)" >&2; exit 1; }
