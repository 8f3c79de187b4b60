#!/usr/bin/env bash
# Serve a fresh demo database on a spare port and walk it with scripts/moneybird_smoke.py, as
# a client would. Used by `make smoke` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${SMOKE_PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WORK=$(mktemp -d)
export DATABASE_URL="sqlite:///$WORK/smoke.sqlite3" DEBUG=false
# With DEBUG off the server refuses to start without a key of its own.
SECRET_KEY=${SECRET_KEY:-$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')}
export SECRET_KEY

$PY manage.py migrate --noinput -v0
SEED=$($PY manage.py seed_demo --port "$PORT")
TOKEN=$(sed -n 's/^API token ([^)]*): //p' <<<"$SEED")
ADMINISTRATION=$(sed -n 's/^Administration id: //p' <<<"$SEED")

$PY manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v2/administrations" && break
  sleep 0.2
done

if ! $PY scripts/moneybird_smoke.py "http://127.0.0.1:$PORT" "$TOKEN" "$ADMINISTRATION"; then
  echo "--- server log ---" >&2
  tail -n 50 "$WORK/server.log" >&2
  exit 1
fi
