#!/usr/bin/env bash
# Hostile inputs at full size, with the figures the regression tests only
# bound (issue 20): 1 GiB gzip bombs through `encore import` (peak memory,
# wall time), and slow and idle clients against `encore serve` (40 slow
# bodies, half without the key, while a legitimate write is timed; 500
# idle connections and how long they stay open).
#   bench/hostile.sh            (ENCORE_BIN picks the binary; else release)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ENCORE_BIN:-}
if [ -z "$BIN" ]; then
  cargo build -q --release -p encore-cli
  BIN="${CARGO_TARGET_DIR:-target}/release/encore"
fi
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

python3 - "$WORK" <<'PY'
import gzip, sys
work = sys.argv[1]
z = b"\0" * (1 << 20)
def bomb(name, head, tail):
    with gzip.open(f"{work}/{name}", "wb", compresslevel=9) as f:
        f.write(head)
        for _ in range(1024):
            f.write(z)
        f.write(tail)
bomb("nul.csv.gz", b"", b"")
bomb("bomb.csv.gz", b"user,item,artist\nana,First,Band\n", b"\nana,Last,Band\n")
bomb("bomb.tsv.gz", b"u\t2009-05-04T23:08:57Z\t\tA\t\tB\n", b"\nu\t2009-05-04T23:09:57Z\t\tA\t\tC\n")
PY
ls -l "$WORK"/*.gz | awk '{print $5, $9}'
for f in nul.csv bomb.csv; do
  python3 bench/timed.py "import --format csv $f.gz (1 GiB inside)" -- "$BIN" --data-dir "$WORK/data" import --format csv "$WORK/$f.gz" || true
done
python3 bench/timed.py "import --format lastfm-1k bomb.tsv.gz (1 GiB inside)" -- "$BIN" --data-dir "$WORK/data" import --format lastfm-1k "$WORK/bomb.tsv.gz" || true

"$BIN" --data-dir "$WORK/world" demo --users 60 --songs 50 --clip-seconds 2 --no-serve >/dev/null
"$BIN" --data-dir "$WORK/world" serve --bind 127.0.0.1:0 --api-key k >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's#^listening on http://##p' "$WORK/serve.out")
ulimit -n 4096
python3 - "$ADDR" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split(":")
A = (host, int(port))
slow = []
for i in range(40):
    s = socket.create_connection(A)
    auth = "Authorization: Bearer k\r\n" if i % 2 == 0 else ""
    s.sendall(f"POST /v1/listens HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 1000\r\n\r\n{{\"us".encode())
    slow.append(s)
def post():
    body = b'{"user":"y","artist":"A","title":"T","timestamp":1764400000}'
    t = time.time()
    s = socket.create_connection(A)
    s.sendall(b"POST /v1/listens HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer k\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    return time.time() - t, data.split(b" ")[1].decode()
lat = sorted(post() for _ in range(5))
print("legit POST /v1/listens with 40 slow bodies open: median %.3f s, statuses %s" % (lat[2][0], sorted({c for _, c in lat})))
t = time.time()
codes = []
for s in slow:
    s.settimeout(30)
    try:
        d = s.recv(100)
        codes.append(d.split(b" ")[1].decode() if d else "closed")
    except Exception as e:
        codes.append(type(e).__name__)
print("slow bodies answered:", {c: codes.count(c) for c in sorted(set(codes))}, "within %.1f s more" % (time.time() - t))
idle = [socket.create_connection(A) for _ in range(500)]
t = time.time()
closed = 0
for s in idle:
    s.settimeout(max(0.1, 30 - (time.time() - t)))
    try:
        if s.recv(10) == b"":
            closed += 1
    except Exception:
        pass
print("500 idle connections: %d closed by the server after %.1f s" % (closed, time.time() - t))
PY
