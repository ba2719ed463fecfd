//! Writing the world out in real formats.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde_json::json;

use crate::audio::{render_clip, KEY_NAMES};
use crate::text::{articles, html};
use crate::world::{World, GENRES, GROOVES, INSTRUMENTS, MOODS, MOOD_SOUND};
use crate::{Error, Result};

/// Where [`write_world`] put everything.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorldFiles {
    /// The root directory.
    pub dir: PathBuf,
    /// Catalog JSON lines (`encore import --format catalog`).
    pub catalog: PathBuf,
    /// ListenBrainz JSON lines.
    pub listenbrainz: PathBuf,
    /// Spotify extended streaming history (JSON array), if any user has one.
    pub spotify: Option<PathBuf>,
    /// WAV clips, one per song.
    pub audio_dir: PathBuf,
    /// Articles as JSON lines.
    pub articles: PathBuf,
    /// Articles as HTML pages.
    pub html_dir: PathBuf,
    /// Ground truth: world.json, songs/artists/users/articles JSON lines.
    pub truth_dir: PathBuf,
    /// Number of audio clips.
    pub clips: usize,
    /// Number of listens written (ListenBrainz + Spotify).
    pub listens: usize,
    /// Number of articles.
    pub articles_count: usize,
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(|e| Error::Io { path: p.to_path_buf(), source: e })?;
    }
    File::create(path).map(BufWriter::new).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
}

fn line(w: &mut impl Write, path: &Path, v: &serde_json::Value) -> Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(|e| Error::Io { path: path.to_path_buf(), source: e.into() })?;
    w.write_all(b"\n").map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
}

fn finish(mut w: BufWriter<File>, path: &Path) -> Result<()> {
    w.flush().map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
}

fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// A Spotify-shaped (22 base-62 characters) track id for a song.
fn spotify_id(seed: u64, song: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed ^ (song as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..22)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 62) as usize] as char
        })
        .collect()
}

