#!/usr/bin/env bash
# Creates bench/.venv (ignored by git) with the reference tools the benchmarks
# compare against. Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# implicit 0.7.2 indexes scipy matrices with memoryviews, which scipy ≥ 1.15
# refuses; pin the versions it was built and tested with.
.venv/bin/python -m pip install -q "implicit==0.7.2" "numpy==1.26.4" "scipy==1.13.1" "threadpoolctl"
.venv/bin/python -c "import implicit, numpy, scipy; print('bench venv: implicit', implicit.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__)"
