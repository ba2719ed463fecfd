//! Every fixture under `fixtures/listens` imported into a fresh store, with
//! exact expected counts and error lines.

use std::path::PathBuf;

use encore_ingest::{import_file, Error, Format, ImportOptions, ImportStatus, ImportSummary, ParseOptions};
use encore_store::Store;

/// The package folder, as cargo gives it to the running test (a test binary
/// reused from a build directory shared by clones at other paths would
/// otherwise carry the path of the clone that built it).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

fn fixture(rel: &str) -> PathBuf {
    manifest_dir().join("../../fixtures/listens").join(rel)
}

fn import(store: &mut Store, format: Format, rel: &str, user: Option<&str>) -> encore_ingest::Result<ImportSummary> {
    let opts = ImportOptions { parse: ParseOptions { user: user.map(str::to_string) }, ..Default::default() };
    import_file(store, format, &fixture(rel), &opts, &mut |_, _| {})
}

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn count(store: &Store, table: &str) -> i64 {
    store.conn().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

/// (rows_read, imported, duplicates, skipped, ignored)
fn counts(s: &ImportSummary) -> (u64, u64, u64, u64, u64) {
    (s.rows_read, s.imported, s.duplicates, s.skipped, s.ignored)
}

/// (line, reason) of every reported error.
fn errors(s: &ImportSummary) -> Vec<(u64, String)> {
    s.errors.iter().map(|e| (e.line, e.reason.clone())).collect()
}

#[test]
fn lastfm_1k_good_matches_names_and_ids() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/good.tsv", None).unwrap();
    assert_eq!(s.status, ImportStatus::Imported);
    assert_eq!(counts(&s), (9, 8, 1, 0, 0));
    assert_eq!(count(&store, "users"), 3);
    // "Björk – Jóga" and "BJORK – joga" are one song by one artist.
    assert_eq!(count(&store, "songs"), 7);
    assert_eq!(count(&store, "artists"), 4);
    assert_eq!(count(&store, "listens"), 8);
    let m = store.interactions().unwrap();
    m.validate().unwrap();
    assert_eq!((m.n_users(), m.n_items(), m.nnz()), (3, 7, 8));
}

#[test]
fn lastfm_1k_malformed_rows_are_reported_with_lines() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/malformed.tsv", None).unwrap();
    assert_eq!(counts(&s), (8, 2, 0, 6, 0));
    assert_eq!(
        errors(&s),
        vec![
            (2, "expected 6 tab-separated fields, got 4".to_string()),
            (3, "invalid timestamp \"not-a-time\"".to_string()),
            (4, "empty user id".to_string()),
            (5, "invalid MusicBrainz id \"not-an-mbid\"".to_string()),
            (6, "no artist name or id".to_string()),
            (8, "no track name or id".to_string()),
        ]
    );
    assert!(s.errors.iter().all(|e| e.file.ends_with("lastfm-1k/malformed.tsv")));
}

#[test]
fn lastfm_1k_wrong_encoding_truncation_and_empty() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/latin1.tsv", None).unwrap();
    assert_eq!(counts(&s), (3, 2, 0, 1, 0));
    assert_eq!(errors(&s), vec![(2, "invalid UTF-8 at byte 41".to_string())]);

    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/truncated.tsv", None).unwrap();
    assert_eq!(counts(&s), (3, 2, 0, 1, 0));
    assert_eq!(errors(&s), vec![(3, "expected 6 tab-separated fields, got 2".to_string())]);

    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/empty.tsv", None).unwrap();
    assert_eq!(counts(&s), (0, 0, 0, 0, 0));
}

#[test]
fn gzip_input_and_overlapping_files() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/good.tsv.gz", None).unwrap();
    assert_eq!(counts(&s), (9, 8, 1, 0, 0));
    // The same rows in another file (the uncompressed copy) add nothing.
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/good.tsv", None).unwrap();
    assert_eq!(s.status, ImportStatus::Imported);
    assert_eq!(counts(&s), (9, 0, 9, 0, 0));
    assert_eq!(count(&store, "listens"), 8);
}

