//! Instant mixes, paths, rediscovery and fingerprints on a small world of
//! three styles whose songs sound alike and are played by the same users.

use std::collections::{HashMap, HashSet};

use encore_cf::{AlsConfig, CfModel};
use encore_rank::{
    Attributes, Catalog, Fusion, Hybrid, MixRequest, MixSeed, PathMethod, PathRequest, Played, RediscoverRequest,
};
use encore_types::InteractionsBuilder;
use rand::{Rng, SeedableRng};

const STYLES: usize = 3;
const PER_STYLE: usize = 24;
const DIM: usize = 8;

struct World {
    catalog: Catalog,
    cf: CfModel,
    fusion: Fusion,
}

fn style(s: usize) -> usize {
    s / PER_STYLE
}

fn world() -> World {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let n = STYLES * PER_STYLE;
    let song_ids: Vec<i64> = (0..n as i64).map(|i| 100 + i).collect();
    // Audio: the style's axis plus noise, normalised.
    let audio: Vec<Option<Vec<f32>>> = (0..n)
        .map(|s| {
            let mut v: Vec<f32> = (0..DIM).map(|_| rng.random::<f32>() * 0.35).collect();
            v[style(s)] += 1.0;
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            Some(v.into_iter().map(|x| x / norm).collect())
        })
        .collect();
    // Listens: 90 users, each playing songs of one style (a few of
    // another).
    let users = 90;
    let mut b = InteractionsBuilder::new((0..users as i64).collect(), song_ids.clone());
    for u in 0..users {
        let home = u % STYLES;
        let mut row: Vec<(u32, f32, u32, i64)> = Vec::new();
        for s in 0..n {
            let p = if style(s) == home { 0.5 } else { 0.03 };
            if rng.random::<f32>() < p {
                row.push((s as u32, 1.0 + rng.random_range(0..5) as f32, 0, 1_700_000_000));
            }
        }
        b.push_row(&row);
    }
    let m = b.finish();
    let cfg = AlsConfig { factors: 8, iterations: 10, ..AlsConfig::default() };
    let cf = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1), &mut |_| {}).unwrap();
    let catalog = Catalog {
        song_ids: song_ids.clone(),
        // Four songs per artist, two per album.
        artist: (0..n).map(|s| Some((s / 4) as i64)).collect(),
        genre: (0..n).map(|s| Some(format!("style{}", style(s)))).collect(),
        attrs: (0..n)
            .map(|s| {
                Some(Attributes {
                    tempo: 90.0 + 10.0 * style(s) as f32 + (s % 5) as f32,
                    key: (s % 12) as u8,
                    major: s % 2 == 0,
                    loudness: -14.0,
                    duration: 200.0,
                })
            })
            .collect(),
        cf_col: song_ids.iter().map(|&id| cf.item_index(id).map(|i| i as u32)).collect(),
        predicted: vec![None; n],
        audio,
        text: vec![None; n],
        listeners: vec![10.0; n],
        comentioned: HashMap::new(),
        album: (0..n).map(|s| Some((s / 2) as u32)).collect(),
        album_names: (0..n / 2).map(|a| format!("album {a}")).collect(),
    };
    World { catalog, cf, fusion: Fusion::default() }
}

