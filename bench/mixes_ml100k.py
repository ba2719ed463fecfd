"""Instant mixes on real data nobody on the project generated: MovieLens-100K
(from RecBole's wheel), whose movies carry genres. Run by bench/mixes_ml100k.sh.

Ratings >= 4 are plays. Each movie becomes a "song" of its own "artist" (so
the artist cap does nothing) with its first genre; the full genre sets are
the truth. Only collaborative filtering is trained (no audio, no text), so
the mix is the CF part of the hybrid with its rules: relevance from the
seed, MMR diversity, spacing and a seeded draw.

Seeds: 200 movies with at least 20 listeners, drawn with a fixed seed and
split in halves. The mix's temperature and diversity are picked on the
tuning half (largest share of items sharing a genre with the seed among
settings whose intra-list genre distance stays >= the CF neighbours' own);
every figure reported is on the held-out half, beside CF nearest neighbours
(`encore similar --by cf`) and random movies.

  python3 bench/mixes_ml100k.py WHEEL ENCORE_BIN WORKDIR
"""
import csv
import json
import random
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

wheel, encore, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
data = work / "data"
N = 20

with zipfile.ZipFile(wheel) as z:
    inter = z.read("recbole/dataset_example/ml-100k/ml-100k.inter").decode().splitlines()
    items = z.read("recbole/dataset_example/ml-100k/ml-100k.item").decode("latin-1").splitlines()

genres, titles = {}, {}
for line in items[1:]:
    f = line.split("\t")
    if len(f) < 4:
        continue
    genres[f[0]] = set(f[3].split())
    titles[f[0]] = f"{f[1]} ({f[2]})" if f[2] else f[1]

listeners = {}
with open(work / "catalog.jsonl", "w") as cat:
    for mid, t in titles.items():
        g = sorted(genres[mid])[0] if genres[mid] else None
        cat.write(json.dumps({"artist": f"movie {mid}", "title": t, "genre": g}) + "\n")
with open(work / "plays.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["user", "item", "artist", "count", "timestamp"])
    for line in inter[1:]:
        u, i, r, ts = line.split("\t")
        if float(r) >= 4 and i in titles:
            w.writerow([f"u{u}", titles[i], f"movie {i}", 1, ts])
            listeners[i] = listeners.get(i, 0) + 1


def run(*args):
    p = subprocess.run([encore, "--data-dir", str(data), *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"encore {' '.join(args)} failed: {p.stderr}")
    return p.stdout


if not (data / "encore.db").exists():
    run("import", "--format", "catalog", str(work / "catalog.jsonl"), "--json")
    run("import", "--format", "csv", str(work / "plays.csv"), "--json")
    run("train", "cf", "--factors", "32", "--iterations", "15", "--json")

db = sqlite3.connect(data / "encore.db")
movie_of = {}
song_of = {}
for sid, artist in db.execute("SELECT s.id, a.name FROM songs s JOIN artists a ON a.id = s.artist_id"):
    mid = artist.removeprefix("movie ")
    movie_of[sid] = mid
    song_of[mid] = sid

rng = random.Random(5)
popular = sorted(m for m, c in listeners.items() if c >= 20 and m in song_of)
seeds = rng.sample(popular, 200)
tune, held = seeds[:100], seeds[100:]
all_songs = sorted(movie_of)


def quality(seed, ids):
    g = genres[seed]
    its = [genres[movie_of[i]] for i in ids if i in movie_of]
    if not its:
        return None
    share = sum(1 for x in its if x & g) / len(its)
    jac = sum(len(x & g) / len(x | g) for x in its) / len(its)
    pairs = [(a, b) for k, a in enumerate(its) for b in its[k + 1:]]
    ild = sum(1 - len(a & b) / len(a | b) for a, b in pairs) / max(1, len(pairs))
    return share, jac, ild


def mix(seed, t=None, d=None):
    tune = ["--temperature", str(t), "--diversity", str(d)] if t is not None else []
    out = json.loads(run("mix", "--song", str(song_of[seed]), "-n", str(N), *tune, "--date", "2026-12-01", "--json"))
    return [i["song_id"] for i in out["items"]]


def similar(seed):
    out = json.loads(run("similar", "--song", str(song_of[seed]), "--by", "cf", "-n", str(N), "--json"))
    return [s["song"]["id"] if isinstance(s.get("song"), dict) else s["song_id"] for s in out["similar"]]


def mean(rows):
    rows = [r for r in rows if r]
    return tuple(sum(r[k] for r in rows) / len(rows) for k in range(3)) if rows else (float("nan"),) * 3


grid = [(t, d) for t in (0.1, 0.3) for d in (0.2, 0.5)]
nn_tune = mean(quality(s, similar(s)) for s in tune)
scores = {}
for t, d in grid:
    scores[(t, d)] = mean(quality(s, mix(s, t, d)) for s in tune)
ok = [k for k in grid if scores[k][2] >= nn_tune[2]] or grid
best = max(ok, key=lambda k: scores[k][0])
print("tuning half (100 seeds): share sharing a genre, mean Jaccard, intra-list distance", file=sys.stderr)
print(f"  cf neighbours           {nn_tune[0]:.3f} {nn_tune[1]:.3f} {nn_tune[2]:.3f}", file=sys.stderr)
for k in grid:
    print(f"  mix t={k[0]} d={k[1]}  {scores[k][0]:.3f} {scores[k][1]:.3f} {scores[k][2]:.3f}"
          + ("  <- picked" if k == best else ""), file=sys.stderr)

rows = {
    f"mix (tuned: temperature {best[0]}, diversity {best[1]})": mean(quality(s, mix(s, *best)) for s in held),
    "mix (shipped defaults)": mean(quality(s, mix(s)) for s in held),
    "nearest by cf": mean(quality(s, similar(s)) for s in held),
    "random": mean(quality(s, rng.sample(all_songs, N)) for s in held),
}
print(f"\nheld-out half (100 seeds, {N} items each), MovieLens-100K genres as truth")
print("| method | share sharing a genre with the seed | mean genre Jaccard | intra-list genre distance |")
print("|---|---|---|---|")
for k, (a, b, c) in rows.items():
    print(f"| {k} | {a:.3f} | {b:.3f} | {c:.3f} |")
json.dump({k: dict(zip(["share", "jaccard", "ild"], v)) for k, v in rows.items()},
          open(work / "mixes-ml100k.json", "w"), indent=1)
