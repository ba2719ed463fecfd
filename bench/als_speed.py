#!/usr/bin/env python3
"""The `implicit` side of bench/als_speed.sh.

Reads the same (u32 user, u32 item, f32 plays) file as Encore's als_bench and
trains implicit's CPU ALS with the same confidence. implicit uses the matrix
it is given (times alpha) as the confidence c itself, not 1 + alpha * plays, so
it gets data = 1 + alpha * plays and alpha = 1: both then solve with
c = 1 + alpha * plays. Prints one JSON line per solver.
"""
import argparse
import json
import resource
import statistics
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import implicit
from implicit.cpu import _als
from implicit.cpu.als import AlternatingLeastSquares

p = argparse.ArgumentParser()
p.add_argument("--input", required=True)
p.add_argument("--solver", choices=["cg", "cholesky"], required=True)
p.add_argument("--factors", type=int, default=64)
p.add_argument("--iterations", type=int, default=15)
p.add_argument("--regularization", type=float, default=0.01)
p.add_argument("--alpha", type=float, default=1.0)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

coo = np.fromfile(a.input, dtype=[("u", "<u4"), ("i", "<u4"), ("p", "<f4")])
shape = (int(coo["u"].max()) + 1, int(coo["i"].max()) + 1)
conf = (1.0 + a.alpha * coo["p"]).astype(np.float32)
cui = sp.csr_matrix((conf, (coo["u"], coo["i"])), shape=shape)

times = []
with threadpool_limits(1, "blas"):  # implicit's own advice: single-threaded BLAS
    model = AlternatingLeastSquares(
        factors=a.factors,
        regularization=a.regularization,
        alpha=1.0,
        iterations=a.iterations,
        use_cg=a.solver == "cg",
        calculate_training_loss=False,
        num_threads=a.threads,
        random_state=1,
    )
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    model.fit(cui, show_progress=False, callback=lambda it, elapsed, loss: times.append(elapsed))
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    loss = _als.calculate_loss(cui, model.user_factors, model.item_factors, a.regularization, num_threads=a.threads)

cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({
    "tool": f"implicit {implicit.__version__}",
    "solver": a.solver,
    "threads": a.threads,
    "seconds_per_iteration": times,
    "median_seconds_per_iteration": statistics.median(times),
    "cpu_utilisation": cpu / wall,
    "final_loss": float(loss),
    "train_seconds": wall,
}))
