#!/usr/bin/env python3
"""Runs a command and prints its wall time and peak memory (max RSS) as JSON.

Usage: bench/timed.py LABEL -- COMMAND [ARGS...]
The command's stdout goes to stderr so that this script's stdout is one JSON line.
"""
import json
import resource
import subprocess
import sys
import time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1 :]
start = time.perf_counter()
proc = subprocess.run(cmd, stdout=sys.stderr)
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"label": label, "exit": proc.returncode, "seconds": round(wall, 2), "peak_rss_mib": round(peak_kib / 1024, 1)}))
sys.exit(proc.returncode)
