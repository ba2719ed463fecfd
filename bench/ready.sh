#!/usr/bin/env bash
# Serve-ready time, throughput and answers of two `encore` binaries side by
# side on one data directory (e.g. the load world `bench/load.sh` builds):
# each binary is started RUNS times in turn and timed from start to the first
# 200 from /readyz (polled every 10 ms), with its RSS at that moment; then
# `wrk -t2 -c8` (5 s warm-up, 20 s measured) twice each, alternated; then the
# top-20 lists with scores of 100 fixed users from each, compared byte for
# byte. These are the commands behind bench/results/2026-12-03-load-ready.md.
#   bench/ready.sh OLD_BIN NEW_BIN [DATA] [RUNS] [USERS]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1; NEW=$2; DATA=${3:-bench/data/load-50000-2500000-2100}; RUNS=${4:-7}; USERS=${5:-50000}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cat > "$DATA/random-user.lua" <<LUA
math.randomseed(7)
request = function()
  return wrk.format("GET", "/v1/users/" .. math.random(1, $USERS) .. "/recommendations?n=20")
end
LUA
start() { "$1" --data-dir "$DATA" serve --bind 127.0.0.1:18080 --api-key bench > "$DATA/ready-serve.log" 2>&1 & PID=$!
  for _ in $(seq 3000); do curl -sf 127.0.0.1:18080/readyz >/dev/null && return; sleep 0.01; done; }
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
ready() { local t0 t1; t0=$(date +%s%N); start "$1"; t1=$(date +%s%N); echo "$(( (t1 - t0) / 1000000 )) ms, RSS $(rss) MiB"; stop; }
echo "== ready (ms to the first /readyz 200), $RUNS runs each, alternated"
for i in $(seq "$RUNS"); do echo "old $(ready "$OLD")  new $(ready "$NEW")"; done
load() { start "$1"; wrk -t2 -c8 -d5s -s "$DATA/random-user.lua" http://127.0.0.1:18080 >/dev/null
  wrk -t2 -c8 -d20s --latency -s "$DATA/random-user.lua" http://127.0.0.1:18080 > "$DATA/ready-wrk.log"
  echo "$(awk '/Requests\/sec/ {print $2}' "$DATA/ready-wrk.log") req/s p50 $(awk '$1=="50%" {print $2}' "$DATA/ready-wrk.log") p99 $(awk '$1=="99%" {print $2}' "$DATA/ready-wrk.log") RSS $(rss) MiB"; stop; }
echo "== wrk -t2 -c8, 5 s warm-up + 20 s, alternated"
for i in 1 2; do echo "old: $(load "$OLD")"; echo "new: $(load "$NEW")"; done
lists() { start "$1"; for u in $(seq 1 $((USERS / 100)) "$USERS" | head -100); do
    curl -s "127.0.0.1:18080/v1/users/$u/recommendations?n=20" \
      | python3 -c 'import json,sys; print(json.dumps([(i["song_id"], round(i["score"], 6)) for i in json.load(sys.stdin)["items"]]))'
  done > "$2"; stop; }
lists "$OLD" "$DATA/ready-lists-old.txt"; lists "$NEW" "$DATA/ready-lists-new.txt"
if cmp -s "$DATA/ready-lists-old.txt" "$DATA/ready-lists-new.txt"; then echo "lists of 100 users: identical"; else echo "lists of 100 users: DIFFER"; fi
