#!/usr/bin/env bash
# The fuzz targets, long: every import format, the HTML/JSONL/WARC readers
# and the audio decoder front end (proptest on stable Rust; the default test
# run does a few hundred cases each, this does CASES).
#   bench/fuzz.sh [CASES]      (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
export ENCORE_FUZZ_CASES=${1:-20000}
echo "fuzzing with $ENCORE_FUZZ_CASES cases per target"
cargo test --release -p encore-ingest -p encore-text -p encore-audio --test fuzz -- --nocapture
