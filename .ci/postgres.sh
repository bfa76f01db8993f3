#!/usr/bin/env bash
# Debian's PostgreSQL for the vetting tests: install if missing, start the cluster, make role + database.
# Prints the SQLAlchemy URL the tests read from ASTROML_TEST_PG_URL.
set -euo pipefail
SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
read -r VER NAME PORT STATUS _ < <(pg_lsclusters -h | head -1)
if [ "$STATUS" != "online" ]; then
  $SUDO pg_ctlcluster "$VER" "$NAME" start >&2
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
for _ in $(seq 30); do as_pg pg_isready -q -p "$PORT" && break; sleep 1; done
as_pg psql -q -p "$PORT" -tc "SELECT 1 FROM pg_roles WHERE rolname='astroml'" | grep -q 1 \
  || as_pg psql -q -p "$PORT" -c "CREATE ROLE astroml LOGIN PASSWORD 'astroml' CREATEDB" >&2
# DROP DATABASE ... WITH (FORCE) in the tests must end an autovacuum worker on that database, which
# PostgreSQL allows only to members of pg_signal_backend.
as_pg psql -q -p "$PORT" -c "GRANT pg_signal_backend TO astroml" >&2
as_pg psql -q -p "$PORT" -tc "SELECT 1 FROM pg_database WHERE datname='astroml_test'" | grep -q 1 \
  || as_pg createdb -p "$PORT" -O astroml astroml_test >&2
echo "postgresql+psycopg://astroml:astroml@127.0.0.1:$PORT/astroml_test"
