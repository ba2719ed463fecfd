#!/usr/bin/env bash
# ALS at scale (issue 3, benchmark 3): 1M users x 200k songs x 50M plays,
# power-law, generated; CG ALS, 64 factors, 15 iterations, all cores. Prints
# the generator's and the trainer's wall time and peak memory (bench/timed.py)
# and the trainer's per-iteration JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir"
cargo build --release -q -p encore-cf --example als_bench
bin=target/release/examples/als_bench
m="$dir/als-1m-200k-50m.coo"
if [ ! -f "$m" ]; then
  bench/timed.py generate -- "$bin" generate --users 1000000 --items 200000 --nnz 50000000 --seed 1 --out "$m"
fi
bench/timed.py train -- "$bin" train --input "$m" --solver cg --factors 64 --iterations 15
