#!/usr/bin/env bash
# Ingestion benchmark: generate a Last.fm-1K-shaped file (19,150,868 rows, the
# size of the real data set, by default), import it into a fresh store, then
# import it again (must be a no-op). Prints one JSON line per timed step:
# wall seconds and peak RSS. Target (issue 2): under 180 s, under 2 GiB.
#
#   bench/import_lastfm_1k.sh            # full size
#   ROWS=1000000 bench/import_lastfm_1k.sh
#   REPEAT=3 bench/import_lastfm_1k.sh   # three fresh imports, then the median
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-19150868}
dir=${BENCH_DIR:-bench/data}
cargo build --release -q -p encore-cli
bin=target/release/encore
mkdir -p "$dir"
file="$dir/lastfm-1k-$rows.tsv"
if [ ! -f "$file" ]; then
  bench/timed.py generate -- "$bin" gen lastfm-1k --rows "$rows" --out "$file"
fi
ls -l "$file" >&2
repeat=${REPEAT:-1}
: > "$dir/import-runs.jsonl"
for i in $(seq "$repeat"); do
  rm -rf "$dir/store"
  bench/timed.py import -- "$bin" --data-dir "$dir/store" import --format lastfm-1k "$file" --max-errors 3 \
    | tee -a "$dir/import-runs.jsonl"
done
python3 - "$dir/import-runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print(json.dumps({"label": "import-median", "runs": len(runs),
                  "seconds": statistics.median(r["seconds"] for r in runs),
                  "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs)}))
PY
bench/timed.py reimport -- "$bin" --data-dir "$dir/store" import --format lastfm-1k "$file" --max-errors 0
bench/timed.py stats -- "$bin" --data-dir "$dir/store" stats
