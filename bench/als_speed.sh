#!/usr/bin/env bash
# ALS speed, side by side with implicit (issue 3, benchmark 1).
#
# The same synthetic power-law matrix (50k users x 20k songs x 2M plays),
# factors 64, 15 iterations, regularization 0.01, alpha 1, 2 threads, for the
# CG and the Cholesky solver, run REPEAT times (default 3) alternating Encore
# and implicit so both see the same machine noise. Prints each run as JSON,
# then a table of medians and the ratio implicit / Encore (above 1: Encore is
# faster), and the final training losses.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPEAT:-3}
threads=${THREADS:-2}
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir"
bench/setup_venv.sh >&2
cargo build --release -q -p encore-cf --example als_bench
bin=target/release/examples/als_bench
m="$dir/als-50k-20k-2m.coo"
[ -f "$m" ] || "$bin" generate --users 50000 --items 20000 --nnz 2000000 --seed 1 --out "$m" >&2
runs="$dir/als-speed-runs.jsonl"
: > "$runs"
for i in $(seq "$repeat"); do
  for solver in cg cholesky; do
    RAYON_NUM_THREADS=$threads "$bin" train --input "$m" --solver "$solver" | tee -a "$runs"
    bench/.venv/bin/python bench/als_speed.py --input "$m" --solver "$solver" --threads "$threads" | tee -a "$runs"
  done
done
python3 - "$runs" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| solver | Encore s/iter | implicit s/iter | implicit / Encore | Encore CPU | implicit CPU | Encore loss | implicit loss | loss gap |")
print("|---|---|---|---|---|---|---|---|---|")
for solver in ["cg", "cholesky"]:
    def med(tool, key):
        return statistics.median(r[key] for r in runs if r["solver"] == solver and r["tool"].startswith(tool))
    e, i = med("encore", "median_seconds_per_iteration"), med("implicit", "median_seconds_per_iteration")
    el, il = med("encore", "final_loss"), med("implicit", "final_loss")
    print(f"| {solver} | {e:.3f} | {i:.3f} | {i / e:.2f}x | {med('encore', 'cpu_utilisation'):.2f} | "
          f"{med('implicit', 'cpu_utilisation'):.2f} | {el:.6f} | {il:.6f} | {100 * (el - il) / il:+.2f}% |")
print(f"\nmedians over {len(runs) // 4} runs each; CPU = (user + sys) / wall during training")
PY
