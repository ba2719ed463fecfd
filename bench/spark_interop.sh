#!/usr/bin/env bash
# Spark interop (issue 3, benchmark 4): a small PySpark ALS job (local mode,
# 127.0.0.1) trains on the interactions Encore exports; Encore imports the
# saved model's Parquet factors and must give the same top-10 as Spark's
# recommendForAllUsers for a sample of 50 users.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-bench/data}/spark
rm -rf "$dir" && mkdir -p "$dir"
bench/setup_venv.sh >&2
bench/.venv/bin/python -m pip install -q "pyspark==3.5.*" >&2
cargo build --release -q -p encore-cli
bin=target/release/encore
$bin --data-dir "$dir/store" demo --users 400 --songs 200 --clip-seconds 1 --no-serve --json > /dev/null
$bin --data-dir "$dir/store" export interactions --out "$dir/interactions.csv" >&2
bench/.venv/bin/python bench/spark_interop.py "$dir/interactions.csv" "$dir/spark-model" "$dir/spark-top10.json"
$bin --data-dir "$dir/store" factors import --from "$dir/spark-model" >&2
python3 - "$dir" "$bin" <<'PY'
import json, subprocess, sys
d, bin = sys.argv[1], sys.argv[2]
spark = json.load(open(f"{d}/spark-top10.json"))
same_list = same_set = 0
overlap = 0
for user, items in spark.items():
    out = subprocess.run([bin, "--data-dir", f"{d}/store", "recommend", "--user-id", user, "--as-trained", "-n", "10", "--json"],
                         check=True, capture_output=True, text=True).stdout
    mine = [r["song"]["id"] for r in json.loads(out)["recommendations"]]
    same_list += mine == items
    same_set += set(mine) == set(items)
    overlap += len(set(mine) & set(items))
n = len(spark)
print(json.dumps({"users": n, "identical_top10_lists": same_list, "identical_top10_sets": same_set,
                  "mean_overlap_at_10": overlap / n}))
PY
