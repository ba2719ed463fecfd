#!/usr/bin/env bash
# Instant mixes on MovieLens-100K (real data nobody on the project made;
# genres as truth): the mix tuned on half the seeds and reported on the other
# half, beside CF nearest neighbours and random movies. The data set comes
# from RecBole's wheel on PyPI into the ignored bench/data, never committed.
#
#   bench/mixes_ml100k.sh            (ENCORE_BIN picks a build; else release)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir/recbole"
wheel=$(ls "$dir"/recbole/recbole-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  python3 -m pip download -q --no-deps recbole -d "$dir/recbole" >&2
  wheel=$(ls "$dir"/recbole/recbole-*.whl | head -1)
fi
if [ -z "${ENCORE_BIN:-}" ]; then
  cargo build --release -q -p encore-cli
  ENCORE_BIN="${CARGO_TARGET_DIR:-target}/release/encore"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/mixes_ml100k.py "$wheel" "$ENCORE_BIN" "$work"
mkdir -p bench/results
cp "$work/mixes-ml100k.json" bench/results/mixes-ml100k.json
