//! The streamed, merged CSR build against the obvious aggregation.

use std::collections::BTreeMap;

use encore_store::{ImportStart, Store};
use encore_types::{ArtistRef, Record, TrackRef, SHORT_PLAY_MS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Ev {
    Listen { user: u8, song: u8, ts: i64, ms: Option<u32>, skipped: Option<bool> },
    Count { user: u8, song: u8, plays: u32 },
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        3 => (0u8..6, 0u8..8, 1i64..50, proptest::option::of(0u32..60_000), proptest::option::of(any::<bool>()))
            .prop_map(|(user, song, ts, ms, skipped)| Ev::Listen { user, song, ts, ms, skipped }),
        1 => (0u8..6, 0u8..8, 1u32..20).prop_map(|(user, song, plays)| Ev::Count { user, song, plays }),
    ]
}

fn track(song: u8) -> TrackRef {
    TrackRef {
        artist: ArtistRef { name: format!("Artist {}", song % 3), mbid: None },
        title: format!("Song {song}"),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn csr_matches_naive_aggregation(events in proptest::collection::vec(ev(), 0..80)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let ImportStart::Fresh(mut s) = store.begin_import("k", "mem", "test").unwrap() else { panic!() };
        // Naive model: (user name, song title) -> (plays, skips, last ts).
        let mut want: BTreeMap<(String, String), (f32, u32, i64)> = BTreeMap::new();
        let mut seen_events = std::collections::HashSet::new();
        let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
        for e in &events {
            match e {
                Ev::Listen { user, song, ts, ms, skipped } => {
                    let (u, t) = (format!("u{user}"), format!("Song {song}"));
                    s.write(&Record::Listen { user: u.clone(), ts: *ts, track: track(*song), ms_played: *ms, skipped: *skipped }).unwrap();
                    if !seen_events.insert((u.clone(), *ts, t.clone())) {
                        continue; // the same event twice is one event
                    }
                    let full = *skipped != Some(true) && ms.is_none_or(|m| m >= SHORT_PLAY_MS);
                    let w = want.entry((u, t)).or_insert((0.0, 0, 0));
                    if full { w.0 += 1.0 } else { w.1 += 1 }
                    w.2 = w.2.max(*ts);
                }
                Ev::Count { user, song, plays } => {
                    let (u, t) = (format!("u{user}"), format!("Song {song}"));
                    s.write(&Record::SongCount { user: u.clone(), track: track(*song), plays: *plays, last_played: None }).unwrap();
                    *counts.entry((u, t)).or_default() += plays;
                }
            }
        }
        for (k, c) in counts {
            want.entry(k).or_insert((0.0, 0, 0)).0 += c as f32;
        }
        s.finish(events.len() as u64).unwrap();

        let m = store.interactions().unwrap();
        m.validate().unwrap();
        let name = |table: &str, id: i64| -> String {
            let col = if table == "users" { "name" } else { "title" };
            store.conn().query_row(&format!("SELECT {col} FROM {table} WHERE id = ?1"), [id], |r| r.get(0)).unwrap()
        };
        let mut got = BTreeMap::new();
        for u in 0..m.n_users() {
            let row = m.row(u);
            for k in 0..row.indices.len() {
                let key = (name("users", m.user_ids[u]), name("songs", m.item_ids[row.indices[k] as usize]));
                got.insert(key, (row.plays[k], row.skips[k], row.last_played[k]));
            }
        }
        prop_assert_eq!(got, want);
    }
}

/// Every (user id, song id) entry of the matrix: what `ListensStamp` must
/// stand for (empty rows and columns aside).
fn entries(store: &Store) -> BTreeMap<(i64, i64), (f32, u32, i64)> {
    let m = store.interactions().unwrap();
    let mut out = BTreeMap::new();
    for u in 0..m.n_users() {
        let row = m.row(u);
        for k in 0..row.indices.len() {
            out.insert(
                (m.user_ids[u], m.item_ids[row.indices[k] as usize]),
                (row.plays[k], row.skips[k], row.last_played[k]),
            );
        }
    }
    out
}

/// Events over few users, songs and times, so that imports often repeat
/// and replace each other's rows.
fn small_ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        1 => (0u8..2, 0u8..3, 1i64..4, proptest::option::of(0u32..60_000), proptest::option::of(any::<bool>()))
            .prop_map(|(user, song, ts, ms, skipped)| Ev::Listen { user, song, ts, ms, skipped }),
        1 => (0u8..2, 0u8..3, 1u32..4).prop_map(|(user, song, plays)| Ev::Count { user, song, plays }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Two equal stamps mean the same matrix, over a run of imports that
    /// repeat, extend and replace each other's listens and counts (what a
    /// cache keyed by the stamp relies on).
    #[test]
    fn equal_stamps_mean_equal_matrices(imports in proptest::collection::vec(proptest::collection::vec(small_ev(), 0..6), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut states = vec![(store.listens_stamp().unwrap(), entries(&store))];
        for (i, events) in imports.iter().enumerate() {
            let ImportStart::Fresh(mut s) = store.begin_import(&format!("k{i}"), "mem", "test").unwrap() else { panic!() };
            for e in events {
                let r = match e {
                    Ev::Listen { user, song, ts, ms, skipped } => Record::Listen {
                        user: format!("u{user}"), ts: *ts, track: track(*song), ms_played: *ms, skipped: *skipped,
                    },
                    Ev::Count { user, song, plays } => Record::SongCount {
                        user: format!("u{user}"), track: track(*song), plays: *plays, last_played: None,
                    },
                };
                s.write(&r).unwrap();
            }
            s.finish(events.len() as u64).unwrap();
            states.push((store.listens_stamp().unwrap(), entries(&store)));
        }
        for a in 0..states.len() {
            for b in a + 1..states.len() {
                if states[a].0 == states[b].0 {
                    prop_assert_eq!(&states[a].1, &states[b].1, "imports {} and {} share a stamp", a, b);
                }
            }
        }
    }
}
