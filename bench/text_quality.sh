#!/usr/bin/env bash
# The text model's quality, as a new user meets it: the README's commands
# with their defaults on the hand-written realistic corpus
# (fixtures/text/realistic: reviews, interviews, forum threads, a listicle, a
# setlist page, a press release), scored against its expected terms per half
# (`tune`: the parameters were chosen on it; `heldout`: only reported), and,
# given a demo data directory (`encore demo --no-train --no-serve` makes one),
# on the demo world against its ground truth.
#
# usage: bench/text_quality.sh [DEMO_DATA_DIR]
#   OLD=/path/to/old/encore  also trains with another build and scores both
#                            (scores always come from this build's
#                            `text quality`, which reads older models)
#   RUNS=3                   `text train` runs timed on the demo world
set -euo pipefail
cd "$(dirname "$0")/.."
demo=${1:-}
runs=${RUNS:-3}
cargo build --release -q -p encore-cli
new="${CARGO_TARGET_DIR:-target}/release/encore"
corpus=fixtures/text/realistic
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

builds=()
[ -n "${OLD:-}" ] && builds+=("old=$OLD")
builds+=("new=$new")

echo "| build | split | artists | precision@10 | contrast leaks | silent artists | search first |"
echo "|---|---|---|---|---|---|---|"
for b in "${builds[@]}"; do
  name=${b%%=*}
  bin=${b#*=}
  d="$work/$name"
  "$bin" --data-dir "$d" import --format catalog "$corpus/catalog.jsonl" >/dev/null
  "$bin" --data-dir "$d" text ingest "$corpus/pages" "$corpus/blog" "$corpus/forum" "$corpus/interviews.jsonl" >/dev/null
  "$bin" --data-dir "$d" text train >/dev/null 2>&1
  "$new" --data-dir "$d" text quality --expected "$corpus/expected.tsv" --json > "$work/$name.json"
  python3 - "$name" "$work/$name.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[2]))
for s in q["splits"]:
    print(f"| {sys.argv[1]} | {s['split']} | {s['artists']} | {s['precision_at_10']:.3f} | {s['contrast_leaks']} | "
          f"{s['silent_artists']} | {s['search_first']:.3f} |")
PY
done

if [ -n "$demo" ]; then
  echo
  echo "| build | demo artists | precision@10 (genre+mood vocabulary) | same-genre similar@10 | same-genre co-mentioned@10 | text train s (median of $runs) |"
  echo "|---|---|---|---|---|---|"
  for b in "${builds[@]}"; do
    name=${b%%=*}
    bin=${b#*=}
    : > "$work/$name.times"
    for _ in $(seq "$runs"); do
      bench/timed.py train -- "$bin" --data-dir "$demo" text train 2>/dev/null >> "$work/$name.times"
    done
    "$new" --data-dir "$demo" text quality --json > "$work/$name.demo.json"
    python3 - "$name" "$work/$name.demo.json" "$work/$name.times" <<'PY'
import json, statistics, sys
q = json.load(open(sys.argv[2]))
t = statistics.median(json.loads(x)["seconds"] for x in open(sys.argv[3]) if x.strip())
print(f"| {sys.argv[1]} | {q['artists']} | {q['term_precision_at_10']:.3f} | {q['similar_same_genre_at_10']:.3f} | "
      f"{q['comentioned_same_genre_at_10']:.3f} | {t:.2f} |")
PY
  done
fi
