"""Drives a running `encore serve` with liblistenbrainz, ListenBrainz's own
Python client (nobody on Encore wrote it), as a player would.

    python listenbrainz_client.py BASE_URL TOKEN USER

Exits non-zero on the first thing that does not behave as ListenBrainz does;
prints one JSON line of what it saw.
"""
import json
import sys
import time

import liblistenbrainz
import requests
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

base, token, user = sys.argv[1:4]
now = int(time.time())
seen = {}

client = liblistenbrainz.ListenBrainz(api_base_url=base)
client.set_auth_token(token)  # GET /1/validate-token; raises when invalid
seen["token_valid"] = True

try:
    liblistenbrainz.ListenBrainz(api_base_url=base).set_auth_token("00000000-0000-4000-8000-000000000000")
    raise SystemExit("a wrong token was accepted")
except InvalidAuthTokenException:
    seen["wrong_token_refused"] = True

mbid = "b1a9c0e9-d987-4042-ae91-78d6a3267d69"
single = liblistenbrainz.Listen(
    track_name="Hoppípolla",
    artist_name="Sigur Rós",
    release_name="Takk…",
    listened_at=now - 3600,
    recording_mbid=mbid,
    artist_mbids=["f6f2a1ba-5a46-4c46-9c8b-5e4bc2b4e4a3"],
    tracknumber=2,
    listening_from="liblistenbrainz",
)
assert client.submit_single_listen(single)["status"] == "ok"
batch = [
    liblistenbrainz.Listen(track_name=f"Merry Christmas Mr. Lawrence {k}", artist_name="坂本龍一", listened_at=now - 3000 + k)
    for k in range(3)
]
assert client.submit_multiple_listens(batch)["status"] == "ok"
assert client.submit_playing_now(liblistenbrainz.Listen(track_name="Jóga", artist_name="Björk"))["status"] == "ok"
assert client.remaining_requests is not None and client.remaining_requests > 0, "no X-RateLimit-Remaining"

playing = client.get_playing_now(user)
assert playing is not None and playing.track_name == "Jóga", playing
count = client.get_user_listen_count(user)
assert count == 4, count
listens = client.get_listens(user, count=10)
names = [l.track_name for l in listens]
assert names[0] == "Merry Christmas Mr. Lawrence 2" and names[-1] == "Hoppípolla", names
assert listens[-1].recording_mbid == mbid and listens[-1].artist_name == "Sigur Rós"
assert listens[-1].listened_at == now - 3600
seen["listens"] = names

# The same single listen again is no new listen.
client.submit_single_listen(single)
assert client.get_user_listen_count(user) == 4

client.submit_user_feedback(1, mbid)
fb = client.get_user_feedback(user, 1, False)
assert fb["feedback"][0]["recording_mbid"] == mbid, fb

recs = client.get_user_recommendation_recordings(user, count=5)
assert recs is not None and len(recs["payload"]["mbids"]) == 5, recs
seen["recommendations"] = len(recs["payload"]["mbids"])

# Malformed submissions get ListenBrainz's 400 and its error shape; a
# scheme word in lower case and no Content-Type, as players send them.
url = base.rstrip("/") + "/1/submit-listens"
headers = {"Authorization": f"token {token}"}
tm = {"artist_name": "a", "track_name": "b"}
bad = {
    "no listened_at": {"listen_type": "single", "payload": [{"track_metadata": tm}]},
    "bad listen_type": {"listen_type": "sometimes", "payload": [{"listened_at": now, "track_metadata": tm}]},
    "empty artist": {"listen_type": "single", "payload": [{"listened_at": now, "track_metadata": {"artist_name": "", "track_name": "b"}}]},
    "bad mbid": {"listen_type": "single", "payload": [{"listened_at": now, "track_metadata": {**tm, "additional_info": {"recording_mbid": "nope"}}}]},
    "nul": {"listen_type": "single", "payload": [{"listened_at": now, "track_metadata": {**tm, "track_name": "b\u0000"}}]},
    "too many": {"listen_type": "import", "payload": [{"listened_at": now - k, "track_metadata": tm} for k in range(1001)]},
    "too old": {"listen_type": "single", "payload": [{"listened_at": 1000, "track_metadata": tm}]},
}
for name, doc in bad.items():
    r = requests.post(url, data=json.dumps(doc), headers=headers)
    body = r.json()
    assert r.status_code == 400 and body.get("code") == 400 and body.get("error"), (name, r.status_code, body)
try:
    client.submit_single_listen(liblistenbrainz.Listen(track_name="x", artist_name="y", listened_at=1000))
    raise SystemExit("a listen from 1970 was accepted")
except ListenBrainzAPIException as e:
    assert e.status_code == 400, e
seen["malformed_refused"] = len(bad) + 1
assert client.get_user_listen_count(user) == 4, "a refused submission stored something"

print(json.dumps(seen, ensure_ascii=False))
