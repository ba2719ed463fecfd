//! Regression tests for hostile and ordinary inputs that used to crash or
//! starve Encore (issue 20): over-long rows and gzip bombs, cut gzip
//! streams, impossible timestamps, named pipes, model paths that tied a data
//! directory to where it was trained, old versions that piled up, the API
//! key, slow and idle clients, and file-system paths in responses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const KEY: &str = "hostile-test-key";

fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

fn cmd(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_encore"));
    c.arg("--data-dir").arg(data).args(args).env_remove("ENCORE_DATA_DIR").env_remove("ENCORE_API_KEY");
    c
}

fn encore(data: &Path, args: &[&str]) -> Output {
    cmd(data, args).output().expect("runs encore")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn world(data: &Path) {
    let out = encore(data, &["demo", "--users", "60", "--songs", "50", "--clip-seconds", "2", "--no-serve"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `c` to the end, watching its peak resident memory (Linux `VmHWM`).
/// Returns the output and the peak in MiB (0 where /proc is missing).
fn run_watching_memory(mut c: Command) -> (Output, f64) {
    let child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(s) = std::fs::read_to_string(&status) {
                if let Some(kb) = s
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    watcher.join().unwrap();
    (out, peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0)
}

#[test]
fn a_gzip_bomb_costs_a_row_not_the_memory() {
    // 160 MiB of NUL bytes without a line break inside 160 KB of gzip, with
    // good rows on either side (item 10); the same row as a field over
    // SQLite's limit would fail the whole file on every rerun (item 11).
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::fast());
    gz.write_all(b"user,item,artist\nana,First Song,The Band\nana,").unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..160 {
        gz.write_all(&zeros).unwrap();
    }
    gz.write_all(b",x\nana,Last Song,The Band\n").unwrap();
    gz.finish().unwrap();
    let data = dir.path().join("data");
    let mut c = cmd(&data, &["import", "--format", "csv", "--json"]);
    c.arg(&bomb);
    let (out, peak_mib) = run_watching_memory(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let f = &v["files"][0];
    assert_eq!((f["imported"].as_u64(), f["skipped"].as_u64()), (Some(2), Some(1)), "{f}");
    assert_eq!(f["errors"][0]["line"], 3, "{f}");
    assert!(f["errors"][0]["reason"].as_str().unwrap().contains("longer than"), "{f}");
    println!("peak memory importing a 160 MiB row: {peak_mib:.0} MiB");
    assert!(peak_mib < 120.0, "peak {peak_mib:.0} MiB: the over-long row was held in memory");
    // A rerun adds nothing and fails nothing.
    let again = encore(&data, &["import", "--format", "csv", "--json", bomb.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(json(&again)["files"][0]["status"], "already-imported");
}

#[test]
fn a_cut_gzip_stream_is_reported_every_time_and_fails_strict() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cut = manifest_dir().join("../../fixtures/listens/lastfm-1k/truncated.tsv.gz");
    let cut = cut.to_str().unwrap();
    for run in 0..2 {
        let out = encore(&data, &["import", "--format", "lastfm-1k", "--json", cut]);
        assert!(out.status.success(), "without --strict a cut file still imports what it has");
        let f = &json(&out)["files"][0];
        assert_eq!(f["cut"], true, "run {run}: {f}");
        assert!(f["imported"].as_u64().unwrap() > 0 || run == 1, "{f}");
        assert_eq!(json(&out)["totals"]["cut"], 1);
    }
    let strict = encore(&data, &["import", "--format", "lastfm-1k", "--strict", cut]);
    assert_eq!(strict.status.code(), Some(1), "--strict fails on a cut file");
    assert!(String::from_utf8_lossy(&strict.stderr).contains("ends abruptly"));
    let good = manifest_dir().join("../../fixtures/listens/lastfm-1k/good.tsv.gz");
    let out = encore(&data, &["import", "--format", "lastfm-1k", "--strict", "--json", good.to_str().unwrap()]);
    assert!(out.status.success(), "a whole file passes --strict");
    assert_eq!(json(&out)["files"][0]["cut"], false);
}

#[test]
fn imports_and_the_api_share_one_rule_for_listen_times() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("times.csv");
    std::fs::write(
        &csv,
        "user,item,artist,timestamp\nana,A,B,1700000000\nana,C,B,-9223372036854775808\nana,D,B,32503680000\nana,E,B,0\n",
    )
    .unwrap();
    let out = encore(&data, &["import", "--format", "csv", "--json", csv.to_str().unwrap()]);
    let f = &json(&out)["files"][0];
    assert_eq!((f["imported"].as_u64(), f["skipped"].as_u64()), (Some(1), Some(3)), "{f}");
    assert_eq!(f["rows_read"], 4, "each rejected row counted once: {f}");
    for e in f["errors"].as_array().unwrap() {
        assert!(e["reason"].as_str().unwrap().contains("timestamp"), "{e}");
    }
}

#[cfg(unix)]
#[test]
fn a_named_pipe_in_an_audio_folder_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("music");
    std::fs::create_dir(&folder).unwrap();
    // One real clip and a pipe that looks like one.
    let clip = folder.join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&clip, spec).unwrap();
    for i in 0..22_050 * 2 {
        w.write_sample(((i as f32 * 0.06).sin() * 9_000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let pipe = folder.join("pipe.wav");
    assert!(Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    let data = dir.path().join("data");
    let run = |target: &Path| -> Output {
        let mut child = cmd(&data, &["audio", "analyze", "--json"])
            .arg(target)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("audio analyze hung on {}", target.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    };
    let out = run(&folder);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["analyzed"].as_array().map(Vec::len), Some(1), "{v}");
    // Named on the command line, it is reported, not opened.
    let out = run(&pipe);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("not a regular file"), "{text}");
}

#[test]
fn a_data_dir_trained_by_a_relative_path_works_when_copied_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().join("here");
    std::fs::create_dir(&here).unwrap();
    // Trained through a relative --data-dir.
    let out = Command::new(env!("CARGO_BIN_EXE_encore"))
        .current_dir(&here)
        .args(["--data-dir", "rel", "demo", "--users", "60", "--songs", "50", "--clip-seconds", "2", "--no-serve"])
        .env_remove("ENCORE_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let release = here.join("rel/models/release");
    let current = std::fs::read_to_string(release.join("CURRENT")).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(release.join(current.trim()).join("manifest.json")).unwrap()).unwrap();
    for (k, v) in manifest.as_object().unwrap() {
        if let Some(p) = v.as_str() {
            assert!(p.starts_with("models/"), "{k}: {p} is not relative to the data directory");
        }
    }
    // Copied elsewhere, the original removed, opened from another folder.
    let copy = dir.path().join("elsewhere/copy");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    assert!(Command::new("cp").arg("-r").arg(here.join("rel")).arg(&copy).status().unwrap().success());
    std::fs::remove_dir_all(here.join("rel")).unwrap();
    let out =
        cmd(&copy, &["recommend", "--user", "listener_00003", "-n", "5", "--json"]).current_dir("/").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["recommendations"].as_array().unwrap().len(), 5);
    assert!(v["model_version"].as_str().unwrap().starts_with("release/v"), "{}", v["model_version"]);

    // Old versions do not pile up: three more CF trainings, then gc.
    for _ in 0..3 {
        assert!(encore(&copy, &["train", "cf", "--iterations", "2"]).status.success());
    }
    let cf_versions =
        || std::fs::read_dir(copy.join("models/cf-als")).unwrap().flatten().filter(|e| e.path().is_dir()).count();
    assert_eq!(cf_versions(), 4);
    let out = encore(&copy, &["gc", "--keep", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gc = json(&out);
    // The newest CF version stays, and so does the one the release names.
    assert_eq!(
        gc["removed"].as_array().unwrap().iter().filter(|r| r.as_str().unwrap().starts_with("models/cf-als/")).count(),
        2,
        "{gc}"
    );
    assert_eq!(cf_versions(), 2);
    assert!(
        encore(&copy, &["recommend", "--user", "listener_00003", "-n", "3"]).status.success(),
        "the release still loads"
    );
}

struct Server {
    child: Child,
    addr: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let mut child = cmd(data, &["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_string();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Server { child, addr, stderr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn request(addr: &str, req: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default())
}

fn get(addr: &str, path: &str) -> (u16, String) {
    request(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
}

fn post_listen(addr: &str, key: &str) -> (u16, String) {
    let body = r#"{"user":"slowpoke-victim","artist":"A","title":"T","timestamp":1764400000}"#;
    request(
        addr,
        format!(
            "POST /v1/listens HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// True when the server closes `s` within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                return false
            }
            Err(_) => return true, // reset
        }
    }
}

#[test]
fn slow_and_idle_clients_do_not_starve_a_write() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let srv = Server::start(
        dir.path(),
        &[
            "--api-key",
            KEY,
            "--concurrency",
            "2",
            "--header-timeout",
            "3",
            "--body-timeout",
            "2",
            "--max-connections",
            "100",
        ],
    );
    let a = srv.addr.as_str();
    // 40 slow bodies: 20 without the key (refused before the body), 20 with
    // it (read outside the concurrency limit, cut at the body timeout).
    let mut slow = Vec::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(a).unwrap();
        let auth = if i % 2 == 0 { format!("Authorization: Bearer {KEY}\r\n") } else { String::new() };
        s.write_all(
            format!("POST /v1/listens HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 1000\r\n\r\n{{\"us").as_bytes(),
        )
        .unwrap();
        slow.push((i % 2 == 0, s));
    }
    let start = Instant::now();
    let (status, body) = post_listen(a, KEY);
    let waited = start.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(waited < Duration::from_millis(1500), "the write waited {waited:?} behind slow bodies");
    for (authed, mut s) in slow {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        let want = if authed { " 408 " } else { " 401 " };
        assert!(buf.contains(want), "authed {authed}: {buf:?}");
    }
    // Idle connections are closed after the header timeout.
    let mut idle: Vec<TcpStream> = (0..30).map(|_| TcpStream::connect(a).unwrap()).collect();
    std::thread::sleep(Duration::from_secs(4));
    for s in &mut idle {
        assert!(closed_within(s, Duration::from_secs(2)), "an idle connection outlived the header timeout");
    }
    // The connection cap: the one over it is closed at once.
    let mut held: Vec<TcpStream> = (0..100).map(|_| TcpStream::connect(a).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut over = TcpStream::connect(a).unwrap();
    assert!(closed_within(&mut over, Duration::from_secs(1)), "connection 101 was kept");
    assert!(!closed_within(&mut held[99], Duration::from_millis(200)), "connection 100 was closed");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(a, "/healthz").0, 200);
}

#[test]
fn the_api_key_is_random_private_and_never_printed_and_no_response_shows_a_path() {
    let dir = tempfile::tempdir().unwrap();
    world(dir.path());
    let srv = Server::start(dir.path(), &[]);
    let a = srv.addr.as_str();
    let key_file = dir.path().join("api-key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(post_listen(a, &key).0, 200);
    assert_eq!(post_listen(a, "wrong").0, 401);
    std::thread::sleep(Duration::from_millis(200));
    let printed = srv.stderr.lock().unwrap().clone();
    assert!(!printed.contains(key.trim()), "the key was printed: {printed}");
    assert!(printed.contains("api-key"), "where the key is should be said: {printed}");

    // No file-system path in what the server answers.
    let data = dir.path().canonicalize().unwrap().display().to_string();
    let (_, ready) = get(a, "/readyz");
    let (_, metrics) = get(a, "/metrics");
    let (_, recs) = get(a, "/v1/users/1/recommendations?n=3");
    // A song whose audio file went missing.
    assert_eq!(get(a, "/v1/songs/3/spectrogram.png").0, 200);
    std::fs::remove_dir_all(dir.path().join("demo/audio")).unwrap();
    let (status, missing) = get(a, "/v1/songs/3/spectrogram.png");
    assert_eq!(status, 404, "{missing}");
    for (what, text) in
        [("readyz", &ready), ("metrics", &metrics), ("recommendations", &recs), ("spectrogram", &missing)]
    {
        assert!(!text.contains(&data) && !text.contains("/tmp/"), "{what} shows a path: {text}");
    }
    drop(srv);

    // A key file left readable by others is narrowed at start.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _srv = Server::start(dir.path(), &[]);
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
