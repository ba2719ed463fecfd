#!/usr/bin/env bash
# Load test of `encore serve` on loopback: recommendations for random users
# of a generated catalog (Last.fm-1K-shaped logs: USERS users, ROWS listens),
# with wrk (Debian's `wrk`, installed here if missing). Reports throughput,
# latency percentiles, errors and the server's memory before and after.
#   bench/load.sh [USERS] [ROWS] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-50000}; ROWS=${2:-2500000}; SECS=${3:-60}; CONNS=${4:-32}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release -p encore-cli
BIN=target/release/encore
DATA=bench/data/load-$USERS-$ROWS
if [ ! -f "$DATA/.trained" ]; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  $BIN gen lastfm-1k --rows "$ROWS" --users "$USERS" --out "$DATA/listens.tsv"
  $BIN --data-dir "$DATA" import --format lastfm-1k "$DATA/listens.tsv" >/dev/null
  $BIN --data-dir "$DATA" train cf --factors 64 >/dev/null
  touch "$DATA/.trained"
fi
$BIN --data-dir "$DATA" stats --json | bench/.venv/bin/python -c 'import json,sys; s=json.load(sys.stdin); print({k: s[k] for k in ("users","songs","listens") if k in s})' 2>/dev/null || true
$BIN --data-dir "$DATA" serve --bind 127.0.0.1:18080 --api-key bench > "$DATA/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf 127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
cat > "$DATA/random-user.lua" <<LUA
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/users/" .. math.random(1, $USERS) .. "/recommendations?n=20")
end
LUA
rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$PID/status; }
echo "server RSS before: $(rss)"
wrk -t2 -c"$CONNS" -d10s -s "$DATA/random-user.lua" http://127.0.0.1:18080 >/dev/null   # warm-up
echo "server RSS after warm-up: $(rss)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$DATA/random-user.lua" http://127.0.0.1:18080
echo "server RSS after ${SECS}s: $(rss)"
curl -s 127.0.0.1:18080/metrics | grep -E 'recommendations",status="[0-9]+"'
