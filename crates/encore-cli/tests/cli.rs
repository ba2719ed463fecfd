//! Drives the real `encore` binary in temporary data directories.
//!
//! One file (about 900 lines) on purpose: cargo builds and links one test
//! binary per file, and on two cores each extra binary costs more build
//! time than the file's length costs reading; the tests share the helpers
//! above and each names the command it drives.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The package folder, as cargo gives it to the running test (a test binary
/// reused from a build directory shared by clones at other paths would
/// otherwise carry the path of the clone that built it).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

fn encore(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ENCORE_DATA_DIR")
        .output()
        .expect("runs encore")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn fixture(rel: &str) -> String {
    manifest_dir().join("../../fixtures/listens").join(rel).display().to_string()
}

/// Every table's rows, in key order, as text: two stores are the same when
/// their dumps are.
fn dump(data: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(data.join("encore.db")).unwrap();
    let mut out = Vec::new();
    for (table, order) in [
        ("users", "id"),
        ("artists", "id"),
        ("songs", "id"),
        ("listens", "user_id, ts, song_id"),
        ("song_counts", "user_id, song_id"),
        ("artist_counts", "user_id, artist_id"),
        ("import_errors", "import_id, line"),
        ("documents", "id"),
    ] {
        let mut st = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                let cols: Vec<String> = (0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect();
                Ok(format!("{table}: {}", cols.join("|")))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    let mut st = conn
        .prepare("SELECT key, status, lines_done, rows_read, imported, duplicates, skipped, ignored FROM imports ORDER BY id")
        .unwrap();
    let rows = st
        .query_map([], |r| {
            Ok(format!(
                "imports: {}|{}|{}|{}|{}|{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    out
}

/// (format, fixture, --user, [rows_read, imported, duplicates, skipped, ignored])
const CASES: &[(&str, &str, Option<&str>, [u64; 5])] = &[
    ("lastfm-1k", "lastfm-1k/good.tsv", None, [9, 8, 1, 0, 0]),
    ("lastfm-1k", "lastfm-1k/malformed.tsv", None, [8, 2, 0, 6, 0]),
    ("lastfm-1k", "lastfm-1k/latin1.tsv", None, [3, 2, 0, 1, 0]),
    ("lastfm-1k", "lastfm-1k/truncated.tsv", None, [3, 2, 0, 1, 0]),
    ("lastfm-1k", "lastfm-1k/empty.tsv", None, [0, 0, 0, 0, 0]),
    ("lastfm-1k", "lastfm-1k/good.tsv.gz", None, [9, 0, 9, 0, 0]),
    ("lastfm-360k", "lastfm-360k/sample.tsv", None, [7, 4, 0, 2, 1]),
    ("msd-triplets", "msd/triplets.tsv", None, [8, 5, 0, 3, 0]),
    ("listenbrainz", "listenbrainz/listens.jsonl", None, [10, 4, 1, 5, 0]),
    ("listenbrainz", "listenbrainz/listens-array.json", None, [2, 2, 0, 0, 0]),
    ("spotify-history", "spotify/Streaming_History_Audio_2023.json", None, [7, 4, 0, 2, 1]),
    ("spotify-history", "spotify/StreamingHistory0.json", Some("sam"), [3, 2, 0, 1, 0]),
    // Its complete element is the 2023 export's first: a duplicate.
    ("spotify-history", "spotify/truncated.json", None, [2, 0, 1, 1, 0]),
    ("csv", "csv/plays.csv", None, [8, 4, 0, 3, 1]),
    ("csv", "csv/events.csv", None, [4, 2, 1, 1, 0]),
    ("catalog", "catalog/catalog.jsonl", None, [5, 2, 0, 3, 0]),
];

fn run_case(data: &Path, (format, rel, user, _): &(&str, &str, Option<&str>, [u64; 5])) -> Value {
    let path = fixture(rel);
    let mut args = vec!["import", "--format", format, path.as_str(), "--json"];
    if let Some(u) = user {
        args.extend(["--user", u]);
    }
    let out = encore(data, &args);
    assert!(out.status.success(), "{rel}: {}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    v["files"][0].clone()
}

#[test]
fn import_every_fixture_reimport_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for case in CASES {
        let s = run_case(data, case);
        let got: Vec<u64> = ["rows_read", "imported", "duplicates", "skipped", "ignored"]
            .iter()
            .map(|k| s[k].as_u64().unwrap())
            .collect();
        assert_eq!(got, case.3, "{}", case.1);
        assert_eq!(s["status"], "imported", "{}", case.1);
        let errors = s["errors"].as_array().unwrap();
        assert_eq!(errors.len() as u64, case.3[3], "{}: every malformed row listed", case.1);
        for e in errors {
            assert!(e["file"].as_str().unwrap().ends_with(case.1));
            assert!(e["line"].as_u64().unwrap() >= 1);
        }
    }
    let before = dump(data);
    for case in CASES {
        let s = run_case(data, case);
        assert_eq!(s["status"], "already-imported", "{}", case.1);
    }
    assert_eq!(dump(data), before, "re-importing every fixture changed the store");

    let out = encore(data, &["stats", "--json"]);
    assert!(out.status.success());
    let st = json(&out);
    assert_eq!(st["imports"], CASES.len() as u64);
    assert_eq!(st["listens"], 8 + 2 + 2 + 2 + 4 + 2 + 4 + 2 + 2);
    assert_eq!(st["artist_count_rows"], 4);
    assert!(st["songs_matrix"]["density"].as_f64().unwrap() > 0.0);
    let human = encore(data, &["stats"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("plays per (user, song):"));
}

#[test]
fn wrong_format_is_refused_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let lb = fixture("listenbrainz/listens.jsonl");
    let good = fixture("msd/triplets.tsv");
    let out = encore(dir.path(), &["import", "--format", "msd-triplets", &lb, &good, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert!(v["failed"][0]["error"].as_str().unwrap().contains("it looks like listenbrainz"), "{v}");
    assert_eq!(v["files"][0]["imported"], 5);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not look like msd-triplets"), "{err}");

    let out = encore(dir.path(), &["import", "--format", "parquet-ish", &good]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format"));
}

#[test]
fn crash_mid_import_then_rerun_equals_one_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("listens.tsv");
    let file_s = file.display().to_string();
    let out = encore(dir.path(), &["gen", "lastfm-1k", "--rows", "30000", "--users", "6", "--out", &file_s]);
    assert!(out.status.success());

    let clean = dir.path().join("clean");
    let out = encore(&clean, &["import", "--format", "lastfm-1k", &file_s, "--json"]);
    assert!(out.status.success());

    // Commit every 4,000 rows and die (abort, as a kill would) after 17,500:
    // 16,000 rows are committed, 1,500 are in a transaction that is lost.
    let crashed = dir.path().join("crashed");
    let out = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(["--data-dir", crashed.to_str().unwrap(), "import", "--format", "lastfm-1k", &file_s])
        .env("ENCORE_IMPORT_COMMIT_ROWS", "4000")
        .env("ENCORE_TEST_CRASH_AFTER_ROWS", "17500")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash hook fired");
    let partial: i64 = rusqlite::Connection::open(crashed.join("encore.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM listens", [], |r| r.get(0))
        .unwrap();
    assert!(partial > 0 && partial < 30000, "a partial import is on disk ({partial})");

    let out = encore(&crashed, &["import", "--format", "lastfm-1k", &file_s, "--json"]);
    assert!(out.status.success());
    assert_eq!(json(&out)["files"][0]["status"], "resumed");
    assert_eq!(dump(&crashed), dump(&clean));
}

#[test]
fn demo_generates_imports_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["demo", "--users", "40", "--songs", "30", "--clip-seconds", "2", "--no-serve", "--json"];
    let out = encore(dir.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["stats"]["songs"], 30);
    assert_eq!(v["stats"]["users"], 40);
    assert!(v["stats"]["listens"].as_u64().unwrap() > 100);
    let wavs = std::fs::read_dir(dir.path().join("demo/audio")).unwrap().count();
    assert_eq!(wavs, 30);
    assert!(dir.path().join("demo/text/articles.jsonl").exists());
    assert!(v["imports"].as_array().unwrap().iter().all(|s| s["skipped"] == 0));
    assert!(v["text"]["added"].as_u64().unwrap() > 10, "{}", v["text"]);
    assert!(v["text_model"]["artists"].as_u64().unwrap() > 0);
    // It ends with a trained engine and a sample discovery playlist.
    assert!(v["trained"]["release"].as_str().unwrap().ends_with("v000001"), "{}", v["trained"]);
    let sample = v["sample_discovery"]["recommendations"].as_array().unwrap();
    // One song per artist: this tiny world has few artists to spread over.
    assert!((3..=10).contains(&sample.len()), "{}", sample.len());
    assert!(sample.iter().all(|r| !r["explanation"].as_str().unwrap().is_empty()));

    let before = dump(dir.path());
    let again = json(&encore(dir.path(), &args));
    assert!(again["imports"].as_array().unwrap().iter().all(|s| s["status"] == "already-imported"));
    assert_eq!(again["text"]["added"], 0);
    assert_eq!(dump(dir.path()), before);

    let human = encore(dir.path(), &["demo", "--users", "40", "--songs", "30", "--clip-seconds", "2", "--no-serve"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("users            40"), "{text}");
}

#[test]
fn train_cf_then_recommend_and_similar() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = encore(
        data,
        &["demo", "--users", "60", "--songs", "40", "--clip-seconds", "1", "--no-serve", "--no-train", "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = encore(data, &["recommend", "--user", "listener_00003"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `encore train cf` first"));

    let out = encore(data, &["train", "cf", "--factors", "8", "--iterations", "5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = json(&out);
    assert_eq!(t["users"], 60);
    assert_eq!(t["metrics"]["seconds_per_iteration"].as_array().unwrap().len(), 5);
    assert!(t["version_dir"].as_str().unwrap().ends_with("v000001"));

    let out = encore(data, &["recommend", "--user", "listener_00003", "-n", "5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    let recs = r["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 5);
    // Nothing the user has played, and every recommendation explained.
    let conn = rusqlite::Connection::open(data.join("encore.db")).unwrap();
    let played: Vec<i64> = conn
        .prepare(
            "SELECT DISTINCT l.song_id FROM listens l JOIN users u ON u.id = l.user_id WHERE u.name = 'listener_00003'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for rec in recs {
        assert!(!played.contains(&rec["song"]["id"].as_i64().unwrap()));
        assert!(!rec["explanation"].as_str().unwrap().is_empty(), "{rec}");
    }
    // CF alone: Hu et al.'s exact explanation, a played song for each.
    let cf = json(&encore(data, &["recommend", "--user", "listener_00003", "-n", "5", "--model", "cf", "--json"]));
    for rec in cf["recommendations"].as_array().unwrap() {
        assert!(!played.contains(&rec["song"]["id"].as_i64().unwrap()));
        assert!(!rec["because"].as_array().unwrap().is_empty());
    }
    let first = recs[0]["song"]["id"].as_i64().unwrap().to_string();
    let out = encore(data, &["similar", "--song", &first, "-n", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["similar"].as_array().unwrap().len(), 3);

    let out = encore(data, &["recommend", "--user", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user called \"nobody\""));
    let out = encore(data, &["train", "cf", "--factors", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid factors = 0"));
}

#[test]
fn train_cf_on_an_imported_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for (f, p) in [("lastfm-1k", "lastfm-1k/good.tsv"), ("listenbrainz", "listenbrainz/listens.jsonl")] {
        assert!(encore(data, &["import", "--format", f, &fixture(p)]).status.success());
    }
    let out = encore(data, &["train", "cf", "--factors", "4", "--iterations", "3", "--solver", "cholesky"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = encore(data, &["recommend", "--user", "user_000003", "-n", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["recommendations"].as_array().unwrap().len(), 3);
}

#[test]
fn eval_and_tune_on_the_demo_world() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = encore(
        data,
        &["demo", "--users", "150", "--songs", "80", "--clip-seconds", "1", "--no-serve", "--no-train", "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = encore(data, &["eval", "--factors", "16", "--regularization", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let get = |model: &str, metric: &str| {
        v["results"].as_array().unwrap().iter().find(|r| r["model"] == model).unwrap()["metrics"][metric]
            .as_f64()
            .unwrap()
    };
    for metric in
        ["ndcg", "precision", "map", "auc", "precision_at_k", "recall_at_k", "full_auc", "mpr", "coverage", "novelty"]
    {
        assert!(get("cf", metric).is_finite(), "{metric}");
    }
    assert!(get("cf", "ndcg") > 2.0 * get("random", "ndcg"), "{v}");
    assert!(get("cf", "full_auc") > 0.6);
    assert!((get("random", "mpr") - 0.5).abs() < 0.05);

    let out = encore(data, &["eval", "--split", "time", "--days", "5", "--model", "popular", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = encore(
        data,
        &[
            "tune",
            "--grid-factors",
            "8,16",
            "--grid-regularization",
            "0.1,1",
            "--grid-alpha",
            "1",
            "--iterations",
            "5",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = json(&out);
    assert_eq!(t["trials"].as_array().unwrap().len(), 4);
    assert_eq!(t["test"].as_array().unwrap().len(), 2);
}

#[test]
fn factors_round_trip_through_spark_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(encore(
        data,
        &["demo", "--users", "50", "--songs", "30", "--clip-seconds", "1", "--no-serve", "--no-train"]
    )
    .status
    .success());
    assert!(encore(data, &["train", "cf", "--factors", "6", "--iterations", "3"]).status.success());
    let before = json(&encore(data, &["recommend", "--user-id", "4", "--as-trained", "-n", "5", "--json"]));
    let spark = data.join("spark-model");
    let out = encore(data, &["factors", "export", "--out", spark.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(spark.join("userFactors/part-00000.parquet").exists());
    assert!(spark.join("metadata/part-00000").exists());
    let out = encore(data, &["factors", "import", "--from", spark.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json(&out)["version_dir"].as_str().unwrap().ends_with("v000002"));
    let after = json(&encore(data, &["recommend", "--user-id", "4", "--as-trained", "-n", "5", "--json"]));
    let ids = |v: &Value| {
        v["recommendations"].as_array().unwrap().iter().map(|r| r["song"]["id"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));
    let out = encore(data, &["factors", "import", "--from", data.join("nowhere").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    let csv = data.join("inter.csv");
    assert!(encore(data, &["export", "interactions", "--out", csv.to_str().unwrap()]).status.success());
    assert!(std::fs::read_to_string(&csv).unwrap().starts_with("user,item,plays,skips\n"));
}

fn text_fixture(rel: &str) -> String {
    manifest_dir().join("../../fixtures/text").join(rel).display().to_string()
}

#[test]
fn text_ingest_train_describe_search() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(encore(data, &["import", "--format", "catalog", &fixture("catalog/text-world.jsonl")]).status.success());
    // The small fixtures, not the realistic corpus beside them.
    let inputs = [text_fixture("articles.jsonl"), text_fixture("crawl.warc.gz"), text_fixture("pages")];
    let ingest = |json_flag: &str| {
        let mut args = vec!["text", "ingest"];
        args.extend(inputs.iter().map(String::as_str));
        args.push(json_flag);
        encore(data, &args)
    };
    let out = ingest("--json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    // 4 pages (the empty one and the PDF are not documents), 3 good JSON
    // lines of which one repeats a URL, 2 complete WARC records.
    assert_eq!(
        (r["documents_read"].as_u64(), r["added"].as_u64(), r["duplicates"].as_u64()),
        (Some(9), Some(8), Some(1))
    );
    let problems: Vec<(String, u64, String)> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let f = p["file"].as_str().unwrap();
            (
                f[f.rfind("text/").unwrap() + 5..].to_string(),
                p["at"].as_u64().unwrap(),
                p["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let kinds: Vec<(&str, u64)> = problems.iter().map(|p| (p.0.as_str(), p.1)).collect();
    assert_eq!(
        kinds,
        vec![
            ("articles.jsonl", 2),
            ("articles.jsonl", 3),
            ("crawl.warc.gz", 610),
            ("pages/empty.html", 0),
            ("pages/latin1.html", 5)
        ],
        "{problems:?}"
    );
    assert!(problems[2].2.starts_with("truncated WARC record"));
    // Re-ingesting adds nothing.
    let again = json(&ingest("--json"));
    assert_eq!(again["added"], 0);

    let out = encore(data, &["text", "train", "--min-df", "1", "--max-df-share", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let terms = |artist: &str| -> Vec<String> {
        let v = json(&encore(data, &["text", "describe", "--artist", artist, "-n", "40", "--json"]));
        v["terms"].as_array().unwrap().iter().map(|t| t[0].as_str().unwrap().to_string()).collect()
    };
    let moon = terms("Moon Pilots");
    for t in ["dreamy hazy", "hazy", "nocturnal", "wistful"] {
        assert!(moon.contains(&t.to_string()), "Moon Pilots lacks {t}: {moon:?}");
    }
    // "It sounds nothing like The Sunbeams, whose records are sunny and
    // brash" gives nobody anything; The Sunbeams are sunny from elsewhere.
    let sun = terms("The Sunbeams");
    assert!(
        sun.contains(&"sunny".to_string()) && !sun.iter().any(|t| t.contains("dreamy") || t.contains("wistful")),
        "{sun:?}"
    );
    // Sentence-initial "Yes," is the word, not the band.
    let yes = terms("Yes");
    assert!(yes.contains(&"virtuosic".to_string()) && !yes.contains(&"dreamy".to_string()), "{yes:?}");
    assert!(terms("Glass Owls").contains(&"noisy".to_string()));
    let air = json(&encore(data, &["text", "describe", "--artist", "AIR", "--json"]));
    assert_eq!(air["comentioned"][0]["artist"], "Moon Pilots");

    let s = json(&encore(data, &["text", "search", "dreamy hazy", "-n", "3", "--json"]));
    assert_eq!(s["results"][0]["name"], "Moon Pilots");
    let out = encore(data, &["text", "describe", "--artist", "Nobody"]);
    assert_eq!(out.status.code(), Some(1));
}

/// The hand-written corpus of fixtures/text/realistic through the README's
/// commands with their defaults, scored by `text quality --expected`.
#[test]
fn text_model_on_realistic_prose() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let corpus = |rel: &str| text_fixture(&format!("realistic/{rel}"));
    assert!(encore(data, &["import", "--format", "catalog", &corpus("catalog.jsonl")]).status.success());
    let out = encore(
        data,
        &["text", "ingest", &corpus("pages"), &corpus("blog"), &corpus("forum"), &corpus("interviews.jsonl"), "--json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["added"], 41, "{}", String::from_utf8_lossy(&out.stdout));
    let out = encore(data, &["text", "train", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stats = &json(&out)["stats"];
    assert_eq!(stats["min_df"], 1, "{stats}");
    assert!(stats["silent"].as_array().unwrap().is_empty(), "{stats}");
    // Menus and footers repeated on 5+ pages: 22 blocks when this was written.
    assert!(stats["boilerplate_blocks"].as_u64().unwrap() >= 10, "{stats}");

    let q = json(&encore(data, &["text", "quality", "--expected", &corpus("expected.tsv"), "--json"]));
    for s in q["splits"].as_array().unwrap() {
        assert_eq!(s["contrast_leaks"], 0, "{s}");
        assert_eq!(s["silent_artists"], 0, "{s}");
        assert_eq!(s["search_first"], 1.0, "{s}");
    }
    let all = q["splits"].as_array().unwrap().iter().find(|s| s["split"] == "all").unwrap();
    assert!(all["precision_at_10"].as_f64().unwrap() >= 0.8, "{all}");

    // Described words come back as descriptions, whatever their case and punctuation.
    let s = json(&encore(data, &["text", "search", "Jangly, SUMMERY", "-n", "3", "--json"]));
    assert_eq!(s["results"][0]["name"], "Harbor Lights", "{s}");
    assert_eq!(s["unknown_terms"].as_array().unwrap().len(), 0, "{s}");
    // Words the model has never seen are named, on stderr and in JSON.
    let out = encore(data, &["text", "search", "xylophonic plinky", "--json"]);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["unknown_terms"], serde_json::json!(["xylophonic", "plinky"]), "{v}");
    assert!(v["results"].as_array().unwrap().is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no word of the query is known"), "{out:?}");
    let out = encore(data, &["text", "search", "xylophonic plinky", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = encore(data, &["text", "search", "hazy xylophonic", "--strict"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not known to the text model: xylophonic"), "{out:?}");
}

#[test]
fn audio_analyze_reports_each_file_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(encore(
        data,
        &["demo", "--users", "10", "--songs", "6", "--clip-seconds", "8", "--no-serve", "--no-train"]
    )
    .status
    .success());
    let bad = data.join("demo/audio/zz-broken.wav");
    std::fs::write(&bad, b"RIFF....WAVEfmt garbage").unwrap();
    let out = encore(data, &["audio", "analyze", data.join("demo/audio").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["analyzed"].as_array().unwrap().len(), 6);
    assert_eq!(v["failed"].as_array().unwrap().len(), 1);
    assert!(v["failed"][0]["path"].as_str().unwrap().ends_with("zz-broken.wav"));
    // Tempo within 4 % (or an octave) of the demo world's truth.
    let truth = std::fs::read_to_string(data.join("demo/truth/songs.jsonl")).unwrap();
    for (rec, line) in v["analyzed"].as_array().unwrap().iter().zip(truth.lines()) {
        let t: Value = serde_json::from_str(line).unwrap();
        let (est, want) = (rec["tempo_bpm"].as_f64().unwrap(), t["tempo_bpm"].as_f64().unwrap());
        assert!([1.0, 2.0, 0.5].iter().any(|f| (est - want * f).abs() <= 0.04 * want * f), "{est} vs {want}");
        assert_eq!(rec["feature_version"], 4);
        assert!((rec["duration_s"].as_f64().unwrap() - 8.0).abs() < 0.05);
    }
    // The demo already analysed its clips: all six come from the store.
    assert!(v["analyzed"].as_array().unwrap().iter().all(|r| r["cached"] == true), "{v}");
    // A changed file is analysed again.
    let first = data.join("demo/audio/00000.wav");
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(&first, &bytes).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = json(&encore(data, &["audio", "analyze", first.to_str().unwrap(), "--json"]));
    assert_eq!(again["analyzed"][0]["cached"], false);

    // Issue 20: records stored with `null` loudness (as short clips were
    // before) are analysed again instead of failing the command; a header
    // that claims 1 Hz is refused with a reason and the batch goes on.
    let db = rusqlite::Connection::open(data.join("encore.db")).unwrap();
    let n = db.execute("UPDATE audio_features SET descriptors = json_set(descriptors, '$.lufs', NULL)", []).unwrap();
    assert_eq!(n, 6);
    let mut b = std::fs::read(data.join("demo/audio/00001.wav")).unwrap();
    b[24..28].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(data.join("demo/audio/zz-one-hertz.wav"), b).unwrap();
    let out = encore(data, &["audio", "analyze", data.join("demo/audio").to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["analyzed"].as_array().unwrap().len(), 6, "{v}");
    assert!(v["analyzed"].as_array().unwrap().iter().all(|r| r["cached"] == false), "{v}");
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{v}");
    assert!(failed.iter().any(|f| f["reason"].as_str().unwrap().contains("implausible sample rate 1 Hz")), "{v}");
}

#[test]
fn audio_network_train_embed_similar_and_cold_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(encore(
        data,
        &["demo", "--users", "120", "--songs", "40", "--clip-seconds", "4", "--no-serve", "--no-train"]
    )
    .status
    .success());
    // Without a CF model the network has nothing to learn from.
    let out = encore(data, &["audio", "train", "--epochs", "2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("encore train cf"), "{out:?}");
    assert!(encore(data, &["train", "cf", "--factors", "8"]).status.success());

    let t = json(&encore(data, &["audio", "train", "--epochs", "3", "--min-listeners", "1", "--json"]));
    assert!(t["targets"].as_u64().unwrap() >= 30, "{t}");
    assert_eq!(t["report"]["losses"].as_array().unwrap().len(), 3);
    // The demo analysed every clip, so the head is fitted on every target.
    assert_eq!(t["head"]["songs"], t["targets"], "{t}");
    assert!(t["head"]["penalty"].as_f64().unwrap() > 0.0, "{t}");
    let svg = std::fs::read_to_string(t["loss_plot"].as_str().unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("validation"), "{}", &svg[..100]);

    let e = json(&encore(data, &["audio", "embed", "--json"]));
    assert_eq!(e["songs"], 40, "{e}");
    assert_eq!(e["dim"], 8);

    for by in ["cnn", "descriptors"] {
        let s = json(&encore(data, &["audio", "similar", "--song", "1", "-n", "5", "--by", by, "--json"]));
        let sims = s["similar"].as_array().unwrap();
        assert_eq!(sims.len(), 5, "{s}");
        assert!(sims.iter().all(|x| x["song_id"] != 1));
        let v: Vec<f64> = sims.iter().map(|x| x["similarity"].as_f64().unwrap()).collect();
        assert!(v.windows(2).all(|w| w[0] >= w[1]), "{v:?}");
    }
    let out = encore(data, &["audio", "similar", "--song", "999999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown song id 999999"));

    let c = json(&encore(data, &["audio", "cold-start", "--epochs", "2", "--min-listeners", "1", "--json"]));
    assert_eq!(c["held_out_songs"], 8, "{c}");
    let rows = c["rows"].as_array().unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 10, "{methods:?}");
    for m in [
        "audio CNN (network + head)",
        "audio CNN, network alone",
        "descriptors through the head alone",
        "descriptor nearest neighbours",
        "audio CNN embedding neighbours",
    ] {
        assert!(methods.contains(&m), "{m}: {methods:?}");
    }
    for r in rows {
        let auc = r["auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{r}");
        assert!(r["users"].as_u64().unwrap() > 10);
    }
}

#[test]
fn train_all_then_discover_recommend_similar_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out =
        encore(data, &["demo", "--users", "150", "--songs", "120", "--clip-seconds", "3", "--no-serve", "--no-train"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = json(&encore(data, &["train", "all", "--factors", "16", "--audio-epochs", "2", "--json"]));
    assert!(t["release"].as_str().unwrap().ends_with("v000001"), "{t}");
    assert!(t["manifest"]["text"].is_string() && t["manifest"]["audio"].is_string(), "{t}");
    let weights = t["fusion"]["weights"].as_array().unwrap();
    assert_eq!(weights.len(), 6);
    assert!(weights.iter().all(|w| w.as_f64().unwrap() >= 0.0), "{t}");
    assert!(t["fusion"]["positives"].as_u64().unwrap() > 0);

    let conn = rusqlite::Connection::open(data.join("encore.db")).unwrap();
    let user = "listener_00007";
    let played: std::collections::HashSet<i64> = conn
        .prepare("SELECT DISTINCT l.song_id FROM listens l JOIN users u ON u.id = l.user_id WHERE u.name = ?1")
        .unwrap()
        .query_map([user], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let discover = |day: &str| json(&encore(data, &["discover", "--user", user, "--date", day, "-n", "10", "--json"]));
    let d1 = discover("2026-11-29");
    let ids = |d: &Value| -> Vec<i64> {
        d["recommendations"].as_array().unwrap().iter().map(|r| r["song"]["id"].as_i64().unwrap()).collect()
    };
    let first = ids(&d1);
    assert_eq!(first.len(), 10, "{d1}");
    assert_eq!(ids(&discover("2026-11-29")), first, "the same day gives the same playlist");
    let recs = d1["recommendations"].as_array().unwrap();
    let new_artists = recs.iter().filter(|r| r["new_artist"].as_bool().unwrap()).count();
    assert!(new_artists >= 3, "at least 30 % new artists: {new_artists}");
    let mut artists: Vec<i64> = recs.iter().map(|r| r["song"]["artist_id"].as_i64().unwrap()).collect();
    artists.sort_unstable();
    artists.dedup();
    assert_eq!(artists.len(), 10, "one song per artist");
    for id in &first {
        assert!(!played.contains(id));
    }
    let second = ids(&discover("2026-11-30"));
    assert!(second.iter().all(|id| !first.contains(id)), "nothing served twice");
    let out = encore(data, &["discover", "--user", user, "--date", "2026-02-30"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));

    // Recommendations with bounds, with pool sizes that only shrink.
    let r = json(&encore(
        data,
        &["recommend", "--user", user, "-n", "5", "--min-tempo", "100", "--max-tempo", "130", "--json"],
    ));
    let p = &r["pool"];
    let stages: Vec<u64> = ["candidates", "after_played", "after_excluded", "after_filters", "returned"]
        .iter()
        .map(|k| p[k].as_u64().unwrap())
        .collect();
    assert!(stages.windows(2).all(|w| w[0] >= w[1]), "{p}");
    let truth: std::collections::HashMap<i64, f64> = conn
        .prepare("SELECT s.id, s.audio_path FROM songs s")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(id, path)| {
            let a = json(&encore(data, &["audio", "analyze", &path, "--json"]));
            (id, a["analyzed"][0]["tempo_bpm"].as_f64().unwrap())
        })
        .filter(|(id, _)| r["recommendations"].as_array().unwrap().iter().any(|x| x["song"]["id"] == *id))
        .collect();
    for t in truth.values() {
        assert!((100.0..=130.0).contains(t), "tempo {t} outside the bounds");
    }
    let out = encore(data, &["recommend", "--user", user, "--min-tempo", "140", "--max-tempo", "100"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_tempo 140 is above max_tempo 100"), "{out:?}");

    for by in ["cf", "audio", "text", "hybrid"] {
        let s = json(&encore(data, &["similar", "--song", "3", "--by", by, "-n", "4", "--json"]));
        assert_eq!(s["similar"].as_array().unwrap().len(), 4, "{by}: {s}");
    }

    // The discovery playlist as files a player opens: M3U8 paths relative
    // to the library root, every one a file; JSPF to standard output; one
    // file per user with --all-users.
    let root = data.join("demo");
    let m3u = data.join("d.m3u8");
    let out = encore(
        data,
        &[
            "discover",
            "--user",
            user,
            "--date",
            "2026-12-01",
            "-n",
            "10",
            "--format",
            "m3u8",
            "--library-root",
            root.to_str().unwrap(),
            "--out",
            m3u.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&m3u).unwrap();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    let files: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(files.len(), 10, "{text}");
    for f in &files {
        assert!(!Path::new(f).is_absolute() && root.join(f).is_file(), "{f} is not a file under {}", root.display());
    }
    assert_eq!(text.matches("#EXTINF:").count(), 10);
    let j = encore(data, &["discover", "--user", user, "--date", "2026-12-01", "-n", "10", "--format", "jspf"]);
    let j: Value = serde_json::from_slice(&j.stdout).unwrap();
    let tracks = j["playlist"]["track"].as_array().unwrap();
    assert_eq!(tracks.len(), 10, "{j}");
    assert!(tracks.iter().all(|t| t["location"][0].as_str().unwrap().starts_with("file:///")), "{j}");
    assert!(tracks.iter().any(|t| t["identifier"][0].as_str().unwrap_or("").contains("musicbrainz.org/recording/")));
    let all = data.join("playlists");
    let r = json(&encore(
        data,
        &["discover", "--all-users", "--date", "2026-12-01", "-n", "5", "--out", all.to_str().unwrap(), "--json"],
    ));
    assert_eq!(r["files"], 150, "{r}");
    assert_eq!(std::fs::read_dir(&all).unwrap().count(), 150);
    let out = encore(data, &["discover", "--all-users"]);
    assert!(!out.status.success(), "--all-users without --out");

    // An instant mix: explained, the seed left out, no song twice, the same
    // list on the same day.
    let mix = |args: &[&str]| json(&encore(data, &[&["mix", "--date", "2026-11-29", "--json"], args].concat()));
    let song_ids = |v: &Value| -> Vec<i64> {
        v["items"].as_array().unwrap().iter().map(|i| i["song_id"].as_i64().unwrap()).collect()
    };
    let m = mix(&["--song", "3", "--user", user, "-n", "12"]);
    let got = song_ids(&m);
    assert_eq!(got.len(), 12, "{m}");
    assert!(!got.contains(&3));
    assert_eq!(got.iter().collect::<std::collections::HashSet<_>>().len(), 12);
    assert!(m["items"].as_array().unwrap().iter().all(|i| !i["explanation"].as_str().unwrap().is_empty()), "{m}");
    assert_eq!(song_ids(&mix(&["--song", "3", "--user", user, "-n", "12"])), got);
    // Albums, artists and genres as seeds, one weighted.
    let first = &m["items"][0];
    let album =
        m["items"].as_array().unwrap().iter().find_map(|i| i["album"].as_str()).expect("demo songs have albums");
    let artist = format!("{}@2", first["artist"].as_str().unwrap());
    let genre = first["genre"].as_str().unwrap();
    let m2 = mix(&["--album", album, "--artist", &artist, "--genre", genre, "-n", "10"]);
    let kinds: Vec<&str> = m2["seeds"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["album", "artist", "genre"], "{m2}");
    assert_eq!(m2["seeds"][1]["weight"], 2.0);
    assert_eq!(song_ids(&m2).len(), 10);
    // A playlist (M3U8 by file path), with one entry the catalog lacks.
    let path_of = |id: i64| -> String {
        conn.query_row("SELECT audio_path FROM songs WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    };
    let list = data.join("trip.m3u8");
    std::fs::write(
        &list,
        format!(
            "#EXTM3U\n#EXTINF:3,Someone - Something\n{}\n#EXTINF:3,Nobody - Nothing Known\n/nowhere/x.mp3\n{}\n",
            path_of(3),
            path_of(4)
        ),
    )
    .unwrap();
    let m3 = mix(&["--playlist", list.to_str().unwrap(), "-n", "8"]);
    assert_eq!(m3["unmatched"].as_array().unwrap().len(), 1, "{m3}");
    assert_eq!(m3["seeds"][0]["songs"], 2);
    assert!(song_ids(&m3).iter().all(|id| *id != 3 && *id != 4));
    for (args, msg) in [
        (vec!["mix", "-n", "5"], "needs a seed"),
        (vec!["mix", "--artist", "Nobody At All"], "no artist named"),
        (vec!["mix", "--song", "3", "--temperature", "9"], "temperature"),
        (vec!["path", "--from", "3", "--to", "3"], "two different songs"),
    ] {
        let out = encore(data, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(msg),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A path from song 3 to song 90.
    let p = json(&encore(data, &["path", "--from", "3", "--to", "90", "-n", "9", "--json"]));
    let steps = song_ids(&p);
    assert_eq!(steps.len(), 9, "{p}");
    assert_eq!((steps[0], steps[8]), (3, 90));
    assert_eq!(steps.iter().collect::<std::collections::HashSet<_>>().len(), 9);
    assert!(p["stats"]["max_step"].as_f64().unwrap() >= p["stats"]["mean_step"].as_f64().unwrap());
    // Rediscovery, for the listener with the most songs played three times
    // or more and then not for 14 days before their latest listen: the same
    // list all day, none of it again the next day.
    let lover: String = conn
        .query_row(
            "WITH p AS (SELECT user_id, song_id, count(*) AS n, max(ts) AS last FROM listens
                        WHERE coalesce(skipped, 0) = 0 AND (ms_played IS NULL OR ms_played >= 30000)
                        GROUP BY user_id, song_id),
                  u AS (SELECT user_id, max(ts) AS latest FROM listens GROUP BY user_id)
             SELECT users.name FROM p JOIN u USING (user_id) JOIN users ON users.id = p.user_id
             WHERE p.n >= 3 AND u.latest - p.last >= 14 * 86400
             GROUP BY p.user_id ORDER BY count(*) DESC, users.name LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let red = |day: &str| json(&encore(data, &["rediscover", "--user", &lover, "--date", day, "-n", "5", "--json"]));
    let r1 = song_ids(&red("2026-11-29"));
    assert!(!r1.is_empty(), "{lover} loved and left something");
    assert_eq!(song_ids(&red("2026-11-29")), r1);
    assert!(song_ids(&red("2026-11-30")).iter().all(|id| !r1.contains(id)));
    // The fingerprint: clusters of played songs, a mix of unplayed ones.
    let f = json(&encore(data, &["fingerprint", "--user", user, "-n", "6", "--json"]));
    assert!(!f["clusters"].as_array().unwrap().is_empty(), "{f}");
    let fp = song_ids(&f);
    assert_eq!(fp.len(), 6);
    assert!(fp.iter().all(|id| !played.contains(id)));

    // Candidate retrieval answers as scoring the whole catalog does: exact
    // scans with catalog moments give the same lists, HNSW for every set
    // nearly the same.
    let list = |u: &str, mode: &str| {
        ids(&json(&encore(data, &["recommend", "--user", u, "-n", "10", "--candidates", mode, "--json"])))
    };
    let overlap = |a: &[i64], b: &[i64]| a.iter().filter(|x| b.contains(x)).count() as f64 / a.len().max(1) as f64;
    let users: Vec<String> = (0..150).step_by(19).map(|u| format!("listener_{u:05}")).collect();
    let (mut index, mut ann) = (0.0, 0.0);
    for u in &users {
        let scan = list(u, "scan");
        assert_eq!(scan.len(), 10, "{u}");
        index += overlap(&scan, &list(u, "index")) / users.len() as f64;
        ann += overlap(&scan, &list(u, "ann")) / users.len() as f64;
    }
    assert!(index >= 0.95, "index vs scan top-10 overlap {index}");
    assert!(ann >= 0.8, "ann vs scan top-10 overlap {ann}");

    let report = data.join("report");
    let e = json(&encore(
        data,
        &[
            "eval",
            "--model",
            "hybrid,cf,audio,text,popular,random",
            "--factors",
            "16",
            "--report",
            report.to_str().unwrap(),
            "--json",
        ],
    ));
    let ndcg = |m: &str| {
        e["results"].as_array().unwrap().iter().find(|r| r["model"] == m).unwrap()["metrics"]["ndcg"].as_f64().unwrap()
    };
    for m in ["cf", "audio", "text", "popular", "random"] {
        assert!(ndcg("hybrid") > ndcg(m), "hybrid {} vs {m} {}", ndcg("hybrid"), ndcg(m));
    }
    assert!(std::fs::read_to_string(report.join("report.md")).unwrap().contains("| hybrid |"));
    assert!(std::fs::read_to_string(report.join("metrics.svg")).unwrap().starts_with("<svg"));
}