#[test]
fn truncated_gzip_keeps_what_came_before_and_reports_the_break() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/truncated.tsv.gz", None).unwrap();
    let last = s.errors.last().expect("the break is reported");
    assert!(last.reason.starts_with("input ends abruptly"), "{}", last.reason);
    assert_eq!(s.skipped, 1);
    assert!(s.imported < 8);
    assert_eq!(count(&store, "listens") as u64, s.imported);
}

#[test]
fn reimport_is_a_no_op() {
    let (_d, mut store) = fresh();
    import(&mut store, Format::Lastfm1k, "lastfm-1k/good.tsv", None).unwrap();
    let before = (count(&store, "listens"), count(&store, "songs"), count(&store, "imports"));
    let s = import(&mut store, Format::Lastfm1k, "lastfm-1k/good.tsv", None).unwrap();
    assert_eq!(s.status, ImportStatus::AlreadyImported);
    assert_eq!(counts(&s), (9, 8, 1, 0, 0), "the summary repeats the first import's counts");
    assert_eq!((count(&store, "listens"), count(&store, "songs"), count(&store, "imports")), before);
}

#[test]
fn lastfm_360k_artist_counts() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Lastfm360k, "lastfm-360k/sample.tsv", None).unwrap();
    assert_eq!(counts(&s), (7, 4, 0, 2, 1));
    assert_eq!(
        errors(&s),
        vec![(5, "invalid play count \"zero\"".to_string()), (7, "expected 4 tab-separated fields, got 2".to_string())]
    );
    assert_eq!(count(&store, "artists"), 3, "die Ärzte matched by MusicBrainz id");
    assert_eq!(count(&store, "artist_counts"), 4);
    let m = store.artist_interactions().unwrap();
    m.validate().unwrap();
    assert_eq!((m.n_users(), m.nnz()), (2, 4));
    assert_eq!(m.plays.iter().sum::<f32>(), 2137.0 + 1099.0 + 897.0 + 12.0);
}

#[test]
fn msd_triplets_song_counts() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::MsdTriplets, "msd/triplets.tsv", None).unwrap();
    assert_eq!(counts(&s), (8, 5, 0, 3, 0));
    assert_eq!(
        errors(&s),
        vec![
            (6, "invalid play count \"-3\"".to_string()),
            (7, "empty song id".to_string()),
            (8, "expected 3 tab-separated fields, got 4".to_string())
        ]
    );
    assert_eq!((count(&store, "songs"), count(&store, "users"), count(&store, "song_counts")), (4, 2, 5));
    let m = store.interactions().unwrap();
    assert_eq!(m.plays.iter().sum::<f32>(), 12.0);
}

#[test]
fn listenbrainz_lines_and_array() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::ListenBrainz, "listenbrainz/listens.jsonl", None).unwrap();
    assert_eq!(counts(&s), (10, 4, 1, 5, 0));
    let e = errors(&s);
    assert_eq!(e.iter().map(|e| e.0).collect::<Vec<_>>(), vec![4, 6, 7, 8, 9]);
    assert_eq!(e[0].1, "no listened_at");
    assert_eq!(e[1].1, "no track_metadata.track_name");
    assert!(e[2].1.starts_with("invalid JSON"), "{}", e[2].1);
    assert_eq!(e[3].1, "invalid MusicBrainz id \"nope\"");
    assert_eq!(e[4].1, "expected a JSON object");
    // "portishead – GLORY BOX" without ids is the song with the MusicBrainz id.
    assert_eq!(count(&store, "songs"), 3);
    let spotify: String =
        store.conn().query_row("SELECT spotify_uri FROM songs WHERE title = 'Roads'", [], |r| r.get(0)).unwrap();
    assert_eq!(spotify, "spotify:track:2Fxmhks0bxGSBdJ92vM42m");

    let s = import(&mut store, Format::ListenBrainz, "listenbrainz/listens-array.json", None).unwrap();
    assert_eq!(counts(&s), (2, 2, 0, 0, 0));
    assert_eq!(s.errors.len(), 0);
}