#[test]
fn an_instant_mix_stays_near_its_seeds_and_keeps_the_rules() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    let seed = 5; // style 0
    let req = MixRequest {
        seeds: vec![MixSeed { song: seed, weight: 1.0 }],
        n: 15,
        exclude: HashSet::from([seed]),
        rng_seed: 9,
        ..MixRequest::default()
    };
    let items = h.mix(None, &req).unwrap();
    assert_eq!(items.len(), 15);
    let songs: Vec<usize> = items.iter().map(|i| i.song).collect();
    assert!(!songs.contains(&seed), "the seed is excluded");
    assert_eq!(songs.iter().collect::<HashSet<_>>().len(), songs.len(), "no song twice");
    // Six artists make the style; two songs each allow 12 of 15.
    let same = songs.iter().filter(|&&s| style(s) == 0).count();
    assert!(same >= 10, "{same} of 15 from the seed's style: {songs:?}");
    let mut per_artist: HashMap<i64, usize> = HashMap::new();
    let mut per_album: HashMap<u32, usize> = HashMap::new();
    for &s in &songs {
        *per_artist.entry(w.catalog.artist[s].unwrap()).or_default() += 1;
        *per_album.entry(w.catalog.album[s].unwrap()).or_default() += 1;
    }
    assert!(per_artist.values().all(|&c| c <= 2), "{per_artist:?}");
    assert!(per_album.values().all(|&c| c <= 2));
    // Every item is explained by the seed.
    assert!(items.iter().all(|i| i.reason.seed == Some(seed)), "{:?}", items[0].reason);

    // The same request draws the same mix; another draw differs.
    assert_eq!(h.mix(None, &req).unwrap(), items);
    let other = h.mix(None, &MixRequest { rng_seed: 10, temperature: 2.0, ..req.clone() }).unwrap();
    assert_ne!(other.iter().map(|i| i.song).collect::<Vec<_>>(), songs);

    // One per album; the seed first when asked.
    let strict =
        h.mix(None, &MixRequest { max_per_album: 1, seed_first: true, exclude: HashSet::new(), ..req }).unwrap();
    assert_eq!(strict[0].song, seed);
    assert_eq!(strict[0].reason.by, "seed");
    let albums: Vec<u32> = strict.iter().map(|i| w.catalog.album[i.song].unwrap()).collect();
    assert_eq!(albums.iter().collect::<HashSet<_>>().len(), albums.len(), "{albums:?}");
}

#[test]
fn several_weighted_seeds_share_the_mix() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    let two = |w1: f32, w2: f32| -> (usize, usize) {
        let req = MixRequest {
            seeds: vec![MixSeed { song: 1, weight: w1 }, MixSeed { song: PER_STYLE + 1, weight: w2 }],
            n: 20,
            max_per_artist: 4,
            temperature: 0.0,
            ..MixRequest::default()
        };
        let items = h.mix(None, &req).unwrap();
        let a = items.iter().filter(|i| style(i.song) == 0).count();
        let b = items.iter().filter(|i| style(i.song) == 1).count();
        (a, b)
    };
    let (a, b) = two(1.0, 1.0);
    assert!(a >= 4 && b >= 4, "both seeds' styles: {a} and {b}");
    let (a2, b2) = two(5.0, 1.0);
    assert!(a2 > a && b2 < b, "a heavier seed takes more of the mix: {a}/{b} → {a2}/{b2}");
    assert!(h.mix(None, &MixRequest::default()).is_err(), "no seed");
    let bad = MixRequest { seeds: vec![MixSeed { song: 1, weight: f32::NAN }], ..MixRequest::default() };
    assert!(h.mix(None, &bad).is_err());
}

#[test]
fn consecutive_songs_keep_their_distance() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    let req = MixRequest {
        seeds: vec![MixSeed { song: 0, weight: 1.0 }],
        n: 10,
        max_per_artist: 4,
        max_per_album: 2,
        min_distance: 0.08,
        ..MixRequest::default()
    };
    let items = h.mix(None, &req).unwrap();
    for p in items.windows(2) {
        let d = 1.0 - h.similarity(p[0].song, p[1].song);
        assert!(d >= 0.08, "{} → {}: distance {d}", p[0].song, p[1].song);
    }
}

