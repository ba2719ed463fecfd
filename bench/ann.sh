#!/usr/bin/env bash
# Vector index: Encore (usearch) against Spotify's voyager, side by side on
# the same 200k × 64 clustered vectors and the same 10k held-out queries
# (inner product, M = 16, ef_construction = 128). Build with every core;
# search on one thread; recall@10 against brute force.
#   bench/ann.sh [N] [QUERIES] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}; Q=${2:-10000}; DIM=${3:-64}
bench/setup_venv.sh >/dev/null
DIR=bench/data/ann-$N-$DIM
cargo build -q --release -p encore-index --example ann_bench
target/release/examples/ann_bench "$DIR" "$N" "$Q" "$DIM" | tee "$DIR.encore.jsonl"
bench/.venv/bin/python bench/ann_voyager.py "$DIR" "$DIM" | tee "$DIR.voyager.jsonl"
bench/.venv/bin/python - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for f in (d + ".encore.jsonl", d + ".voyager.jsonl") for l in open(f)]
build = {r["tool"]: r for r in rows if r.get("event") == "build"}
search = [r for r in rows if r.get("event") == "search"]
print("\n| tool | build s | open s | ef | recall@10 | queries/s per core |")
print("|---|---|---|---|---|---|")
for r in search:
    b = build[r["tool"]]
    print(f"| {r['tool']} | {b['build_seconds']:.1f} | {b['open_seconds']:.3f} | {r['ef']} | {r['recall_at_10']:.4f} | {r['qps_per_core']:.0f} |")
best = {}
for r in search:
    if r["recall_at_10"] >= 0.95 and r["qps_per_core"] > best.get(r["tool"], {}).get("qps_per_core", 0):
        best[r["tool"]] = r
if "usearch" in best and "voyager" in best:
    u, v = best["usearch"], best["voyager"]
    print(f"\nat recall@10 >= 0.95: usearch {u['qps_per_core']:.0f} q/s (ef {u['ef']}), voyager {v['qps_per_core']:.0f} q/s (ef {v['ef']}): ratio {u['qps_per_core'] / v['qps_per_core']:.2f}x")
    print(f"build: voyager / usearch = {build['voyager']['build_seconds'] / build['usearch']['build_seconds']:.2f}x; open: voyager / usearch = {build['voyager']['open_seconds'] / build['usearch']['open_seconds']:.2f}x")
PY
