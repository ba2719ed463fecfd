"""Essentia side of bench/audio_vs_librosa.sh (when Essentia installs).

For the clips of a truth file: tempo by RhythmExtractor2013 (method
"multifeature", Essentia's default), key by KeyExtractor (its default
profile), loudness by LoudnessEBUR128 on the original stereo/mono signal.
Prints one JSON line like audio_vs_librosa.py's.
"""
import json
import sys
import time

import essentia
import essentia.standard as es

from audio_vs_librosa import mirex

essentia.log.warningActive = False
rows = [json.loads(l) for l in open(sys.argv[1])][: int(sys.argv[2]) if len(sys.argv) > 2 else None]
acc1 = acc2 = key = 0.0
audio_s = beat_s = 0.0
lufs = {}
rhythm = es.RhythmExtractor2013(method="multifeature")
keyx = es.KeyExtractor()
t0 = time.perf_counter()
for r in rows:
    stereo, rate, channels, *_ = es.AudioLoader(filename=r["audio"])()
    # AudioLoader gives a mono file as (samples, zeros), which BS.1770
    # measures as the mono signal (duplicating it would add 3 dB).
    lufs[r["audio"]] = float(es.LoudnessEBUR128(sampleRate=rate)(stereo)[2])
    y = es.MonoLoader(filename=r["audio"], sampleRate=44100)()
    audio_s += len(y) / 44100
    tb = time.perf_counter()
    tempo = float(rhythm(y)[0])
    beat_s += time.perf_counter() - tb
    truth = r["tempo_bpm"]
    ok = lambda f: abs(tempo - truth * f) <= 0.04 * truth * f
    acc1 += ok(1.0)
    acc2 += any(ok(f) for f in (1.0, 2.0, 0.5, 3.0, 1 / 3))
    k, scale, _ = keyx(y)
    key += mirex(k.replace("Bb", "A#").replace("Eb", "D#").replace("Ab", "G#").replace("Db", "C#").replace("Gb", "F#"),
                 scale, r["key"], r["mode"])
wall = time.perf_counter() - t0
n = len(rows)
print(json.dumps({"tool": "essentia " + essentia.__version__, "songs": n, "tempo_accuracy1": acc1 / n,
                  "tempo_accuracy2": acc2 / n, "key_weighted_score": key / n, "realtime_full": audio_s / wall,
                  "realtime_beat_track_only": audio_s / beat_s, "lufs": lufs}))