/// Writes `world` under `dir`. `progress(stage, done, total)` is called from
/// several threads while clips render.
pub fn write_world(world: &World, dir: &Path, progress: &(dyn Fn(&str, u64, u64) + Sync)) -> Result<WorldFiles> {
    fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_path_buf(), source: e })?;
    let dir = dir.canonicalize().map_err(|e| Error::Io { path: dir.to_path_buf(), source: e })?;
    let cfg = &world.config;
    let audio_dir = dir.join("audio");
    let truth_dir = dir.join("truth");
    fs::create_dir_all(&audio_dir).map_err(|e| Error::Io { path: audio_dir.clone(), source: e })?;

    // Audio clips, in parallel; each clip's noise is seeded by its song.
    let done = AtomicU64::new(0);
    let total = world.songs.len() as u64;
    world.songs.par_iter().try_for_each(|s| -> Result<()> {
        let path = audio_dir.join(format!("{:05}.wav", s.id));
        let clip = render_clip(s, cfg.clip_seconds, cfg.sample_rate, cfg.seed);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: cfg.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let wav_err = |e| Error::Wav { path: path.clone(), source: e };
        let mut w = hound::WavWriter::new(create(&path)?, spec).map_err(wav_err)?;
        for x in clip {
            w.write_sample((x * 32767.0).round() as i16).map_err(wav_err)?;
        }
        w.finalize().map_err(wav_err)?;
        progress("audio clips", done.fetch_add(1, Ordering::Relaxed) + 1, total);
        Ok(())
    })?;

    // Catalog.
    let catalog = dir.join("catalog.jsonl");
    let mut w = create(&catalog)?;
    for s in &world.songs {
        let a = &world.artists[s.artist];
        line(
            &mut w,
            &catalog,
            &json!({
                "artist": a.name, "artist_mbid": a.mbid, "title": s.title, "mbid": s.mbid,
                "spotify_uri": format!("spotify:track:{}", spotify_id(cfg.seed, s.id)),
                "genre": GENRES[s.genre].name, "duration_ms": (cfg.clip_seconds * 1000.0) as u32,
                "audio": audio_dir.join(format!("{:05}.wav", s.id)).display().to_string(),
                "released": s.released, "release": s.album,
            }),
        )?;
    }
    finish(w, &catalog)?;

    // Listens: ListenBrainz for most users (scrobbles: full plays only, most
    // with MusicBrainz ids, some by name alone and oddly cased); a Spotify
    // extended-history export, with skips and a podcast, for the others.
    progress("listening logs", 0, 1);
    let listenbrainz = dir.join("listens").join("listenbrainz.jsonl");
    let spotify_path = dir.join("listens").join("Streaming_History_Audio_2026.json");
    let mut lb = create(&listenbrainz)?;
    let mut sp_entries: Vec<serde_json::Value> = Vec::new();
    let mut written = 0;
    for (k, l) in world.listens.iter().enumerate() {
        let u = &world.users[l.user];
        let s = &world.songs[l.song];
        let a = &world.artists[s.artist];
        if u.spotify {
            let end = l.ts + (l.ms_played / 1000) as i64;
            sp_entries.push(json!({
                "ts": rfc3339(end), "username": u.name, "platform": "linux", "ms_played": l.ms_played,
                "conn_country": "DE", "master_metadata_track_name": s.title,
                "master_metadata_album_artist_name": a.name, "master_metadata_album_album_name": null,
                "spotify_track_uri": format!("spotify:track:{}", spotify_id(cfg.seed, s.id)),
                "episode_name": null, "episode_show_name": null, "spotify_episode_uri": null,
                "reason_start": "trackdone", "reason_end": if l.skipped { "fwdbtn" } else { "trackdone" },
                "shuffle": false, "skipped": l.skipped, "offline": false, "incognito_mode": false,
            }));
            if k % 97 == 0 {
                sp_entries.push(json!({
                    "ts": rfc3339(end + 1), "username": u.name, "ms_played": 1_200_000,
                    "master_metadata_track_name": null, "master_metadata_album_artist_name": null,
                    "spotify_track_uri": null, "episode_name": "Demo Music Podcast #12",
                    "episode_show_name": "Demo Music Podcast", "skipped": null, "reason_end": "endplay",
                }));
            }
            written += 1;
            continue;
        }
        if l.skipped {
            continue;
        }
        let with_ids = k % 5 != 0;
        let artist_name = if !with_ids && k % 3 == 0 { a.name.to_uppercase() } else { a.name.clone() };
        let mut meta = json!({
            "artist_name": artist_name, "track_name": s.title, "release_name": null,
            "additional_info": { "duration_ms": (cfg.clip_seconds * 1000.0) as u32, "submission_client": "encore-demo" },
        });
        if with_ids {
            meta["mbid_mapping"] = json!({ "recording_mbid": s.mbid, "artist_mbids": [a.mbid] });
        }
        line(&mut lb, &listenbrainz, &json!({ "listened_at": l.ts, "user_name": u.name, "track_metadata": meta }))?;
        written += 1;
    }
    finish(lb, &listenbrainz)?;
    let spotify = if sp_entries.is_empty() {
        None
    } else {
        let mut w = create(&spotify_path)?;
        serde_json::to_writer_pretty(&mut w, &sp_entries)
            .map_err(|e| Error::Io { path: spotify_path.clone(), source: e.into() })?;
        finish(w, &spotify_path)?;
        Some(spotify_path)
    };

    // Articles: two thirds as JSON lines, one third as HTML pages.
    progress("articles", 0, 1);
    let arts = articles(world);
    let articles_path = dir.join("text").join("articles.jsonl");
    let html_dir = dir.join("text").join("html");
    fs::create_dir_all(&html_dir).map_err(|e| Error::Io { path: html_dir.clone(), source: e })?;
    let mut w = create(&articles_path)?;
    for (k, a) in arts.iter().enumerate() {
        if k % 3 == 2 {
            let p = html_dir.join(format!("{k:05}.html"));
            fs::write(&p, html(a)).map_err(|e| Error::Io { path: p, source: e })?;
        } else {
            line(
                &mut w,
                &articles_path,
                &json!({ "url": a.url, "title": a.title, "text": a.text, "published": a.published }),
            )?;
        }
    }
    finish(w, &articles_path)?;

    // Ground truth.
    progress("ground truth", 0, 1);
    let world_json = truth_dir.join("world.json");
    let mut w = create(&world_json)?;
    let genres: Vec<_> = GENRES
        .iter()
        .map(|g| {
            json!({ "name": g.name, "tempo": [g.tempo.0, g.tempo.1], "p_major": g.p_major,
        "level_db": g.level_db, "drums": g.drums, "vocab": g.vocab })
        })
        .collect();
    let moods: Vec<_> = MOODS
        .iter()
        .zip(MOOD_SOUND)
        .map(|((m, v), (e, va))| json!({ "name": m, "vocab": v, "energy": e, "valence": va }))
        .collect();
    serde_json::to_writer_pretty(
        &mut w,
        &json!({ "config": cfg, "genres": genres, "moods": moods, "instruments": INSTRUMENTS, "grooves": GROOVES }),
    )
    .map_err(|e| Error::Io { path: world_json.clone(), source: e.into() })?;
    finish(w, &world_json)?;
    let songs_path = truth_dir.join("songs.jsonl");
    let mut w = create(&songs_path)?;
    for s in &world.songs {
        line(
            &mut w,
            &songs_path,
            &json!({
                "id": s.id, "mbid": s.mbid, "artist": world.artists[s.artist].name, "title": s.title,
                "genre": GENRES[s.genre].name, "mood": MOODS[s.mood].0, "tempo_bpm": s.tempo,
                "instrument": INSTRUMENTS[s.instrument], "groove": GROOVES[s.groove],
                "energy": s.energy, "valence": s.valence,
                "key": KEY_NAMES[s.key as usize], "mode": if s.major { "major" } else { "minor" },
                "rms_dbfs": s.level_db, "new_release": s.new_release, "released": s.released,
                "audio": audio_dir.join(format!("{:05}.wav", s.id)).display().to_string(),
            }),
        )?;
    }
    finish(w, &songs_path)?;
    let artists_path = truth_dir.join("artists.jsonl");
    let mut w = create(&artists_path)?;
    for a in &world.artists {
        line(
            &mut w,
            &artists_path,
            &json!({ "id": a.id, "name": a.name, "mbid": a.mbid, "genre": GENRES[a.genre].name,
            "mood": MOODS[a.mood].0, "instrument": INSTRUMENTS[a.instrument], "groove": GROOVES[a.groove],
            "popularity": a.popularity, "songs": a.songs }),
        )?;
    }
    finish(w, &artists_path)?;
    let users_path = truth_dir.join("users.jsonl");
    let mut w = create(&users_path)?;
    // Weights by name, rounded to four decimals.
    let weights = |names: &mut dyn Iterator<Item = &str>, w: &[f64]| -> serde_json::Map<String, serde_json::Value> {
        names.zip(w).map(|(n, t)| (n.to_string(), json!((t * 1e4).round() / 1e4))).collect()
    };
    for u in &world.users {
        let taste = weights(&mut GENRES.iter().map(|g| g.name), &u.taste);
        let st = &u.sound_taste;
        let sound = json!({
            "mood": weights(&mut MOODS.iter().map(|m| m.0), &st.mood),
            "instrument": weights(&mut INSTRUMENTS.iter().copied(), &st.instrument),
            "groove": weights(&mut GROOVES.iter().copied(), &st.groove),
        });
        line(
            &mut w,
            &users_path,
            &json!({ "name": u.name, "taste": taste, "sound_taste": sound, "spotify": u.spotify }),
        )?;
    }
    finish(w, &users_path)?;
    let truth_articles = truth_dir.join("articles.jsonl");
    let mut w = create(&truth_articles)?;
    for a in &arts {
        let name = |i: usize| world.artists[i].name.clone();
        line(
            &mut w,
            &truth_articles,
            &json!({ "url": a.url, "about": name(a.about),
            "song": a.song.map(|s| world.songs[s].title.clone()),
            "related": a.related.iter().map(|&r| name(r)).collect::<Vec<_>>(),
            "contrast": a.contrast.map(name) }),
        )?;
    }
    finish(w, &truth_articles)?;

    Ok(WorldFiles {
        dir: dir.clone(),
        catalog,
        listenbrainz,
        spotify,
        audio_dir,
        articles: articles_path,
        html_dir,
        truth_dir,
        clips: world.songs.len(),
        listens: written,
        articles_count: arts.len(),
    })
}
