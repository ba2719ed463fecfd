#!/usr/bin/env bash
# The mixes measured on a fresh demo world against its ground truth
# (`encore eval-mixes`), next to simple baselines.
#
#   bench/mixes.sh [USERS] [SONGS] [SEED]     (default 2000 1000 42, the demo's)
#
# ENCORE_BIN picks a build (default: a release build is made). The data
# directory is a temporary one; the table goes to stdout and the JSON to
# bench/results/mixes-<seed>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-2000}"
SONGS="${2:-1000}"
SEED="${3:-42}"
if [ -z "${ENCORE_BIN:-}" ]; then
  cargo build --release -q -p encore-cli
  ENCORE_BIN="${CARGO_TARGET_DIR:-target}/release/encore"
fi
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
echo "demo world: $USERS users, $SONGS songs, seed $SEED → $DATA"
"$ENCORE_BIN" --data-dir "$DATA" demo --users "$USERS" --songs "$SONGS" --seed "$SEED" --no-serve --json >/dev/null
mkdir -p bench/results
"$ENCORE_BIN" --data-dir "$DATA" eval-mixes --world-users "$USERS" --world-songs "$SONGS" --world-seed "$SEED" \
  --out "bench/results/mixes-$SEED.json"
