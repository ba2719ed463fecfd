//! The HTTP service through the `encore` binary: a bad-input sweep, a kill
//! during a burst of writes, a reload under load. Requests are written by
//! hand on a TCP socket so that malformed ones (invalid UTF-8, huge bodies)
//! reach the server as they are.
//!
//! One file (about 700 lines) for the same reason as `cli.rs`: one test
//! binary, shared helpers to start and stop the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const KEY: &str = "test-key";

fn encore(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_encore")).arg("--data-dir").arg(data).args(args).output().unwrap()
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let media = data.join("demo/audio");
        let mut child = Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--bind", "127.0.0.1:0", "--api-key", KEY, "--media-root"])
            .arg(&media)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_string();
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes; returns (status, body).
fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    let (status, _, body) = exchange(addr, request);
    (status, body)
}

/// Sends raw bytes; returns (status, head, body).
fn exchange(addr: &str, request: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_string(), body.to_string())
}

/// A request as a scrobbling client sends it: the given Authorization
/// header (if any), no Content-Type.
fn scrobble(addr: &str, method: &str, path: &str, auth: Option<&str>, body: &str) -> (u16, String, serde_json::Value) {
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, head, body) = exchange(addr, req.as_bytes());
    let v = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    };
    (status, head, v)
}

fn token_of(data: &Path, user: &str) -> String {
    let out = encore(data, &["users", "add", user, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn get(addr: &str, path: &str) -> (u16, String) {
    raw(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
}

fn post(addr: &str, path: &str, key: Option<&str>, body: &[u8]) -> (u16, String) {
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw(addr, &req)
}

fn world(data: &Path) {
    let out = encore(data, &["demo", "--users", "80", "--songs", "60", "--clip-seconds", "2", "--no-serve"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn api_answers_and_bad_input_gets_4xx_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let srv = Server::start(dir.path());
    let a = srv.addr.as_str();

    // The good paths.
    assert_eq!(get(a, "/healthz"), (200, "ok".into()));
    for path in [
        "/readyz",
        "/openapi.json",
        "/v1/users?n=5",
        "/v1/users/1/recommendations?n=5&target_tempo=120&mode=minor",
        "/v1/users/1/recommendations?seed_songs=2,3&max_per_artist=1",
        "/v1/users/1/discover?date=2026-11-29&n=5",
        "/v1/users/1/history",
        "/v1/users/1/similar?n=3",
        "/v1/songs/2",
        "/v1/songs/2/similar?by=audio&n=3",
        "/v1/songs/2/similar?by=text&n=3",
        "/v1/songs/2/similar?by=cf&n=3",
        "/v1/artists/1/similar",
        "/v1/search?q=summery%20nostalgic",
        "/v1/map",
    ] {
        let (status, body) = get(a, path);
        assert_eq!(status, 200, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert!(v.is_object(), "{path}");
    }
    // Mixes, paths, rediscovery and fingerprints.
    let got = |path: &str| -> serde_json::Value {
        let (status, body) = get(a, path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["items"].as_array().unwrap().iter().map(|i| i["song_id"].as_i64().unwrap()).collect()
    };
    let m = got("/v1/mix?song=2&user=1&n=10&date=2026-11-29");
    let first = ids(&m);
    assert_eq!(first.len(), 10, "{m}");
    assert!(!first.contains(&2));
    assert_eq!(ids(&got("/v1/mix?song=2&user=1&n=10&date=2026-11-29")), first, "same day, same mix");
    let item = &m["items"][0];
    assert!(!item["explanation"].as_str().unwrap().is_empty());
    let enc = |s: &str| s.replace('%', "%25").replace(' ', "%20").replace('&', "%26").replace('#', "%23");
    let artist = enc(item["artist"].as_str().unwrap());
    let genre = enc(item["genre"].as_str().unwrap());
    let m2 = got(&format!("/v1/mix?song=2@2,3&artist={artist}@0.5&genre={genre}&n=8&max_per_artist=1&temperature=0"));
    assert_eq!(m2["seeds"].as_array().unwrap().len(), 4, "{m2}");
    let p = got("/v1/path?from=2&to=40&n=8");
    let steps = ids(&p);
    assert_eq!((steps.len(), steps[0], steps[7]), (8, 2, 40), "{p}");
    let r = got("/v1/users/1/rediscover?n=5&date=2026-11-29");
    assert_eq!(ids(&got("/v1/users/1/rediscover?n=5&date=2026-11-29")), ids(&r));
    let f = got("/v1/users/1/fingerprint?n=5");
    assert!(!f["clusters"].as_array().unwrap().is_empty(), "{f}");
    for (path, want) in [
        ("/v1/mix", 400),
        ("/v1/mix?song=abc", 400),
        ("/v1/mix?song=2@-1", 400),
        ("/v1/mix?song=2&temperature=9", 400),
        ("/v1/mix?song=2&bogus=1", 400),
        ("/v1/mix?song=2&seed_first=maybe", 400),
        ("/v1/mix?song=999999", 404),
        ("/v1/mix?artist=Nobody%20At%20All", 404),
        ("/v1/mix?album=No%20Such%20Album", 404),
        ("/v1/path?from=2", 400),
        ("/v1/path?from=2&to=2", 400),
        ("/v1/path?from=2&to=3&n=500", 400),
        ("/v1/path?from=2&to=999999", 404),
        ("/v1/users/999999/rediscover", 404),
        ("/v1/users/1/rediscover?date=2026-13-01", 400),
        ("/v1/users/999999/fingerprint", 404),
    ] {
        let (status, body) = get(a, path);
        assert_eq!(status, want, "{path}: {body}");
        assert!(body.contains("\"error\""), "{path}: {body}");
    }
    // Users by name as well as by id; a name of digits is a name first; an
    // unknown user is a 404.
    let by_id = got("/v1/users/1/history");
    let name = by_id["name"].as_str().unwrap().to_string();
    let by_name = got(&format!("/v1/users/{name}/history"));
    assert_eq!(by_name["user_id"], by_id["user_id"]);
    assert_eq!(got(&format!("/v1/users/{name}/discover?n=3&date=2026-11-29"))["user_id"], 1);
    assert_eq!(get(a, "/v1/users/nobody-at-all/history").0, 404);
    let listen = br#"{"user":"2024","song_id":3,"timestamp":1700000000}"#;
    assert_eq!(post(a, "/v1/listens", Some(KEY), listen).0, 200);
    let digits = got("/v1/users/2024/history");
    assert_eq!(digits["name"], "2024", "{digits}");
    assert_ne!(digits["user_id"], 2024);
    // The discovery playlist as files: M3U8 relative to the media root.
    let (status, m3u) = get(a, "/v1/users/1/discover.m3u8?n=5&date=2026-11-30");
    assert_eq!(status, 200, "{m3u}");
    assert!(m3u.starts_with("#EXTM3U"), "{m3u}");
    let files: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(files.len(), 5, "{m3u}");
    assert!(files.iter().all(|f| dir.path().join("demo/audio").join(f).is_file()), "{m3u}");
    let (status, jspf) = get(a, "/v1/users/1/discover.jspf?n=5&date=2026-11-30");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&jspf).unwrap();
    assert_eq!(v["playlist"]["track"].as_array().unwrap().len(), 5);
    let (status, xspf) = get(a, "/v1/users/1/discover.xspf?n=5&date=2026-11-30");
    assert_eq!(status, 200);
    assert_eq!(xspf.matches("<track>").count(), 5, "{xspf}");
    assert_eq!(get(a, "/v1/users/999999/discover.m3u8").0, 404);
    // Query words the text model has never seen are named.
    let (status, body) = get(a, "/v1/search?q=xylophonic%20summery");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["unknown_terms"], serde_json::json!(["xylophonic"]), "{v}");
    let (_, page) = get(a, "/");
    assert!(page.contains("<title>Encore</title>"));
    let (status, png) = get(a, "/v1/songs/2/spectrogram.png");
    assert_eq!(status, 200);
    assert!(png.starts_with("\u{fffd}PNG\r\n"), "not a PNG: {:?}", &png[..png.len().min(16)]);

    // The sweep: every one is a 4xx with a message, and nothing kills it.
    let long = "9".repeat(400);
    let mut bad: Vec<(String, Vec<u8>)> = Vec::new();
    let mut g = |p: String| {
        bad.push((p.clone(), format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()))
    };
    for user in ["abc", "-", "1.5", "99999999", &long, "%FF", "0x10", "NaN", "%00"] {
        g(format!("/v1/users/{user}/recommendations"));
        g(format!("/v1/users/{user}/discover"));
        g(format!("/v1/users/{user}/history"));
        g(format!("/v1/songs/{user}"));
        g(format!("/v1/songs/{user}/similar"));
        g(format!("/v1/songs/{user}/spectrogram.png"));
        g(format!("/v1/artists/{user}/similar"));
    }
    for q in [
        "n=0",
        "n=-1",
        "n=abc",
        "n=100000000000000000000",
        "n=1e3",
        "min_tempo=abc",
        "min_tempo=NaN",
        "min_tempo=inf",
        "min_tempo=200&max_tempo=100",
        "key=H",
        "key=12",
        "mode=dorian",
        "seed_songs=a,b",
        "seed_songs=999999",
        "seed_artists=999999",
        "seed_songs=1,2,3,4,5,6",
        "max_per_artist=0",
        "exclude_played_days=-3",
        "target_tempo=%ZZ",
        "min_loudness=%FF%FE",
    ] {
        g(format!("/v1/users/1/recommendations?{q}"));
    }
    for q in ["date=2026-02-30", "date=yesterday", "date=%FF", "n=0", "n=9999"] {
        g(format!("/v1/users/1/discover?{q}"));
    }
    for q in ["by=magic", "n=0", "by=%FF"] {
        g(format!("/v1/songs/1/similar?{q}"));
    }
    for q in ["", "q=", "q=%FF%FE", &format!("q={}", "a".repeat(600))] {
        g(format!("/v1/search?{q}"));
    }
    for p in
        ["/../../etc/passwd", "/v1/songs/..%2F..%2Fetc%2Fpasswd", "/v1/..;/admin", "/v1/nothing", "/static/../../x"]
    {
        g(p.to_string());
    }
    // Invalid UTF-8 straight in the path.
    bad.push(("raw bytes".into(), b"GET /v1/songs/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()));
    let n_get = bad.len();
    let mut p = |name: &str, key: Option<&str>, body: Vec<u8>| {
        let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
        let mut req = format!(
            "POST /v1/listens HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        bad.push((name.to_string(), req));
    };
    p("no key", None, br#"{"user":"a","song_id":1,"timestamp":1700000000}"#.to_vec());
    p("wrong key", Some("nope"), br#"{"user":"a","song_id":1,"timestamp":1700000000}"#.to_vec());
    for body in [
        &b"not json"[..],
        b"",
        b"{",
        b"[]",
        b"{}",
        b"\xff\xfe",
        br#"{"user":"a"}"#,
        br#"{"user":"a","song_id":"x","timestamp":1}"#,
        br#"{"user":"a","song_id":999999,"timestamp":1700000000}"#,
        br#"{"user":"","song_id":1,"timestamp":1700000000}"#,
        br#"{"user":"a","song_id":1,"timestamp":-5}"#,
        br#"{"user":"a","song_id":1,"timestamp":99999999999999}"#,
        br#"{"user":"a","song_id":1,"timestamp":1700000000,"ms_played":-1}"#,
        br#"{"user":"a","song_id":1,"timestamp":1e400}"#,
        br#"{"user":"a","timestamp":1700000000}"#,
        br#"{"user":"a","song_id":1,"timestamp":1700000000,"extra":1}"#,
        br#"[{"user":"a","song_id":1,"timestamp":1700000000}, 5]"#,
        br#"{"user":["a"],"song_id":1,"timestamp":1700000000}"#,
    ] {
        p("bad body", Some(KEY), body.to_vec());
    }
    let mut huge = b"[".to_vec();
    huge.extend(std::iter::repeat_n(b' ', 2 << 20));
    huge.push(b']');
    p("oversized", Some(KEY), huge);
    let n_total = bad.len();
    assert!(n_total > 100, "{n_total} requests");
    for round in 0..2 {
        for (name, req) in &bad {
            let (status, body) = raw(a, req);
            assert!((400..500).contains(&status), "round {round}, {name}: {status} {body}");
            // hyper itself answers a request line that is not valid HTTP
            // (raw non-UTF-8 bytes) with a bare 400 before any handler runs.
            if name != "raw bytes" {
                assert!(!body.trim().is_empty(), "{name}: {status} without a message");
            }
        }
    }
    // Bodies of the API's own errors say what went wrong, as JSON.
    let (s, body) = get(a, "/v1/users/1/recommendations?min_tempo=200&max_tempo=100");
    assert_eq!(s, 400);
    assert!(body.contains("min_tempo 200 is above max_tempo 100"), "{body}");
    assert_eq!(get(a, "/healthz").0, 200, "still healthy after {} bad requests", 2 * n_total);
    let (_, metrics) = get(a, "/metrics");
    assert!(metrics
        .contains("encore_requests_total{method=\"GET\",route=\"/v1/users/{id}/recommendations\",status=\"400\"}"));
    assert!(metrics.contains("encore_model_info{version="));
    assert!(n_get > 50);
}

#[test]
fn every_acknowledged_listen_survives_a_kill_and_reload_drops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let mut srv = Server::start(dir.path());
    let a = srv.addr.clone();

    // A burst of writes; the server is killed (SIGKILL) in the middle.
    let writer = {
        let a = a.clone();
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            for k in 0..400i64 {
                let ts = 1_700_000_000 + k;
                let body = format!(r#"{{"user":"burst_user","song_id":{},"timestamp":{ts}}}"#, 1 + k % 50);
                let (status, _) = std::panic::catch_unwind(|| post(&a, "/v1/listens", Some(KEY), body.as_bytes()))
                    .unwrap_or((0, String::new()));
                if status == 200 {
                    acked.push(ts);
                } else {
                    break;
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    srv.child.kill().unwrap();
    srv.child.wait().unwrap();
    let acked = writer.join().unwrap();
    assert!(acked.len() > 5, "only {} listens acknowledged before the kill", acked.len());
    let conn = rusqlite::Connection::open(dir.path().join("encore.db")).unwrap();
    let stored: std::collections::HashSet<i64> = conn
        .prepare("SELECT l.ts FROM listens l JOIN users u ON u.id = l.user_id WHERE u.name = 'burst_user'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for ts in &acked {
        assert!(stored.contains(ts), "acknowledged listen at {ts} lost");
    }
    drop(conn);

    // Restart; the new listens count at once (folded in, no retraining).
    let srv = Server::start(dir.path());
    let a = srv.addr.clone();
    let (s, body) = get(&a, "/v1/users/1/recommendations?n=3");
    assert_eq!(s, 200, "{body}");

    // Reload under load: readers never see a failure.
    let readers: Vec<_> = (0..3)
        .map(|t| {
            let a = a.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for k in 0..60 {
                    let (s, body) = get(&a, &format!("/v1/users/{}/recommendations?n=5", 1 + (t * 60 + k) % 40));
                    if s != 200 {
                        failures.push(format!("{s} {body}"));
                    }
                }
                failures
            })
        })
        .collect();
    for _ in 0..5 {
        let (s, body) = post(&a, "/v1/admin/reload", Some(KEY), b"");
        assert_eq!(s, 200, "{body}");
    }
    for r in readers {
        let failures = r.join().unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }
}

#[test]
fn a_registered_song_is_analysed_embedded_and_recommendable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    world(data);
    // A "new" song: a copy of a clip under another name, inside the media root.
    std::fs::copy(data.join("demo/audio/00003.wav"), data.join("demo/audio/new-song.wav")).unwrap();
    std::fs::write(data.join("secret.wav"), b"RIFF....").unwrap();
    let srv = Server::start(data);
    let a = srv.addr.as_str();
    let body = br#"{"artist":"Brand New","title":"First Light","path":"new-song.wav","genre":"house"}"#;
    assert_eq!(post(a, "/v1/songs", None, body).0, 401);
    let (s, out) = post(a, "/v1/songs", Some(KEY), body);
    assert_eq!(s, 200, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = v["song_id"].as_i64().unwrap();
    assert_eq!(v["predicted_vector"], true, "{v}");
    assert!(v["descriptors"]["tempo_bpm"].as_f64().unwrap() > 0.0);
    // At once: its page, and it has a (predicted) CF vector to be similar by.
    let (s, page) = get(a, &format!("/v1/songs/{id}"));
    assert_eq!(s, 200, "{page}");
    let p: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(p["song"]["title"], "First Light");
    assert_eq!(p["has_cf_vector"], true, "{p}");
    let (s, sims) = get(a, &format!("/v1/songs/{id}/similar?by=cf&n=3"));
    assert_eq!(s, 200, "{sims}");
    // The original it was copied from sounds the same: the nearest song is
    // the clip's own, found by its title in the world's ground truth.
    let truth = std::fs::read_to_string(data.join("demo/truth/songs.jsonl")).unwrap();
    let original: serde_json::Value =
        truth.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|v| v["id"] == 3).unwrap();
    let (_, sims) = get(a, &format!("/v1/songs/{id}/similar?by=audio&n=3"));
    let sims: serde_json::Value = serde_json::from_str(&sims).unwrap();
    let best = &sims["similar"][0];
    assert_eq!(best["song"]["title"], original["title"], "{sims}");
    assert!(best["score"].as_f64().unwrap() > 0.999, "{sims}");
    // Paths never escape the media root.
    for path in ["../../secret.wav", "/etc/passwd", "../encore.db", "missing.wav", "."] {
        let body = format!(r#"{{"artist":"x","title":"y","path":"{path}"}}"#);
        let (s, out) = post(a, "/v1/songs", Some(KEY), body.as_bytes());
        assert_eq!(s, 400, "{path}: {out}");
    }
    let (s, out) = post(a, "/v1/songs", Some(KEY), br#"{"artist":"","title":"y","path":"new-song.wav"}"#);
    assert_eq!(s, 400, "{out}");
    // Hostile audio inside the media root (issue 20 items 3–5): a header
    // claiming 1 Hz, a 0.1 s clip, NaN samples — each a 4xx with a reason,
    // no song row left behind, and the server still answers.
    let songs_before: i64 = rusqlite::Connection::open(data.join("encore.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM songs", [], |r| r.get(0))
        .unwrap();
    let wav = |name: &str, rate: u32, float: bool, samples: &[f32]| {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: if float { 32 } else { 16 },
            sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
        };
        let mut w = hound::WavWriter::create(data.join("demo/audio").join(name), spec).unwrap();
        for &x in samples {
            if float {
                w.write_sample(x).unwrap();
            } else {
                w.write_sample((x * 8000.0) as i16).unwrap();
            }
        }
        w.finalize().unwrap();
    };
    let tone: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.05).sin()).collect();
    wav("one-hz.wav", 1, false, &tone);
    wav("short.wav", 22_050, false, &tone[..2205]);
    wav("nan.wav", 22_050, true, &[f32::NAN; 22_050]);
    for name in ["one-hz.wav", "short.wav", "nan.wav"] {
        let body = format!(r#"{{"artist":"Hostile","title":"{name}","path":"{name}"}}"#);
        let (s, out) = post(a, "/v1/songs", Some(KEY), body.as_bytes());
        assert!((400..500).contains(&s), "{name}: {s} {out}");
        assert!(out.contains("\"error\""), "{name}: {out}");
    }
    let songs_after: i64 = rusqlite::Connection::open(data.join("encore.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM songs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(songs_after, songs_before, "a refused file leaves no song behind");
    assert_eq!(get(a, &format!("/v1/songs/{id}")).0, 200);
}

#[test]
fn the_listenbrainz_api_takes_plays_feedback_and_only_its_own_tokens() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let ana = token_of(dir.path(), "ana");
    let zoe = token_of(dir.path(), "zoë");
    let srv = Server::start(dir.path());
    let a = srv.addr.as_str();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let tok = |t: &str| format!("token {t}");
    let submit = |auth: Option<&str>, body: &str| scrobble(a, "POST", "/1/submit-listens", auth, body);

    // The token is checked as ListenBrainz does.
    let (st, head, v) = scrobble(a, "GET", "/1/validate-token", Some(&format!("Token {ana}")), "");
    assert_eq!((st, v["valid"].as_bool(), v["user_name"].as_str()), (200, Some(true), Some("ana")), "{v}");
    assert!(head.to_ascii_lowercase().contains("x-ratelimit-remaining: "), "{head}");
    let (_, _, v) = scrobble(a, "GET", "/1/validate-token?token=00000000-0000-4000-8000-000000000000", None, "");
    assert_eq!(v["valid"].as_bool(), Some(false), "{v}");

    // One listen, a lower-case scheme word, no Content-Type, names that are
    // not ASCII and a recording MBID; the same listen again is no new one.
    let mbid = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae";
    let single = format!(
        r#"{{"listen_type":"single","payload":[{{"listened_at":{},"track_metadata":{{"artist_name":"Sigur Rós",
        "track_name":"Hoppípolla","release_name":"Takk…","additional_info":{{"recording_mbid":"{mbid}"}}}}}}]}}"#,
        now - 600
    );
    for _ in 0..2 {
        let (st, _, v) = submit(Some(&tok(&ana)), &single);
        assert_eq!((st, v["status"].as_str()), (200, Some("ok")), "{v}");
    }
    let count = |user: &str| {
        scrobble(a, "GET", &format!("/1/user/{user}/listen-count"), None, "").2["payload"]["count"].as_i64()
    };
    assert_eq!(count("ana"), Some(1));
    let import: Vec<String> = (1..=3)
        .map(|k| {
            format!(
                r#"{{"listened_at":{},"track_metadata":{{"artist_name":"坂本龍一","track_name":"Track {k}"}}}}"#,
                now - 100 * k
            )
        })
        .collect();
    let (st, _, v) =
        submit(Some(&tok(&ana)), &format!(r#"{{"listen_type":"import","payload":[{}]}}"#, import.join(",")));
    assert_eq!(st, 200, "{v}");
    assert_eq!(count("ana"), Some(4));
    let (_, _, v) = scrobble(a, "GET", "/1/user/ana/listens?count=10", None, "");
    let listens = v["payload"]["listens"].as_array().unwrap();
    assert_eq!(listens.len(), 4);
    assert_eq!(listens[0]["track_metadata"]["track_name"], "Track 1", "newest first: {v}");
    assert_eq!(listens[3]["track_metadata"]["additional_info"]["recording_mbid"], mbid);
    assert_eq!(listens[3]["track_metadata"]["artist_name"], "Sigur Rós");
    let no_file = listens[3]["track_metadata"]["additional_info"]["encore_song_id"].as_i64().unwrap();

    // Audio: whole, by range, and not for a song without a file.
    let (st, head, body) = exchange(a, b"GET /v1/songs/2/audio HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let head = head.to_ascii_lowercase();
    assert_eq!(st, 200, "{head}");
    assert!(head.contains("content-type: audio/") && body.starts_with("RIFF"), "{head}");
    assert!(head.contains("accept-ranges: bytes"), "{head}");
    let (st, head, body) =
        exchange(a, b"GET /v1/songs/2/audio HTTP/1.1\r\nHost: x\r\nRange: bytes=8-11\r\nConnection: close\r\n\r\n");
    assert_eq!(st, 206, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-range: bytes 8-11/"), "{head}");
    assert_eq!(body, "WAVE");
    assert_eq!(get(a, &format!("/v1/songs/{no_file}/audio")).0, 404);
    assert_eq!(get(a, "/v1/songs/999999/audio").0, 404);
    let (_, body) = get(a, "/v1/users?q=AN");
    assert!(body.contains(r#""name":"ana""#), "{body}");

    // Playing now is kept, not stored as a listen.
    let pn =
        r#"{"listen_type":"playing_now","payload":[{"track_metadata":{"artist_name":"Björk","track_name":"Jóga"}}]}"#;
    assert_eq!(submit(Some(&tok(&ana)), pn).0, 200);
    let (_, _, v) = scrobble(a, "GET", "/1/user/ana/playing-now", None, "");
    assert_eq!(v["payload"]["listens"][0]["track_metadata"]["track_name"], "Jóga", "{v}");
    assert_eq!(count("ana"), Some(4));

    // ListenBrainz's 400s, in its error shape.
    let tm = r#""track_metadata":{"artist_name":"a","track_name":"b"}"#;
    let many: Vec<String> = (0..1001).map(|k| format!(r#"{{"listened_at":{},{tm}}}"#, now - k)).collect();
    let bad = [
        ("not JSON".to_string(), "Cannot parse JSON"),
        (r#"{"listen_type":"sometimes","payload":[]}"#.to_string(), "listen_type"),
        (r#"{"listen_type":"import","payload":[]}"#.to_string(), "does not contain any listens"),
        (
            format!(
                r#"{{"listen_type":"single","payload":[{{"listened_at":{now},{tm}}},{{"listened_at":{now},{tm}}}]}}"#
            ),
            "more than one listen",
        ),
        (format!(r#"{{"listen_type":"single","payload":[{{"listened_at":1000,{tm}}}]}}"#), "too low"),
        (
            format!(
                r#"{{"listen_type":"single","payload":[{{"listened_at":{now},"track_metadata":{{"track_name":"b"}}}}]}}"#
            ),
            "artist_name",
        ),
        (
            format!(
                r#"{{"listen_type":"single","payload":[{{"listened_at":{now},"track_metadata":{{"artist_name":"a","track_name":"b","additional_info":{{"recording_mbid":"x"}}}}}}]}}"#
            ),
            "MBID format invalid",
        ),
        (
            format!(
                r#"{{"listen_type":"single","payload":[{{"listened_at":{now},"track_metadata":{{"artist_name":"a\u0000","track_name":"b"}}}}]}}"#
            ),
            "unicode null",
        ),
        (format!(r#"{{"listen_type":"import","payload":[{}]}}"#, many.join(",")), "Too many listens"),
        (
            format!(r#"{{"listen_type":"playing_now","payload":[{{"listened_at":{now},{tm}}}]}}"#),
            "must not contain listened_at",
        ),
    ];
    for (body, want) in &bad {
        let (st, _, v) = submit(Some(&tok(&ana)), body);
        assert_eq!((st, v["code"].as_i64()), (400, Some(400)), "{want}: {v}");
        assert!(v["error"].as_str().unwrap().contains(want), "{want}: {v}");
    }
    assert_eq!(count("ana"), Some(4), "nothing of a refused submission is stored");

    // Tokens: none, a wrong one, the admin key on /1, another user's.
    let (st, _, v) = submit(None, &single);
    assert_eq!((st, v["code"].as_i64()), (401, Some(401)), "{v}");
    assert_eq!(submit(Some("Token 00000000-0000-4000-8000-000000000000"), &single).0, 401);
    assert_eq!(submit(Some(&format!("Bearer {KEY}")), &single).0, 401, "the admin key is no listener");
    let v1 = |auth: &str, user: &str| {
        let body = format!(r#"{{"user":"{user}","artist":"a","title":"b","timestamp":{}}}"#, now - 5);
        scrobble(a, "POST", "/v1/listens", Some(auth), &body).0
    };
    assert_eq!(v1(&tok(&ana), "zoë"), 403, "a token writes only for its own user");
    assert_eq!(v1(&tok(&zoe), "zoë"), 200);
    assert_eq!(v1(&format!("Bearer {KEY}"), "zoë"), 200);
    assert_eq!(scrobble(a, "POST", "/v1/admin/reload", Some(&tok(&ana)), "").0, 403);
    let (st, _, v) = scrobble(a, "GET", "/1/user/nobody/listen-count", None, "");
    assert_eq!((st, v["code"].as_i64()), (404, Some(404)), "{v}");

    // Recommendations for a listener who arrived through the listen API,
    // with their new plays folded in.
    let (st, _, v) = scrobble(a, "GET", "/1/cf/recommendation/user/ana/recording?count=5", None, "");
    assert_eq!(st, 200, "{v}");
    let mbids = v["payload"]["mbids"].as_array().unwrap();
    assert_eq!(mbids.len(), 5);
    let top = mbids[0]["encore_song_id"].as_i64().unwrap();

    // Hate the top one: never recommended again. Love by MBID: in the
    // listener's feedback and history as their strongest song.
    let fb = |body: &str| scrobble(a, "POST", "/1/feedback/recording-feedback", Some(&tok(&ana)), body);
    assert_eq!(fb(&format!(r#"{{"encore_song_id":{top},"score":-1}}"#)).0, 200);
    assert_eq!(fb(&format!(r#"{{"recording_mbid":"{mbid}","score":1}}"#)).0, 200);
    assert_eq!(fb(r#"{"recording_mbid":"8f3471b5-7e6a-48da-86a9-c1c07a0f47ae","score":2}"#).0, 400);
    assert_eq!(fb(r#"{"recording_mbid":"00000000-0000-4000-8000-000000000000","score":1}"#).0, 404);
    let (_, body) = get(a, "/v1/users/ana/recommendations?n=50");
    let recs: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<i64> = recs["items"].as_array().unwrap().iter().map(|i| i["song_id"].as_i64().unwrap()).collect();
    assert!(ids.len() >= 10, "{body}");
    assert!(!ids.contains(&top), "a hated song is not recommended: {top} in {ids:?}");
    let (_, _, v) = scrobble(a, "GET", "/1/feedback/user/ana/get-feedback?score=1", None, "");
    assert_eq!(v["feedback"][0]["recording_mbid"], mbid, "{v}");
    let (_, body) = get(a, "/v1/users/ana/history");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = h["history"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert!(
        items
            .iter()
            .any(|i| i["song"]["title"] == "Hoppípolla" && i["plays"].as_f64().unwrap() > 10.0 && i["feedback"] == 1),
        "{body}"
    );
}

/// ListenBrainz's own Python client against a running server: needs a
/// Python with `liblistenbrainz` in `ENCORE_LB_PYTHON` (`.ci/run` makes one
/// with `bench/liblistenbrainz.sh`).
#[test]
#[ignore = "needs ENCORE_LB_PYTHON: a Python with liblistenbrainz (bench/liblistenbrainz.sh)"]
fn liblistenbrainz_drives_the_listen_api() {
    let python = std::env::var("ENCORE_LB_PYTHON").expect("ENCORE_LB_PYTHON: a Python with liblistenbrainz");
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let token = token_of(dir.path(), "łucja");
    let srv = Server::start(dir.path());
    let script = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/listenbrainz_client.py");
    let out =
        Command::new(python).arg(script).arg(format!("http://{}", srv.addr)).arg(&token).arg("łucja").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["recommendations"], 5, "{seen}");
    assert_eq!(seen["malformed_refused"], 8, "{seen}");
}