#[test]
fn spotify_extended_keeps_skips_as_skips() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::SpotifyHistory, "spotify/Streaming_History_Audio_2023.json", None).unwrap();
    assert_eq!(counts(&s), (7, 4, 0, 2, 1));
    let e = errors(&s);
    assert_eq!(e[0], (86, "ms_played: expected an integer, got \"lots\"".to_string()));
    assert_eq!(e[1].1, "neither an extended (ts) nor an old (endTime) streaming-history entry");
    let m = store.interactions().unwrap();
    // Midnight City: 2 full plays; Wait: skipped; Reunion: a 5 s play.
    let row = m.row(0);
    assert_eq!(row.plays, &[2.0, 0.0, 0.0]);
    assert_eq!(row.skips, &[0, 1, 1]);
    let s2 = store.stats().unwrap();
    assert_eq!((s2.listens, s2.skipped_listens), (4, 2));
}

#[test]
fn spotify_old_export_needs_a_user() {
    let (_d, mut store) = fresh();
    let err = import(&mut store, Format::SpotifyHistory, "spotify/StreamingHistory0.json", None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::NeedsUser { .. }), "refused up front, before any row: {msg}");
    assert!(msg.contains("pass --user"), "{msg}");
    assert_eq!(count(&store, "imports"), 0, "a refused file leaves no trace");

    let s = import(&mut store, Format::SpotifyHistory, "spotify/StreamingHistory0.json", Some("sam")).unwrap();
    assert_eq!(counts(&s), (3, 2, 0, 1, 0));
    assert_eq!(errors(&s), vec![(14, "invalid endTime \"2019-02-01 17:xx\"".to_string())]);
    let m = store.interactions().unwrap();
    assert_eq!(m.row(0).skips, &[0, 1], "a 9 s play is a short play");
}

#[test]
fn spotify_truncated_array() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::SpotifyHistory, "spotify/truncated.json", None).unwrap();
    assert_eq!(counts(&s), (2, 1, 0, 1, 0));
    assert!(s.errors[0].reason.contains("incomplete"), "{:?}", s.errors);
}

#[test]
fn csv_counts_and_events() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Csv, "csv/plays.csv", None).unwrap();
    assert_eq!(counts(&s), (8, 4, 0, 3, 1));
    assert_eq!(
        errors(&s),
        vec![
            (5, "invalid count \"abc\"".to_string()),
            (6, "empty item".to_string()),
            (7, "expected 4 fields, got 3".to_string())
        ]
    );
    assert_eq!(count(&store, "songs"), 3, "Hyperballad by Björk and BJÖRK is one song");

    let s = import(&mut store, Format::Csv, "csv/events.csv", None).unwrap();
    assert_eq!(counts(&s), (4, 2, 1, 1, 0));
    assert_eq!(errors(&s), vec![(5, "invalid timestamp \"yesterday\"".to_string())]);

    let err = import(&mut store, Format::Csv, "csv/bad-header.csv", None).unwrap_err();
    assert!(err.to_string().contains("no user and item columns"), "{err}");
}

