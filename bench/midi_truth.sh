#!/usr/bin/env bash
# Tempo and key accuracy on a ground-truth set that Encore did not
# synthesise: `encore gen midi` writes N MIDI files with known tempo, key
# and mode (several General MIDI instruments, ~60 % with drums), fluidsynth
# renders them with Debian's FluidR3 GM soundfont (44.1 kHz WAV), and
# bench/audio_vs_librosa.sh scores Encore and librosa on the same files,
# one core each, in the same run.
#   bench/midi_truth.sh [N] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}; SECS=${2:-20}
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2
if ! command -v fluidsynth >/dev/null || [ ! -f "$SF2" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fluidsynth fluid-soundfont-gm >/dev/null
fi
cargo build -q --release -p encore-cli
DIR=bench/data/midi-$N-$SECS
if [ ! -f "$DIR/.rendered" ]; then
  rm -rf "$DIR"
  target/release/encore gen midi -n "$N" --seconds "$SECS" --out "$DIR"
  ls "$DIR"/*.mid | xargs -P 2 -I{} sh -c 'fluidsynth -ni -q -g 0.5 -r 44100 -F "${1%.mid}.wav" '"$SF2"' "$1" >/dev/null 2>&1' _ {}
  touch "$DIR/.rendered"
fi
python3 - "$DIR/truth.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{len(rows)} pieces: {sum(r['drums'] for r in rows)} with drums, "
      f"{sum(r['mode'] == 'minor' for r in rows)} minor, tempo {min(r['tempo_bpm'] for r in rows):.0f}-{max(r['tempo_bpm'] for r in rows):.0f} BPM")
PY
bench/audio_vs_librosa.sh "$DIR/truth.jsonl" "$N"
