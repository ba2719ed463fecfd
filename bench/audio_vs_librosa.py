"""librosa / pyloudnorm side of bench/audio_vs_librosa.sh.

For the clips of a truth file (the demo world's truth/songs.jsonl): tempo by
librosa.beat.beat_track, key by Krumhansl-Kessler profiles on librosa's
chroma_cqt (librosa has no key estimator; the same profiles Encore uses),
EBU R128 integrated loudness by pyloudnorm. Prints one JSON line: accuracy,
seconds, and each clip's LUFS for the loudness comparison.
"""
import json
import sys
import time

import librosa
import numpy as np
import pyloudnorm
import soundfile as sf

KEYS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def mirex(ek, em, k, m):
    d = (KEYS.index(ek) - KEYS.index(k)) % 12
    if em == m and d == 0:
        return 1.0
    if em == m and d in (5, 7):
        return 0.5
    if em != m and ((m == "major" and d == 9) or (m == "minor" and d == 3)):
        return 0.3
    if em != m and d == 0:
        return 0.2
    return 0.0


def main():
    rows = [json.loads(l) for l in open(sys.argv[1])][: int(sys.argv[2]) if len(sys.argv) > 2 else None]
    acc1 = acc2 = key = 0.0
    audio_s = 0.0
    beat_s = 0.0
    t0 = time.perf_counter()
    lufs = {}
    for r in rows:
        data, rate = sf.read(r["audio"])
        lufs[r["audio"]] = pyloudnorm.Meter(rate).integrated_loudness(data)
        y, sr = librosa.load(r["audio"], sr=22050, mono=True)
        audio_s += len(y) / sr
        tb = time.perf_counter()
        tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
        beat_s += time.perf_counter() - tb
        tempo = float(np.atleast_1d(tempo)[0])
        truth = r["tempo_bpm"]
        ok = lambda f: abs(tempo - truth * f) <= 0.04 * truth * f
        acc1 += ok(1.0)
        acc2 += any(ok(f) for f in (1.0, 2.0, 0.5, 3.0, 1 / 3))
        chroma = librosa.feature.chroma_cqt(y=y, sr=sr).sum(axis=1)
        best = max(((np.corrcoef(chroma, np.roll(p, t))[0, 1], KEYS[t], m) for t in range(12)
                    for p, m in ((MAJOR, "major"), (MINOR, "minor"))))
        key += mirex(best[1], best[2], r["key"], r["mode"])
    wall = time.perf_counter() - t0
    n = len(rows)
    print(json.dumps({"tool": "librosa", "songs": n, "tempo_accuracy1": acc1 / n, "tempo_accuracy2": acc2 / n,
                      "key_weighted_score": key / n, "realtime_full": audio_s / wall, "realtime_beat_track_only": audio_s / beat_s,
                      "lufs": lufs}))


if __name__ == "__main__":
    main()
