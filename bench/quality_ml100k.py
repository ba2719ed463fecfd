#!/usr/bin/env python3
"""The data and `implicit` side of bench/quality_ml100k.sh.

  --prepare WHEEL OUTDIR   MovieLens-100K from RecBole's wheel: ratings >= 4
                           as plays, dense ids, a seeded 80/20 random split,
                           written as OUTDIR/ml100k-{train,test}.csv
  --model NAME --data DIR  trains implicit's NAME on the training split and
                           prints implicit.evaluation.ranking_metrics_at_k
                           (K = 10) as one JSON line
"""
import argparse
import io
import json
import time
import zipfile

import numpy as np
import scipy.sparse as sp

p = argparse.ArgumentParser()
p.add_argument("--prepare", nargs=2, metavar=("WHEEL", "OUTDIR"))
p.add_argument("--model")
p.add_argument("--data")
a = p.parse_args()

if a.prepare:
    wheel, out = a.prepare
    with zipfile.ZipFile(wheel) as z:
        text = z.read("recbole/dataset_example/ml-100k/ml-100k.inter").decode()
    rows = [l.split("\t") for l in text.splitlines()[1:] if l.strip()]
    pairs = [(r[0], r[1]) for r in rows if float(r[2]) >= 4]
    users, items = {}, {}
    idx = np.array([(users.setdefault(u, len(users)), items.setdefault(i, len(items))) for u, i in pairs])
    rng = np.random.default_rng(42)
    test = rng.random(len(idx)) < 0.2
    for name, mask in [("train", ~test), ("test", test)]:
        with open(f"{out}/ml100k-{name}.csv", "w") as f:
            for u, i in idx[mask]:
                f.write(f"{u},{i},1\n")
    print(json.dumps({"users": len(users), "items": len(items), "pairs": len(idx), "test": int(test.sum())}))
    raise SystemExit(0)

from threadpoolctl import threadpool_limits  # noqa: E402
import implicit  # noqa: E402
from implicit.als import AlternatingLeastSquares  # noqa: E402
from implicit.bpr import BayesianPersonalizedRanking  # noqa: E402
from implicit.evaluation import ranking_metrics_at_k  # noqa: E402
from implicit.lmf import LogisticMatrixFactorization  # noqa: E402
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender  # noqa: E402


def load(name, shape=None):
    m = np.loadtxt(f"{a.data}/ml100k-{name}.csv", delimiter=",", dtype=np.int64).reshape(-1, 3)
    shape = shape or (int(m[:, 0].max()) + 1, int(m[:, 1].max()) + 1)
    return sp.csr_matrix((m[:, 2].astype(np.float32), (m[:, 0], m[:, 1])), shape=shape)


train = load("train")
test = load("test", train.shape)
binary = train.copy()
conf = train.copy()
conf.data = 1.0 + conf.data  # c = 1 + alpha * plays with alpha = 1, as Encore
models = {
    # Same hyperparameters and the same confidence as Encore's "als".
    "als": (lambda: AlternatingLeastSquares(factors=64, regularization=0.01, alpha=1.0, iterations=15, random_state=1), conf),
    # implicit out of the box, on the plays as they are.
    "als-default": (lambda: AlternatingLeastSquares(random_state=1), binary),
    "bpr": (lambda: BayesianPersonalizedRanking(factors=64, learning_rate=0.01, regularization=0.01, iterations=100, random_state=1), binary),
    "lmf": (lambda: LogisticMatrixFactorization(random_state=1), binary),
    "knn-cosine": (lambda: CosineRecommender(K=20), binary),
    "knn-tfidf": (lambda: TFIDFRecommender(K=20), binary),
    "knn-bm25": (lambda: BM25Recommender(K=20, K1=100, B=0.8), binary),
}
make, data = models[a.model]
with threadpool_limits(1, "blas"):
    t = time.perf_counter()
    model = make()
    model.fit(data, show_progress=False)
    m = ranking_metrics_at_k(model, binary, test, K=10, show_progress=False)
print(json.dumps({"tool": f"implicit {implicit.__version__}", "model": a.model, "seconds": time.perf_counter() - t,
                  **{k: float(v) for k, v in m.items()}}))
