#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI description with schemathesis, a
# client nobody on this project wrote: every operation gets generated valid
# and invalid parameters and bodies (with the API key, so POST bodies reach
# their handlers), and the run fails on any 5xx or a server that dies.
#
#   bench/schemathesis.sh [EXAMPLES]     examples per operation (default 100;
#                                        .ci/run uses 25)
# ENCORE_BIN picks the binary (CI passes the debug one its tests built);
# otherwise a release build is made. schemathesis is installed into the
# ignored bench/.venv-schemathesis on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${1:-100}
VENV=bench/.venv-schemathesis
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "schemathesis==4.32.5"
fi
BIN=${ENCORE_BIN:-}
if [ -z "$BIN" ]; then
  cargo build -q --release -p encore-cli
  BIN="${CARGO_TARGET_DIR:-target}/release/encore"
fi
DATA=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
"$BIN" --data-dir "$DATA" demo --users 80 --songs 60 --clip-seconds 2 --no-serve >/dev/null
KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$BIN" --data-dir "$DATA" serve --bind 127.0.0.1:0 --api-key "$KEY" --media-root "$DATA/demo/audio" \
  >"$DATA/serve.out" 2>"$DATA/serve.err" &
PID=$!
for _ in $(seq 100); do
  grep -q "listening on" "$DATA/serve.out" 2>/dev/null && break
  sleep 0.1
done
ADDR=$(sed -n 's#^listening on http://##p' "$DATA/serve.out")
[ -n "$ADDR" ] || { echo "the server did not start:"; cat "$DATA/serve.err"; exit 1; }
echo "schemathesis: $EXAMPLES examples per operation against http://$ADDR"
status=0
"$VENV/bin/st" --no-color run "http://$ADDR/openapi.json" \
  --checks not_a_server_error \
  --max-examples "$EXAMPLES" \
  --header "Authorization: Bearer $KEY" \
  --seed 20261202 || status=$?
if ! kill -0 "$PID" 2>/dev/null; then
  echo "the server died during the run:"; tail -20 "$DATA/serve.err"; exit 1
fi
if grep -q "panicked" "$DATA/serve.err"; then
  echo "a handler panicked:"; grep -m5 "panicked" "$DATA/serve.err"; exit 1
fi
exit $status
