#!/usr/bin/env bash
# Audio analysis: Encore against librosa (tempo, key) and pyloudnorm
# (loudness) on the same clips, one core each, in the same run.
#   bench/audio_vs_librosa.sh DATA_DIR [LIMIT]     (DATA_DIR: after `encore demo`)
#   bench/audio_vs_librosa.sh TRUTH.jsonl [LIMIT]  (lines with audio, tempo_bpm,
#                                                  key, mode: e.g. bench/midi_truth.sh's)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-encore-data}; LIMIT=${2:-200}
bench/setup_venv.sh >/dev/null
if [ -f "$DATA" ]; then
  TRUTH=$DATA; DATA=$(mktemp -d); trap 'rm -rf "$DATA"' EXIT
else
  TRUTH=$DATA/demo/truth/songs.jsonl
fi
cargo build -q --release -p encore-audio --example accuracy
RAYON_NUM_THREADS=1 target/release/examples/accuracy "$TRUTH" "$LIMIT" | tee /tmp/encore-audio.json
head -n "$LIMIT" "$TRUTH" | bench/.venv/bin/python -c 'import json,sys; print("\n".join(json.loads(l)["audio"] for l in sys.stdin))' > /tmp/clips.txt
target/release/encore --data-dir "$DATA" audio analyze $(cat /tmp/clips.txt) --json > /tmp/encore-lufs.json
OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 bench/.venv/bin/python bench/audio_vs_librosa.py "$TRUTH" "$LIMIT" > /tmp/librosa-audio.json
bench/.venv/bin/python - <<'PY'
import json
e = json.load(open("/tmp/encore-audio.json")); l = json.load(open("/tmp/librosa-audio.json"))
enc = {r["path"]: r["lufs"] for r in json.load(open("/tmp/encore-lufs.json"))["analyzed"]}
diffs = sorted(abs(enc[p] - v) for p, v in l["lufs"].items() if p in enc)
print("| | Encore | librosa/pyloudnorm |\n|---|---|---|")
for k in ("tempo_accuracy1", "tempo_accuracy2", "key_weighted_score"):
    print(f"| {k} | {e[k]:.3f} | {l[k]:.3f} |")
print(f"| × real time per core, full analysis | {e['realtime_per_core']:.0f} | {l['realtime_full']:.0f} |")
print(f"| × real time, librosa beat_track alone | | {l['realtime_beat_track_only']:.0f} |")
print(f"\nEncore full analysis / librosa full: {e['realtime_per_core'] / l['realtime_full']:.1f}x; / librosa beat_track alone: {e['realtime_per_core'] / l['realtime_beat_track_only']:.1f}x")
print(f"LUFS |Encore - pyloudnorm| over {len(diffs)} clips: median {diffs[len(diffs)//2]:.3f} LU, max {diffs[-1]:.3f} LU")
PY
