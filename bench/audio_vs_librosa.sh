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
# Essentia, when its wheel installs (bench/setup_venv.sh tries).
rm -f /tmp/essentia-audio.json
if bench/.venv/bin/python -c 'import essentia' 2>/dev/null; then
  PYTHONPATH=bench OMP_NUM_THREADS=1 bench/.venv/bin/python bench/audio_essentia.py "$TRUTH" "$LIMIT" | tail -n 1 > /tmp/essentia-audio.json
fi
bench/.venv/bin/python - <<'PY'
import json, os
e = json.load(open("/tmp/encore-audio.json")); l = json.load(open("/tmp/librosa-audio.json"))
s = json.load(open("/tmp/essentia-audio.json")) if os.path.exists("/tmp/essentia-audio.json") else None
enc = {r["path"]: r["lufs"] for r in json.load(open("/tmp/encore-lufs.json"))["analyzed"]}
diffs = sorted(abs(enc[p] - v) for p, v in l["lufs"].items() if p in enc)
print("| | Encore | librosa/pyloudnorm |" + (f" {s['tool']} |" if s else "") + "\n|---|---|---|" + ("---|" if s else ""))
for k in ("tempo_accuracy1", "tempo_accuracy2", "key_weighted_score"):
    print(f"| {k} | {e[k]:.3f} | {l[k]:.3f} |" + (f" {s[k]:.3f} |" if s else ""))
print(f"| × real time per core, full analysis | {e['realtime_per_core']:.0f} | {l['realtime_full']:.0f} |" + (f" {s['realtime_full']:.0f} |" if s else ""))
print(f"| × real time, beat tracker alone | | {l['realtime_beat_track_only']:.0f} |" + (f" {s['realtime_beat_track_only']:.0f} |" if s else ""))
print(f"\nEncore full analysis / librosa full: {e['realtime_per_core'] / l['realtime_full']:.1f}x; / librosa beat_track alone: {e['realtime_per_core'] / l['realtime_beat_track_only']:.1f}x")
if s:
    print(f"Encore full analysis / Essentia (RhythmExtractor2013 + KeyExtractor + loudness): {e['realtime_per_core'] / s['realtime_full']:.1f}x")
print(f"LUFS |Encore - pyloudnorm| over {len(diffs)} clips: median {diffs[len(diffs)//2]:.3f} LU, max {diffs[-1]:.3f} LU")
if s:
    d2 = sorted(abs(enc[p] - v) for p, v in s["lufs"].items() if p in enc)
    print(f"LUFS |Encore - Essentia LoudnessEBUR128|: median {d2[len(d2)//2]:.3f} LU, max {d2[-1]:.3f} LU")
PY
