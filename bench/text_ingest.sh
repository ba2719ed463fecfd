#!/usr/bin/env bash
# Text ingestion throughput (issue 5): MB of HTML per second through
# `encore text ingest` (read, reduce to readable text, deduplicate, store).
# Generates PAGES unique HTML pages (default 20,000, about 96 MB) of
# review-like prose wrapped in the usual boilerplate, then ingests them into a
# fresh store REPEAT times (default 3) and prints the median.
#   OLD=/path/to/old/encore  runs another build too, alternating with this
#                            one, and prints both medians and the speed-up
#   STORE_DIR=/dev/shm/x     where the stores go (default: beside the pages),
#                            to separate the disk from the reading
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${PAGES:-20000}
repeat=${REPEAT:-3}
dir=${BENCH_DIR:-bench/data}/html-$pages
cargo build --release -q -p encore-cli
new="${CARGO_TARGET_DIR:-target}/release/encore"
if [ ! -d "$dir" ]; then
  mkdir -p "$dir"
  python3 - "$dir" "$pages" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
words = ("dreamy hazy nocturnal wistful sunny brash loud noisy groovy soulful hypnotic pounding acoustic gentle "
         "record album band guitar synth drums bass vocals chorus verse melody rhythm tempo production mix live tour "
         "the a and of to in with for on at from by is are was were this that these those it its their").split()
for i in range(n):
    paras = "".join("<p>" + " ".join(rng.choice(words) for _ in range(rng.randint(40, 90))).capitalize() + ".</p>\n"
                    for _ in range(rng.randint(8, 16)))
    html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review {i}</title>"
            f"<script>var analytics = {{page: {i}, tags: ['a', 'b']}}; function f(x) {{ return x * {i}; }}</script>"
            "<style>body { font-family: serif; } .nav a { color: #333; }</style></head><body>"
            "<nav class='nav'><a href='/'>Home</a> <a href='/reviews'>Reviews</a> <a href='/news'>News</a></nav>"
            f"<article><h1>Review number {i}</h1><time>2024-01-01</time>\n{paras}</article>"
            "<aside>Related: more reviews, more news</aside><footer>(c) Demo Weekly</footer></body></html>\n")
    with open(os.path.join(d, f"{i:06}.html"), "w") as f:
        f.write(html)
PY
fi
mb=$(du -sm --apparent-size "$dir" | cut -f1)
store=${STORE_DIR:-$dir.store}
builds=()
[ -n "${OLD:-}" ] && builds+=("old=$OLD")
builds+=("new=$new")
: > "$dir.runs"
for i in $(seq "$repeat"); do
  for b in "${builds[@]}"; do
    rm -rf "$store"
    bench/timed.py "${b%%=*}" -- "${b#*=}" --data-dir "$store" text ingest "$dir" | tee -a "$dir.runs"
  done
done
rm -rf "$store"
python3 - "$dir.runs" "$mb" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
mb = float(sys.argv[2])
medians = {}
for label in dict.fromkeys(r["label"] for r in runs):
    mine = [r for r in runs if r["label"] == label]
    s = statistics.median(r["seconds"] for r in mine)
    medians[label] = s
    print(json.dumps({"label": f"text-ingest-median-{label}", "runs": len(mine), "mb_html": mb, "seconds": s,
                      "mb_per_second": round(mb / s, 1),
                      "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in mine)}))
if "old" in medians:
    print(json.dumps({"label": "speed-up-new-over-old", "ratio": round(medians["old"] / medians["new"], 2)}))
PY
