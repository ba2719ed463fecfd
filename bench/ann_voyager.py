"""Voyager side of bench/ann.sh: the same vectors, queries and truth files.

Builds with every core, saves, loads, and searches on one thread at several
ef; prints one JSON line per measurement, like ann_bench.
"""
import json
import os
import sys
import time

import numpy as np
import voyager

d = sys.argv[1]
dim = int(sys.argv[2])
base = np.fromfile(os.path.join(d, "base.f32"), dtype="<f4").reshape(-1, dim)
queries = np.fromfile(os.path.join(d, "queries.f32"), dtype="<f4").reshape(-1, dim)
truth = np.fromfile(os.path.join(d, "truth.u32"), dtype="<u4").reshape(-1, 10)
threads = os.cpu_count()

index = voyager.Index(voyager.Space.InnerProduct, num_dimensions=dim, M=16, ef_construction=128)
t = time.perf_counter()
index.add_items(base, ids=np.arange(len(base)), num_threads=threads)
build = time.perf_counter() - t
path = os.path.join(d, "voyager.index")
index.save(path)
del index
t = time.perf_counter()
index = voyager.Index.load(path)
open_s = time.perf_counter() - t
print(json.dumps({"tool": "voyager", "event": "build", "threads": threads, "build_seconds": build, "open_seconds": open_s}))
for ef in [16, 32, 64, 128, 256]:
    index.ef = ef
    hits = 0
    t = time.perf_counter()
    for q, tr in zip(queries, truth):
        ids, _ = index.query(q, k=10, query_ef=ef)
        hits += len(set(ids.tolist()) & set(tr.tolist()))
    s = time.perf_counter() - t
    print(json.dumps({"tool": "voyager", "event": "search", "ef": ef, "recall_at_10": hits / (10 * len(queries)),
                      "qps_per_core": len(queries) / s}))