#[test]
fn a_path_goes_from_a_to_b_in_even_steps() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    let req = PathRequest { from: 2, to: 2 * PER_STYLE + 3, n: 9, exclude: HashSet::new() };
    let smooth = h.path(&req).unwrap();
    let songs: Vec<usize> = smooth.items.iter().map(|i| i.song).collect();
    assert_eq!(songs.len(), 9);
    assert_eq!((songs[0], songs[8]), (2, 2 * PER_STYLE + 3));
    assert_eq!(songs.iter().collect::<HashSet<_>>().len(), 9, "no repeats: {songs:?}");
    assert_eq!(smooth.space, vec!["audio", "cf"]);
    // It leaves the first style and arrives in the last.
    assert_eq!(style(songs[1]), 0);
    assert_eq!(style(songs[7]), 2);
    let random = h.path_with(&req, PathMethod::Random(1)).unwrap();
    let line = h.path_with(&req, PathMethod::NearestToLine).unwrap();
    assert!(smooth.stats.max_step < random.stats.max_step, "{:?} vs random {:?}", smooth.stats, random.stats);
    assert!(smooth.stats.max_step <= line.stats.max_step + 1e-6, "{:?} vs line {:?}", smooth.stats, line.stats);
    let sum: f32 = smooth.items.iter().map(|i| i.step).sum();
    assert!((sum / 8.0 - smooth.stats.mean_step).abs() < 1e-5);
    assert!(h.path(&PathRequest { to: 2, ..req.clone() }).is_err(), "same song");
    assert!(h.path(&PathRequest { n: 1, ..req }).is_err());
}

#[test]
fn rediscovery_finds_loved_songs_left_for_a_while() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    let day = 86_400;
    let now = 1_800_000_000;
    let history = vec![
        Played { song: 1, plays: 30.0, skips: 0, last_played: now - 200 * day }, // loved, left long ago
        Played { song: 2, plays: 12.0, skips: 0, last_played: now - 60 * day },  // loved, left
        Played { song: 3, plays: 40.0, skips: 0, last_played: now - 2 * day },   // still played
        Played { song: 4, plays: 1.0, skips: 0, last_played: now - 300 * day },  // never loved
        Played { song: 5, plays: 20.0, skips: 50, last_played: now - 100 * day }, // skipped: disliked
        Played { song: 6, plays: 5.0, skips: 0, last_played: now - day },        // latest listen
    ];
    let p = h.profile(&history, &[], &[]);
    let req = RediscoverRequest { now, taste: 0.0, ..RediscoverRequest::default() };
    let r = h.rediscover(&p, &req).unwrap();
    let songs: Vec<usize> = r.iter().map(|x| x.song).collect();
    assert_eq!(songs, vec![1, 2], "{r:?}");
    assert!(r[0].quiet_days > 190.0);
    let r = h.rediscover(&p, &RediscoverRequest { quiet_days: 100, ..req.clone() }).unwrap();
    assert_eq!(r.iter().map(|x| x.song).collect::<Vec<_>>(), vec![1]);
    let r = h.rediscover(&p, &RediscoverRequest { exclude: HashSet::from([1]), ..req }).unwrap();
    assert_eq!(r.iter().map(|x| x.song).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn a_fingerprint_keeps_two_tastes_apart() {
    let w = world();
    let h = Hybrid::new(&w.catalog, &w.cf, &w.fusion).unwrap();
    // Plays in style 0 and style 2, none in style 1.
    let history: Vec<Played> = (0..10)
        .map(|i| Played { song: i, plays: 5.0, skips: 0, last_played: 1 })
        .chain((0..6).map(|i| Played { song: 2 * PER_STYLE + i, plays: 3.0, skips: 0, last_played: 1 }))
        .collect();
    let cents = h.fingerprint(&history, 3, 50);
    assert!(cents.len() >= 2, "{}", cents.len());
    for c in &cents {
        let styles: HashSet<usize> = c.songs.iter().map(|&s| style(s)).collect();
        assert_eq!(styles.len(), 1, "a cluster mixes styles: {:?}", c.songs);
    }
    assert!((cents.iter().map(|c| c.weight).sum::<f32>() - 1.0).abs() < 1e-4);
    // Its mix: unplayed songs of both styles, none of style 1.
    let req = MixRequest {
        centroids: cents,
        n: 12,
        exclude: history.iter().map(|p| p.song).collect(),
        max_per_artist: 3,
        ..MixRequest::default()
    };
    let items = h.mix(None, &req).unwrap();
    let styles: Vec<usize> = items.iter().map(|i| style(i.song)).collect();
    assert!(styles.contains(&0) && styles.contains(&2), "{styles:?}");
    assert!(styles.iter().filter(|&&s| s == 1).count() <= 1, "{styles:?}");
    assert!(items.iter().all(|i| i.reason.by == "fingerprint"));
}
