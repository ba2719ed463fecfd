#!/usr/bin/env bash
# Load test of `encore serve` on loopback: recommendations for random users
# of a generated catalog (Last.fm-1K-shaped logs: USERS users, ROWS listens,
# ARTISTS artists; 2,100 artists give ~100k songs), with wrk (Debian's
# `wrk`, installed here if missing).
#
# Each mode in MODES is served in turn on the same data, side by side:
#   index-built — candidate retrieval (HNSW indexes, per-genre/artist lists,
#           catalog moments; the default) with the saved graphs removed
#           first, so the load builds them (what every load did before
#           the graphs were kept in DATA/cache/hnsw)
#   index — the same, opening the graphs the previous load saved
#           (memory-mapped) instead of building them
#   scan  — score every catalog song per request (the exact reference)
# For each: throughput, latency percentiles, non-2xx responses, and the
# server's resident memory sampled every 30 s over the run.
#   bench/load.sh [USERS] [ROWS] [SECONDS] [CONNECTIONS] [ARTISTS] [MODES]
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-50000}; ROWS=${2:-2500000}; SECS=${3:-60}; CONNS=${4:-8}; ARTISTS=${5:-2100}; MODES=${6:-"index-built index scan"}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release -p encore-cli
BIN="${CARGO_TARGET_DIR:-target}/release/encore"
DATA=bench/data/load-$USERS-$ROWS-$ARTISTS
if [ ! -f "$DATA/.trained" ]; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  $BIN gen lastfm-1k --rows "$ROWS" --users "$USERS" --artists "$ARTISTS" --out "$DATA/listens.tsv"
  $BIN --data-dir "$DATA" import --format lastfm-1k "$DATA/listens.tsv" >/dev/null
  rm "$DATA/listens.tsv"
  $BIN --data-dir "$DATA" train cf --factors 64 >/dev/null
  touch "$DATA/.trained"
fi
$BIN --data-dir "$DATA" stats --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print({k: s[k] for k in ("users","songs","listens") if k in s})' || true
cat > "$DATA/random-user.lua" <<LUA
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/users/" .. math.random(1, $USERS) .. "/recommendations?n=20")
end
LUA
for MODE in $MODES; do
  echo "=== candidates: $MODE"
  [ "$MODE" = index-built ] && rm -rf "$DATA/cache/hnsw"
  T0=$(date +%s.%N)
  $BIN --data-dir "$DATA" serve --bind 127.0.0.1:18080 --api-key bench --candidates "${MODE%-built}" > "$DATA/serve-$MODE.log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do curl -sf 127.0.0.1:18080/readyz >/dev/null && break; sleep 0.1; done
  echo "ready after $(python3 -c "import time; print(round(time.time() - $T0, 1))") s"
  rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$PID/status; }
  echo "server RSS before: $(rss) MiB"
  wrk -t2 -c"$CONNS" -d10s -s "$DATA/random-user.lua" http://127.0.0.1:18080 >/dev/null   # warm-up
  echo "server RSS after 10 s warm-up: $(rss) MiB"
  ( for t in $(seq 30 30 "$SECS"); do sleep 30; echo "  RSS at ${t} s: $(rss) MiB"; done ) &
  SAMPLER=$!
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$DATA/random-user.lua" http://127.0.0.1:18080
  wait $SAMPLER 2>/dev/null || true
  echo "server RSS after ${SECS} s: $(rss) MiB"
  curl -s 127.0.0.1:18080/metrics | grep -E 'recommendations",status="[0-9]+"' || true
  # The lists of 100 fixed users, to compare the modes' answers.
  for u in $(seq 1 $((USERS / 100)) "$USERS" | head -100); do
    curl -s "127.0.0.1:18080/v1/users/$u/recommendations?n=20" | python3 -c 'import json,sys; print(json.dumps([i["song_id"] for i in json.load(sys.stdin)["items"]]))'
  done > "$DATA/lists-$MODE.jsonl"
  kill $PID; wait $PID 2>/dev/null || true
done
# Every mode's lists against the next one's (index-built vs index: the
# saved graph must answer as the built one did; index vs scan: what the
# approximation costs).
set -- $MODES
while [ $# -ge 2 ]; do
  python3 - "$DATA/lists-$1.jsonl" "$DATA/lists-$2.jsonl" "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
ov = sorted(len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b))
same = sum(x == y for x, y in zip(a, b))
print(f"{sys.argv[3]} vs {sys.argv[4]}: top-20 overlap over {len(ov)} users: median {ov[len(ov)//2]:.2f}, "
      f"min {ov[0]:.2f}, mean {sum(ov)/len(ov):.3f}; identical lists {same}/{len(ov)}")
PY
  shift
done
