#!/usr/bin/env bash
# The one-command demo: sets up Meltano, serves the fake Marketing API on loopback, runs
# `meltano run tap-tiktok target-duckdb` into an embedded DuckDB file and prints what loaded.
# Idempotent: a second run is incremental (Meltano keeps the state between runs).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${DEMO_PORT:-8765}"
venv="${DEMO_VENV:-.venv-demo}"
python="${PYTHON:-python3}"
mkdir -p output

if [ ! -x "$venv/bin/meltano" ]; then
  echo "==> Installing Meltano into $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "meltano>=4,<5"
fi
meltano="$venv/bin/meltano"

echo "==> Installing the project's plugins (tap-tiktok from this checkout, target-duckdb)"
"$meltano" install extractor tap-tiktok
"$meltano" install loader target-duckdb

echo "==> Starting the fake TikTok Marketing API on 127.0.0.1:$port"
"$python" -m tests.fake_api --port "$port" --qps 0 > output/fake_api.log 2>&1 &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if "$python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

# The fake's own credentials (printed by `python -m tests.fake_api`); real ones go in .env.
export TAP_TIKTOK_API_BASE_URL="http://127.0.0.1:$port/open_api/v1.3"
export TAP_TIKTOK_ACCESS_TOKEN="tok-live-abc"
export TAP_TIKTOK_APP_ID="7000000000000000001"
export TAP_TIKTOK_SECRET="app-secret-xyz"

echo "==> meltano run tap-tiktok target-duckdb"
"$meltano" --environment demo run tap-tiktok target-duckdb

echo "==> What is in output/tiktok_demo.duckdb"
".meltano/loaders/target-duckdb/venv/bin/python" demo/show.py output/tiktok_demo.duckdb
