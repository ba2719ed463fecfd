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
# Vector search (bench/ann.sh) and audio analysis (bench/audio_vs_librosa.sh).
.venv/bin/python -m pip install -q "voyager==2.2.3" "librosa==0.11.0" "pyloudnorm==0.2.0" "soundfile==0.14.0"
# Essentia's PyPI wheel (a development build); optional: the audio comparison
# adds its column only when it imports.
.venv/bin/python -m pip install -q "essentia==2.1b6.dev1389" || echo "essentia did not install; the audio comparison goes on without it" >&2
.venv/bin/python -c "import implicit, numpy, scipy; print('bench venv: implicit', implicit.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__)"
