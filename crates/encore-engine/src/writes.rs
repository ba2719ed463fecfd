//! Writes over HTTP: listens and new songs, each one durable import, the
//! running models told about them without reloading the catalog.

use std::path::PathBuf;

use encore_audio::Descriptors;

use encore_store::Store;
use encore_types::ArtifactHeader;
use serde::{Deserialize, Serialize};

use crate::{
    artifact_tail, audio, collect_garbage, publish_release, AudioEmbeddings, Engine, EngineError, Result, DEFAULT_KEEP,
};

/// One listen event as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenEvent {
    /// The listener's name (created if new).
    pub user: String,
    /// The song's store id …
    #[serde(default)]
    pub song_id: Option<i64>,
    /// … or its artist and title (matched like an import; a new song is
    /// created).
    #[serde(default)]
    pub artist: Option<String>,
    /// Title, with `artist`.
    #[serde(default)]
    pub title: Option<String>,
    /// When the play started, Unix seconds.
    pub timestamp: i64,
    /// How long it played.
    #[serde(default)]
    pub ms_played: Option<u32>,
    /// Whether the listener skipped it.
    #[serde(default)]
    pub skipped: Option<bool>,
}

/// What storing a batch of listens did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListensStored {
    /// Events stored (new).
    pub stored: u64,
    /// Events already stored before (same user, time and song).
    pub duplicates: u64,
}

impl Engine {
    /// Validates and stores `events` durably in one transaction (all or
    /// nothing). The next recommendation folds the user's new history in.
    pub fn add_listens(&self, events: &[ListenEvent]) -> Result<ListensStored> {
        if events.is_empty() {
            return Err(EngineError::BadRequest("no listens given".into()));
        }
        if events.len() > 10_000 {
            return Err(EngineError::BadRequest(format!("at most 10000 listens per request, got {}", events.len())));
        }
        let now = now();
        self.with_store(|store| {
            let mut records = Vec::with_capacity(events.len());
            for (k, e) in events.iter().enumerate() {
                let bad = |m: String| EngineError::BadRequest(format!("listen {k}: {m}"));
                if e.user.trim().is_empty() || e.user.len() > 256 {
                    return Err(bad("user must be a non-empty name of at most 256 bytes".into()));
                }
                encore_types::check_listen_time(e.timestamp, now).map_err(bad)?;
                if e.ms_played.is_some_and(|m| m > 86_400_000) {
                    return Err(bad("ms_played is more than a day".into()));
                }
                let track = match (e.song_id, &e.artist, &e.title) {
                    (Some(id), _, _) => {
                        let s = store
                            .songs(&[id])?
                            .pop()
                            .ok_or_else(|| EngineError::NotFound(format!("listen {k}: no song with id {id}")))?;
                        encore_types::TrackRef {
                            artist: encore_types::ArtistRef { name: s.artist.unwrap_or_default(), mbid: None },
                            title: s.title,
                            ..Default::default()
                        }
                    }
                    (None, Some(a), Some(t)) if !a.trim().is_empty() && !t.trim().is_empty() => {
                        encore_types::TrackRef {
                            artist: encore_types::ArtistRef { name: a.clone(), mbid: None },
                            title: t.clone(),
                            ..Default::default()
                        }
                    }
                    _ => return Err(bad("give song_id, or artist and title".into())),
                };
                records.push(encore_types::Record::Listen {
                    user: e.user.clone(),
                    ts: e.timestamp,
                    track,
                    ms_played: e.ms_played,
                    skipped: e.skipped,
                });
            }
            write_listens(store, &records, "POST /v1/listens")
        })
    }
}

/// Stores `records` as one committed import (durable when this returns)
/// labelled `source`; the next recommendation folds them in.
pub(crate) fn write_listens(
    store: &mut Store,
    records: &[encore_types::Record],
    source: &str,
) -> Result<ListensStored> {
    let key = format!(
        "api:{:016x}:{}",
        xxhash_rust::xxh3::xxh3_64(format!("{records:?}").as_bytes()),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    );
    let mut session = match store.begin_import(&key, source, "api")? {
        encore_store::ImportStart::Fresh(s) | encore_store::ImportStart::Resume(s) => s,
        encore_store::ImportStart::Done(_) => return Err(EngineError::Inconsistent("listen batch key reused".into())),
    };
    for r in records {
        session.write(r)?;
    }
    let rec = session.finish(records.len() as u64)?;
    Ok(ListensStored { stored: rec.counts.imported, duplicates: rec.counts.duplicates })
}

/// A new song to register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSong {
    /// Artist name.
    pub artist: String,
    /// Title.
    pub title: String,
    /// The audio file (already checked to be where it may be).
    pub path: PathBuf,
    /// Genre label.
    #[serde(default)]
    pub genre: Option<String>,
}

