#!/usr/bin/env bash
# The mixes measured against demo worlds' ground truth (`encore eval-mixes`),
# next to simple baselines, with their settings chosen on one world and
# reported on another.
#
#   bench/mixes.sh [USERS] [SONGS] [SEED]     (default 2000 1000 42, the demo's)
#
# 1. A tuning world (seed TUNE_SEED, default 7): the instant mix's
#    temperature, diversity and least distance on a small grid; the pick
#    maximises the mean share of items with the seed's genre, mood and
#    instrument among settings whose lists keep an intra-list distance of at
#    least 0.5 (of 1) — coherent, but not one sound over and over.
# 2. The held-out world (seed SEED): everything `eval-mixes` measures, with
#    the shipped defaults and with the tuned settings.
#
# ENCORE_BIN picks a build (default: a release build is made). Data
# directories are temporary; JSON goes to bench/results/mixes-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-2000}"
SONGS="${2:-1000}"
SEED="${3:-42}"
TUNE_SEED="${TUNE_SEED:-7}"
if [ -z "${ENCORE_BIN:-}" ]; then
  cargo build --release -q -p encore-cli
  ENCORE_BIN="${CARGO_TARGET_DIR:-target}/release/encore"
fi
TUNE="$(mktemp -d)"
HELD="$(mktemp -d)"
trap 'rm -rf "$TUNE" "$HELD"' EXIT
mkdir -p bench/results
world() { "$ENCORE_BIN" --data-dir "$1" demo --users "$USERS" --songs "$SONGS" --seed "$2" --no-serve --json >/dev/null; }
echo "demo worlds: $USERS users, $SONGS songs; tuning seed $TUNE_SEED, held-out seed $SEED"
world "$TUNE" "$TUNE_SEED"
world "$HELD" "$SEED"

GRID="bench/results/mixes-tune-$TUNE_SEED.jsonl"
: > "$GRID"
for t in 0.1 0.3 0.6; do
  for d in 0.2 0.5; do
    for m in 0 0.05; do
      "$ENCORE_BIN" --data-dir "$TUNE" eval-mixes --world-users "$USERS" --world-songs "$SONGS" \
        --world-seed "$TUNE_SEED" --song-mixes-only --temperature "$t" --diversity "$d" --min-distance "$m" --json \
        | python3 -c "import json,sys; r=json.load(sys.stdin); m=r['song_mixes'][0]; print(json.dumps({'temperature': $t, 'diversity': $d, 'min_distance': $m, **m}))" \
        >> "$GRID"
    done
  done
done
read -r T D M < <(python3 - "$GRID" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def coherence(r): return (r["same_genre"] + r["same_mood"] + r["same_instrument"]) / 3
ok = [r for r in rows if r["intra_list_distance"] >= 0.5] or rows
best = max(ok, key=coherence)
print("tuning grid (temperature, diversity, min_distance: coherence, ILD):", file=sys.stderr)
for r in rows:
    mark = " <- picked" if r is best else ""
    print(f"  {r['temperature']:>4} {r['diversity']:>4} {r['min_distance']:>5}: {coherence(r):.3f}, {r['intra_list_distance']:.3f}{mark}", file=sys.stderr)
print(best["temperature"], best["diversity"], best["min_distance"])
EOF
)
echo
echo "== held-out world (seed $SEED), shipped defaults"
"$ENCORE_BIN" --data-dir "$HELD" eval-mixes --world-users "$USERS" --world-songs "$SONGS" --world-seed "$SEED" \
  --out "bench/results/mixes-$SEED.json"
echo
echo "== held-out world (seed $SEED), tuned on seed $TUNE_SEED: temperature $T, diversity $D, min-distance $M"
"$ENCORE_BIN" --data-dir "$HELD" eval-mixes --world-users "$USERS" --world-songs "$SONGS" --world-seed "$SEED" \
  --temperature "$T" --diversity "$D" --min-distance "$M" --song-mixes-only --out "bench/results/mixes-$SEED-tuned.json"
