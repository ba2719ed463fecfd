#!/usr/bin/env bash
# Ranking quality on MovieLens-100K, side by side with implicit (issue 3,
# benchmark 2). The data set ships inside RecBole's wheel on PyPI; it is
# downloaded into the ignored bench/data and never committed. Ratings >= 4 are
# plays; one seeded 80/20 random split; k = 10; implicit's metric definitions
# for both tools (implicit.evaluation.ranking_metrics_at_k).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir/recbole"
bench/setup_venv.sh >&2
py=bench/.venv/bin/python
wheel=$(ls "$dir"/recbole/recbole-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  $py -m pip download -q --no-deps recbole -d "$dir/recbole" >&2
  wheel=$(ls "$dir"/recbole/recbole-*.whl | head -1)
fi
$py bench/quality_ml100k.py --prepare "$wheel" "$dir" >&2
cargo build --release -q -p encore-cf --example quality_bench
runs="$dir/quality-runs.jsonl"
: > "$runs"
for model in als als-tuned bpr lmf knn-cosine knn-tfidf knn-bm25; do
  target/release/examples/quality_bench --train "$dir/ml100k-train.csv" --test "$dir/ml100k-test.csv" --model "$model" | tee -a "$runs"
done
for model in als als-default bpr lmf knn-cosine knn-tfidf knn-bm25; do
  $py bench/quality_ml100k.py --model "$model" --data "$dir" | tee -a "$runs"
done
python3 - "$runs" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
enc = {r["model"]: r for r in runs if r["tool"] == "encore"}
imp = {r["model"]: r for r in runs if r["tool"] != "encore"}
print()
print("| model | Encore nDCG@10 | implicit nDCG@10 | Encore / implicit | Encore P@10* | implicit P@10* | Encore MAP | implicit MAP | Encore AUC@10 | implicit AUC@10 |")
print("|---|---|---|---|---|---|---|---|---|---|")
rows = [("als", "als"), ("als-tuned", "als-default"), ("bpr", "bpr"), ("lmf", "lmf"),
        ("knn-cosine", "knn-cosine"), ("knn-tfidf", "knn-tfidf"), ("knn-bm25", "knn-bm25")]
for e, i in rows:
    E, I = enc.get(e), imp.get(i)
    f = lambda r, k: f"{r[k]:.4f}" if r else "—"
    ratio = f"{E['ndcg'] / I['ndcg']:.3f}" if E and I else "—"
    print(f"| {e or 'not in Encore'} vs {i} | {f(E, 'ndcg')} | {f(I, 'ndcg')} | {ratio} | {f(E, 'precision')} | {f(I, 'precision')} | "
          f"{f(E, 'map')} | {f(I, 'map')} | {f(E, 'auc')} | {f(I, 'auc')} |")
print("\n* implicit's precision: hits / min(10, test items). als-tuned picked", enc.get("als-tuned", {}).get("chosen"))
PY
