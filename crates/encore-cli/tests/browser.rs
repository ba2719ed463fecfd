//! The web page in a real headless browser (Debian's `chromium` driven by
//! `chromedriver` over the W3C WebDriver protocol): load it, pick a user,
//! see the playlist, open a song, search — at a laptop and a phone size,
//! with screenshots kept under the test's target directory.
//!
//! Needs `chromium` and `chromium-driver` (apt), which `.ci/run` installs;
//! run with `cargo test --workspace --test browser -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request to the driver; returns the JSON body.
fn call(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    // Headers, then exactly Content-Length bytes (the driver may keep the
    // connection open).
    let mut r = BufReader::new(s);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&body)))
}

struct Browser {
    port: u16,
    session: String,
    _driver: Killed,
}

impl Browser {
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Killed(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver (apt install chromium chromium-driver)"),
        );
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--autoplay-policy=no-user-gesture-required"]
        } } } });
        let r = call(port, "POST", "/session", Some(&caps));
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        Browser { port, session, _driver: driver }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = call(self.port, method, &format!("/session/{}{path}", self.session), body.as_ref());
        r["value"].clone()
    }

    fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({ "script": js, "args": [] })))
    }

    /// Waits until `js` (an expression) is truthy; returns its value.
    fn wait(&self, what: &str, js: &str) -> Value {
        let t = Instant::now();
        loop {
            let v = self.script(&format!("return {js};"));
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            if t.elapsed() > Duration::from_secs(30) {
                let status = self.script("return document.getElementById('status').textContent;");
                panic!("timed out waiting for {what} (status: {status})");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", Some(json!({ "using": "css selector", "value": css })));
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|x| x.as_str())
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.element(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(self.port, "DELETE", &format!("/session/{}", self.session), None);
    }
}

#[test]
#[ignore = "needs chromium and chromium-driver; .ci/run installs them and runs it"]
fn the_page_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("--data-dir")
        .arg(data)
        .args(["demo", "--users", "80", "--songs", "60", "--clip-seconds", "2", "--no-serve"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut server = Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", "127.0.0.1:0", "--api-key", "k"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _server = Killed(server);
    let url = line.trim().strip_prefix("listening on ").unwrap().to_string();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let b = Browser::start();
    b.cmd("POST", "/url", Some(json!({ "url": url })));
    // Load: users in the picker, the first user's playlist with explanations.
    let users = b.wait("the user picker", "document.querySelectorAll('#user option').length");
    assert!(users.as_u64().unwrap() >= 10, "{users}");
    b.wait("the discovery playlist", "document.querySelectorAll('#discover li').length >= 3");
    let why = b.script("return document.querySelector('#discover li .why').textContent;");
    assert!(!why.as_str().unwrap().is_empty());
    assert!(b.script("return document.querySelectorAll('#discover .badge').length").as_u64().unwrap() > 0);
    b.screenshot(&shots.join("laptop-playlist.png"));

    // Pick another user: the history and the playlist change.
    let first = b.script("return document.querySelector('#history').textContent;");
    b.script("const s = document.getElementById('user'); s.selectedIndex = 3; s.dispatchEvent(new Event('change'));");
    b.wait("the new user's history", &format!("document.querySelector('#history').textContent !== {first}"));
    b.wait("the new user's playlist", "document.querySelectorAll('#discover li').length >= 3");

    // Open a song: descriptors, spectrogram, spectrum and similar songs by
    // each model.
    b.click("#discover li a.song");
    b.wait(
        "the song panel",
        "!document.getElementById('song-panel').hidden && document.querySelector('#song-body dl')",
    );
    assert!(b.script("return !!document.getElementById('spectrum')").as_bool().unwrap());
    // The spectrogram image loaded and decoded (64 mel bands high).
    let h = b.wait(
        "the spectrogram image",
        "(() => { const i = document.getElementById('spectrogram'); return i && i.complete && i.naturalHeight; })()",
    );
    assert_eq!(h, json!(64));
    let cols = b.script("return document.querySelectorAll('#song-body .cols > div').length");
    assert_eq!(cols, json!(4));
    b.screenshot(&shots.join("laptop-song.png"));

    // An instant mix from the open song: explained items, the seed left
    // out.
    let seed = b.script("return document.querySelector('#song-body [data-mix]').dataset.mix;");
    b.click("#song-body [data-mix]");
    b.wait("the mix", "document.querySelectorAll('#mix li .why').length >= 5");
    let why = b.script("return document.querySelector('#mix li .why').textContent;");
    let why = why.as_str().unwrap();
    assert!(why.contains("sounds like") || why.contains("people who play") || why.contains("written about"), "{why}");
    let ids = b.script("return [...document.querySelectorAll('#mix li a.song')].map(a => a.dataset.song);");
    assert!(!ids.as_array().unwrap().contains(&seed), "the seed is not repeated in its mix: {ids}");

    // A path: from the open song to a song of the mix.
    b.click("#song-body [data-path-from]");
    let to = b.script("return document.querySelectorAll('#mix li a.song')[4].dataset.song;");
    b.script(&format!(
        "document.getElementById('path-to').value = {to}; document.querySelector('#path-form button').click();"
    ));
    b.wait("the path", "document.querySelectorAll('#path li').length >= 3");
    let ends = b.script(
        "const a = [...document.querySelectorAll('#path li a.song')].map(a => a.dataset.song); return [a[0], a[a.length - 1]];",
    );
    assert_eq!(ends, json!([seed, to]));
    assert!(b
        .script("return document.getElementById('path-stats').textContent")
        .as_str()
        .unwrap()
        .contains("largest step"));
    b.screenshot(&shots.join("laptop-mix-path.png"));

    // Listen: play the first song of the discovery playlist from the
    // server; the audio element plays it.
    b.script("document.getElementById('token').value = 'k';");
    let song = b.script("return document.querySelector('#discover li a.playlink').dataset.play;");
    let song = song.as_str().unwrap().to_string();
    b.click("#discover li a.playlink");
    b.wait("the audio to play", "document.getElementById('player').currentTime > 0");
    assert_eq!(b.script("return document.getElementById('now').dataset.song"), json!(song));
    // Like it: the history shows it loved.
    b.script("document.getElementById('player').pause();");
    b.click("#like");
    b.wait(
        "the loved song in the history",
        &format!("document.querySelector('#history li.loved[data-history=\"{song}\"]')"),
    );
    // More like this: a radio seeded by the song.
    b.click("#radio-btn");
    b.wait("the radio", "document.querySelectorAll('#radio li a.song').length >= 5");
    // Skip: a skipped listen in the history, and the next song plays.
    b.click("#skip");
    b.wait(
        "the skip in the history",
        &format!(
            "(document.querySelector('#history li[data-history=\"{song}\"]') || {{}}).textContent?.includes('skips')"
        ),
    );
    b.wait("the next song", &format!("document.getElementById('now').dataset.song !== '{song}'"));
    b.screenshot(&shots.join("laptop-player.png"));
    // Another day's playlist, and the download links follow it.
    b.script(
        "const d = document.getElementById('date'); d.value = '2026-01-15'; d.dispatchEvent(new Event('change'));",
    );
    b.wait("the other day", "document.getElementById('status').textContent.startsWith('2026-01-15')");
    let href = b.script("return document.getElementById('dl-m3u8').getAttribute('href')");
    assert!(href.as_str().unwrap().ends_with("date=2026-01-15"), "{href}");
    // Find a user by part of the name.
    b.script(
        "const q = document.getElementById('user-q'); q.value = 'LISTENER_00007'; q.dispatchEvent(new Event('input'));",
    );
    b.wait(
        "the user search",
        "[...document.querySelectorAll('#user option')].length === 1 && document.querySelector('#user option').textContent === 'listener_00007'",
    );

    // Search by description.
    let q = b.element("#q");
    b.cmd("POST", &format!("/element/{q}/value"), Some(json!({ "text": "summery" })));
    b.click("#search-form button");
    b.wait("search results", "document.querySelectorAll('#results li a.song').length > 0");

    // A phone-sized screen: nothing wider than the viewport.
    b.cmd("POST", "/window/rect", Some(json!({ "width": 390, "height": 844 })));
    b.wait("the phone layout", "document.documentElement.scrollWidth <= window.innerWidth + 1");
    b.screenshot(&shots.join("phone.png"));
    eprintln!("screenshots in {}", shots.display());
}
