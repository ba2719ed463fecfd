#!/usr/bin/env bash
# Conformance of the ListenBrainz-compatible listen API with a client nobody
# on this project wrote: ListenBrainz's own Python library, liblistenbrainz,
# installed into the ignored bench/.venv-liblistenbrainz, drives a running
# `encore serve` (crates/encore-cli/tests/listenbrainz_client.py, through the
# ignored test `liblistenbrainz_drives_the_listen_api`).
#
#   bench/liblistenbrainz.sh        (.ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv-liblistenbrainz
if ! "$VENV/bin/python" -c 'import liblistenbrainz' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "liblistenbrainz==0.7.0"
fi
ENCORE_LB_PYTHON="$PWD/$VENV/bin/python" \
  cargo test --workspace --test server liblistenbrainz_drives_the_listen_api -- --ignored