/// What registering a song did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SongAdded {
    /// Its store id.
    pub song_id: i64,
    /// Its descriptors.
    pub descriptors: Descriptors,
    /// Whether the audio network predicted its CF vector.
    pub predicted_vector: bool,
    /// The release now served.
    pub release: String,
}

impl Engine {
    /// Registers a song with an audio file: stores it, analyses it, predicts
    /// its CF vector with the current audio network, publishes a release
    /// with the extended predictions and swaps it in — the song is
    /// recommendable at once (cold start).
    pub fn add_song(&self, s: &NewSong) -> Result<SongAdded> {
        if s.artist.trim().is_empty() || s.title.trim().is_empty() {
            return Err(EngineError::BadRequest("artist and title must not be empty".into()));
        }
        let decoded =
            encore_audio::decode(&s.path).map_err(|e| EngineError::BadRequest(format!("unreadable audio: {e}")))?;
        let descriptors = encore_audio::checked(
            &s.path,
            encore_audio::analyze(&decoded.samples, decoded.lufs, decoded.loudness_range),
        )
        .map_err(|e| EngineError::BadRequest(format!("unreadable audio: {e}")))?;
        let path = audio::store_key(&s.path);
        let m = self.models();
        let (song_id, manifest) = self.with_store(|store| {
            let key = format!("api-song:{}", path);
            let rec = encore_types::Record::Catalog(encore_types::CatalogSong {
                track: encore_types::TrackRef {
                    artist: encore_types::ArtistRef { name: s.artist.clone(), mbid: None },
                    title: s.title.clone(),
                    ..Default::default()
                },
                genre: s.genre.clone(),
                duration_ms: Some((descriptors.duration_s * 1000.0) as u32),
                audio_path: Some(path.clone()),
                released: None,
            });
            match store.begin_import(&key, &path, "api")? {
                encore_store::ImportStart::Fresh(mut sess) | encore_store::ImportStart::Resume(mut sess) => {
                    sess.write(&rec)?;
                    sess.finish(1)?;
                }
                encore_store::ImportStart::Done(_) => {}
            }
            let song_id = store
                .catalog_rows()?
                .into_iter()
                .find(|r| r.3.as_deref() == Some(path.as_str()))
                .map(|r| r.0)
                .ok_or_else(|| {
                    EngineError::Inconsistent(format!("the song just registered for {path} is not in the store"))
                })?;
            let (size, mtime) = audio::stamp(&s.path);
            let json = serde_json::to_string(&descriptors).map_err(crate::error::json(&s.path))?;
            store.put_audio_features(&path, size, mtime, encore_audio::FEATURE_VERSION, &json)?;
            let mut manifest = m.manifest.clone();
            if let Some((cnn_dir, _)) = store.artifacts(audio::CNN_KIND)?.current()? {
                let cnn = encore_audio::AudioCnn::load(&cnn_dir)?;
                let spec = encore_audio::Spectrogram::of(&decoded.samples, 30.0);
                let p = cnn.predict_with(&[&spec], &[Some(&descriptors)])?.remove(0);
                let mut emb = m.embeddings.clone().unwrap_or(AudioEmbeddings {
                    ids: Vec::new(),
                    dim: p.vector.len(),
                    embedding_dim: p.embedding.len(),
                    vectors: Vec::new(),
                    embeddings: Vec::new(),
                });
                if emb.dim == p.vector.len() && emb.embedding_dim == p.embedding.len() {
                    if let Some(r) = emb.index(song_id) {
                        emb.vectors[r * emb.dim..(r + 1) * emb.dim].copy_from_slice(&p.vector);
                        emb.embeddings[r * emb.embedding_dim..(r + 1) * emb.embedding_dim]
                            .copy_from_slice(&p.embedding);
                    } else {
                        emb.ids.push(song_id);
                        emb.vectors.extend_from_slice(&p.vector);
                        emb.embeddings.extend_from_slice(&p.embedding);
                    }
                    let w = store
                        .artifacts(audio::EMBED_KIND)?
                        .writer(ArtifactHeader::new(audio::EMBED_KIND, audio::FORMAT_VERSION))?;
                    emb.save(w.path(), &cnn_dir.display().to_string())?;
                    manifest.audio = Some(w.commit()?.display().to_string());
                }
            }
            Ok((song_id, manifest))
        })?;
        let predicted = manifest.audio != m.manifest.audio;
        let release = self.with_store(|store| {
            let release = publish_release(store, &manifest)?;
            // Every registration publishes a release: keep the directory
            // from growing without bound.
            collect_garbage(store, DEFAULT_KEEP)?;
            Ok(release)
        })?;
        self.reload()?;
        let release =
            artifact_tail(&release).map_or_else(|| release.display().to_string(), |t| t.display().to_string());
        Ok(SongAdded { song_id, descriptors, predicted_vector: predicted, release })
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