#[test]
fn a_portable_players_scrobbler_log() {
    let (_d, mut store) = fresh();
    let err = import(&mut store, Format::ScrobblerLog, "scrobbler-log/scrobbler.log", None).unwrap_err();
    assert!(matches!(err, Error::NeedsUser { .. }), "{err}");
    assert_eq!(count(&store, "imports"), 0);
    let s = import(&mut store, Format::ScrobblerLog, "scrobbler-log/scrobbler.log", Some("ana")).unwrap();
    // 3 header lines ignored; Roads, Jóga (skipped), Teardrop (7 fields)
    // stored; the second Roads is the same event; a bad time and a row
    // without a title reported.
    assert_eq!(counts(&s), (9, 3, 1, 2, 3), "{:?}", s.errors);
    assert_eq!(errors(&s).iter().map(|e| e.0).collect::<Vec<_>>(), vec![6, 7]);
    let (skipped, album, mbid): (i64, String, String) = store
        .conn()
        .query_row(
            "SELECT l.skipped, s.release, s.mbid FROM listens l JOIN songs s ON s.id = l.song_id WHERE s.title = 'Jóga'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((skipped, album.as_str(), mbid.as_str()), (1, "Homogenic", "0b7b6f4e-2b41-4b53-9c1e-3d6f0b8a9c11"));
    assert_eq!(
        Format::detect(&std::fs::read(fixture("scrobbler-log/scrobbler.log")).unwrap()),
        Some(Format::ScrobblerLog)
    );
}

#[test]
fn csv_play_counts_with_their_last_play() {
    // A music-library export: play count + last played. A count of 1 is one
    // listen, 0 is ignored, a time in the year 3000 is refused, and two rows
    // of one song add up with the later time kept.
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Csv, "csv/library-export.csv", None).unwrap();
    assert_eq!(counts(&s), (5, 3, 0, 1, 1), "{:?}", s.errors);
    assert_eq!(errors(&s).len(), 1);
    assert!(errors(&s)[0].1.contains("in the future"), "{:?}", errors(&s));
    let (plays, last): (i64, i64) = store
        .conn()
        .query_row(
            "SELECT c.plays, c.last_ts FROM song_counts c JOIN songs s ON s.id = c.song_id WHERE s.title = 'Jóga'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((plays, last), (14, 1_717_236_000));
    assert_eq!(count(&store, "listens"), 1);
    let user: i64 = store.user_id("ana").unwrap().unwrap();
    let h = store.user_history(user).unwrap();
    let joga = h.iter().find(|e| e.plays == 14.0).expect("Jóga in the history");
    assert_eq!(joga.last_played, 1_717_236_000, "the history knows the last play");
    let m = store.interactions().unwrap();
    assert!(m.last_played.contains(&1_717_236_000));
    // Importing it again changes nothing.
    let again = import(&mut store, Format::Csv, "csv/library-export.csv", None).unwrap();
    assert_eq!(again.status, ImportStatus::AlreadyImported);
}

#[test]
fn catalog_entries() {
    let (_d, mut store) = fresh();
    let s = import(&mut store, Format::Catalog, "catalog/catalog.jsonl", None).unwrap();
    assert_eq!(counts(&s), (5, 2, 0, 3, 0));
    assert_eq!(errors(&s).iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4, 5]);
    // A later listen by MusicBrainz id lands on the catalog's song.
    import(&mut store, Format::ListenBrainz, "listenbrainz/listens.jsonl", None).unwrap();
    let genre: String = store
        .conn()
        .query_row(
            "SELECT s.genre FROM songs s JOIN listens l ON l.song_id = s.id WHERE s.title = 'Glory Box' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(genre, "trip-hop");
}

#[test]
fn wrong_format_fails_fast_with_a_hint() {
    let (_d, mut store) = fresh();
    let err = import(&mut store, Format::Lastfm1k, "listenbrainz/listens.jsonl", None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("does not look like lastfm-1k"), "{msg}");
    assert!(msg.ends_with("it looks like listenbrainz"), "{msg}");
    let err = import(&mut store, Format::MsdTriplets, "lastfm-1k/good.tsv", None).unwrap_err();
    assert!(err.to_string().ends_with("it looks like lastfm-1k"), "{err}");
    assert_eq!(count(&store, "imports"), 0);
    assert_eq!(count(&store, "users"), 0);
}
