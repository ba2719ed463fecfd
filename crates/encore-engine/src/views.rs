//! What the page and the API show of one song: its page (names, audio
//! descriptors, text terms, listeners) and its spectrogram, so that the
//! server reads them from the engine instead of the store and the models.

use encore_text::Entity;
use encore_types::vector::dot;
use serde::Serialize;

use crate::{Engine, EngineError, Result};

/// The names of the twelve pitch classes, C first (what a `key` parameter
/// may name).
pub use encore_audio::KEYS;
/// A song as the store names it.
pub use encore_store::SongInfo;

/// One song's page.
#[derive(Debug, Clone, Serialize)]
pub struct SongPage {
    /// Names and ids.
    pub song: SongInfo,
    /// Audio descriptors, if its file was analysed.
    pub descriptors: Option<encore_audio::Descriptors>,
    /// The text model's most telling terms for it, with weights.
    pub terms: Vec<(String, f32)>,
    /// Listeners in the trained matrix.
    pub listeners: f32,
    /// Whether it has a CF vector (trained or predicted from audio).
    pub has_cf_vector: bool,
}

impl Engine {
    /// The page of song `song`.
    pub fn song_page(&self, song: i64) -> Result<SongPage> {
        let m = self.models();
        self.with_store(|store| {
            let info =
                store.songs(&[song])?.pop().ok_or_else(|| EngineError::NotFound(format!("no song with id {song}")))?;
            let descriptors = match store.song_audio_path(song)? {
                Some(p) => crate::audio::descriptors_of(store, &p)?,
                None => None,
            };
            let terms =
                m.text.as_ref().and_then(|t| t.describe(Entity::Song(song), 8)).map(|d| d.terms).unwrap_or_default();
            let k = m.catalog.index(song);
            Ok(SongPage {
                song: info,
                descriptors,
                terms,
                listeners: k.map_or(0.0, |k| m.catalog.listeners[k]),
                has_cf_vector: k.is_some_and(|k| m.hybrid().ok().and_then(|h| h.song_vector(k).map(|_| ())).is_some()),
            })
        })
    }

    /// The first 30 s of song `song`'s audio as a log-mel spectrogram PNG
    /// (64 bands, at most 1300 frames wide). An unreadable file is logged
    /// with its path and answered as `NotFound` without one.
    pub fn spectrogram_png(&self, song: i64) -> Result<Vec<u8>> {
        let path = self.with_store(|store| {
            store.songs(&[song])?.pop().ok_or_else(|| EngineError::NotFound(format!("no song with id {song}")))?;
            store.song_audio_path(song)?.ok_or_else(|| EngineError::NotFound(format!("song {song} has no audio file")))
        })?;
        let path = self.data_dir().join(path);
        let d = encore_audio::decode_head(&path, 30.0).map_err(|err| {
            tracing::warn!("song {song}: {err}");
            EngineError::NotFound(format!("song {song}: its audio file cannot be read"))
        })?;
        Ok(encore_audio::spectrogram_png(&d.samples, 64, 1300))
    }
}

/// One song of a listener's history as the page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryItem {
    /// The song.
    pub song: SongInfo,
    /// Full plays (a loved song's count includes its bonus).
    pub plays: f32,
    /// Skips.
    pub skips: u32,
    /// Latest play, Unix seconds (0: unknown).
    pub last_played: i64,
    /// 1 loved, −1 hated, none.
    pub feedback: Option<i8>,
}

/// A listener's recent history.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Store id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Songs, latest play first.
    pub history: Vec<HistoryItem>,
}

/// A listener as a picker lists them.
#[derive(Debug, Clone, Serialize)]
pub struct UserEntry {
    /// Store id.
    pub user_id: i64,
    /// Name.
    pub name: Option<String>,
}

impl Engine {
    /// The `n` songs `user` played last, with plays, skips and feedback.
    pub fn history(&self, user: i64, n: usize) -> Result<History> {
        self.with_store(|st| {
            let name = st.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))?;
            let mut h = st.user_history(user)?;
            h.sort_by_key(|x| std::cmp::Reverse(x.last_played));
            h.truncate(n);
            let feedback: std::collections::HashMap<i64, i8> =
                st.feedback(user)?.into_iter().map(|(s, f, _)| (s, f)).collect();
            let mut history = Vec::with_capacity(h.len());
            for x in h {
                // A song gone from the catalog is left out, not misnamed.
                if let Some(song) = st.songs(&[x.song_id])?.pop() {
                    history.push(HistoryItem {
                        song,
                        plays: x.plays,
                        skips: x.skips,
                        last_played: x.last_played,
                        feedback: feedback.get(&x.song_id).copied(),
                    });
                }
            }
            Ok(History { user_id: user, name, history })
        })
    }

    /// Up to `n` listeners: those whose name contains `q` (any case), or
    /// without `q` the first of the trained model's users.
    pub fn users(&self, q: Option<&str>, n: usize) -> Result<Vec<UserEntry>> {
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            let q: String = q.chars().take(256).collect();
            let found = self.with_store(|st| Ok(st.users_matching(&q, n)?))?;
            return Ok(found.into_iter().map(|(user_id, name)| UserEntry { user_id, name: Some(name) }).collect());
        }
        let ids: Vec<i64> = self.models().cf.user_ids().iter().take(n).copied().collect();
        self.with_store(|st| {
            ids.iter().map(|&user_id| Ok(UserEntry { user_id, name: st.user_name(user_id)? })).collect()
        })
    }
}

/// A song near another, with its similarity.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    /// The song.
    pub song: SongInfo,
    /// Cosine similarity (or the mean of them, `hybrid`).
    pub score: f32,
}

/// One song on the map.
#[derive(Debug, Clone, Serialize)]
pub struct MapPoint {
    /// Store id.
    pub song_id: i64,
    /// First principal component.
    pub x: f32,
    /// Second principal component.
    pub y: f32,
    /// Genre, if known.
    pub genre: Option<String>,
}

impl Engine {
    /// [`Engine::similar`], each song named.
    pub fn similar_songs(&self, song: i64, by: &str, n: usize) -> Result<Vec<Neighbour>> {
        let hits = self.similar(song, by.parse()?, n)?;
        self.with_store(|st| {
            let mut out = Vec::with_capacity(hits.len());
            for (id, score) in hits {
                if let Some(song) = st.songs(&[id])?.pop() {
                    out.push(Neighbour { song, score });
                }
            }
            Ok(out)
        })
    }

    /// Every song with a CF vector on a 2-D map: the first two principal
    /// components of the vectors (power iteration, 50 steps each, from a
    /// fixed start so the map is the same on every call).
    pub fn map(&self) -> Result<Vec<MapPoint>> {
        let m = self.models();
        let h = m.hybrid()?;
        let c = &m.catalog;
        let rows: Vec<(usize, &[f32])> = (0..c.len()).filter_map(|k| h.song_vector(k).map(|v| (k, v))).collect();
        let dim = rows.first().map_or(0, |r| r.1.len());
        let mut mean = vec![0f32; dim];
        for (_, v) in &rows {
            mean.iter_mut().zip(*v).for_each(|(m, x)| *m += x / rows.len() as f32);
        }
        let centred: Vec<Vec<f32>> =
            rows.iter().map(|(_, v)| v.iter().zip(&mean).map(|(x, m)| x - m).collect()).collect();
        let mut comps: Vec<Vec<f32>> = Vec::new();
        for c_i in 0..2 {
            let mut w: Vec<f32> = (0..dim).map(|i| ((i * 7 + c_i * 3) % 11) as f32 - 5.0).collect();
            for _ in 0..50 {
                let mut next = vec![0f32; dim];
                for r in &centred {
                    let p = dot(r, &w);
                    next.iter_mut().zip(r).for_each(|(n, x)| *n += p * x);
                }
                for prev in &comps {
                    let d = dot(&next, prev);
                    next.iter_mut().zip(prev).for_each(|(n, p)| *n -= d * p);
                }
                let norm = dot(&next, &next).sqrt().max(1e-12);
                w = next.into_iter().map(|x| x / norm).collect();
            }
            comps.push(w);
        }
        Ok(rows
            .iter()
            .zip(&centred)
            .map(|((k, _), r)| MapPoint {
                song_id: c.song_ids[*k],
                x: dot(r, &comps[0]),
                y: comps.get(1).map_or(0.0, |c| dot(r, c)),
                genre: c.genre[*k].clone(),
            })
            .collect())
    }
}

/// One hit of a description search.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SearchHit {
    /// A song.
    Song {
        /// The song (none if it left the catalog).
        song: Option<SongInfo>,
        /// Cosine similarity to the query.
        score: f32,
    },
    /// An artist.
    Artist {
        /// Store id.
        artist_id: i64,
        /// Name.
        name: Option<String>,
        /// Cosine similarity to the query.
        score: f32,
    },
}

/// What a description search found, and which of its words the text model
/// knows.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The query.
    pub q: String,
    /// Hits, best first.
    pub results: Vec<SearchHit>,
    /// Query words in the vocabulary.
    pub known_terms: Vec<String>,
    /// Query words that are not.
    pub unknown_terms: Vec<String>,
}

/// An artist's neighbours in the text model, and the artists written about
/// with them.
#[derive(Debug, Clone, Serialize)]
pub struct ArtistPage {
    /// Store id.
    pub artist_id: i64,
    /// Name.
    pub name: String,
    /// Artists described alike: `artist_id`, `name`, `score`.
    pub similar: Vec<serde_json::Value>,
    /// Artists mentioned in the same documents: `artist_id`, `name`, `pmi`,
    /// `documents`.
    pub comentioned: Vec<serde_json::Value>,
}

impl Engine {
    /// Songs and artists whose text vectors are nearest the description.
    pub fn search(&self, query: &str, n: usize) -> Result<SearchResults> {
        let m = self.models();
        let t = m.text.as_ref().ok_or_else(|| EngineError::NotReady("no text model".into()))?;
        let found = t.search_explained(query, n);
        let results = self.with_store(|st| {
            found
                .hits
                .iter()
                .map(|&(ent, score)| {
                    Ok(match ent {
                        Entity::Song(id) => SearchHit::Song { song: st.songs(&[id])?.pop(), score },
                        Entity::Artist(id) => SearchHit::Artist { artist_id: id, name: st.artist_name(id)?, score },
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(SearchResults {
            q: query.to_string(),
            results,
            known_terms: found.known_terms,
            unknown_terms: found.unknown_terms,
        })
    }

    /// Artist `artist`'s `n` nearest artists by the text model and the `n`
    /// most co-mentioned.
    pub fn artist_page(&self, artist: i64, n: usize) -> Result<ArtistPage> {
        let m = self.models();
        self.with_store(|st| {
            let name =
                st.artist_name(artist)?.ok_or_else(|| EngineError::NotFound(format!("no artist with id {artist}")))?;
            let t = m.text.as_ref().ok_or_else(|| EngineError::NotReady("no text model".into()))?;
            let mut similar = Vec::new();
            for (ent, x) in t.similar(Entity::Artist(artist), n) {
                if let Entity::Artist(a) = ent {
                    similar.push(serde_json::json!({ "artist_id": a, "name": st.artist_name(a)?, "score": x }));
                }
            }
            let co = t.describe(Entity::Artist(artist), n).map(|d| d.comentioned).unwrap_or_default();
            let mut comentioned = Vec::new();
            for (a, pmi, docs) in co {
                comentioned.push(
                    serde_json::json!({ "artist_id": a, "name": st.artist_name(a)?, "pmi": pmi, "documents": docs }),
                );
            }
            Ok(ArtistPage { artist_id: artist, name, similar, comentioned })
        })
    }

    /// The `n` users whose CF vectors are nearest `user`'s, named, as
    /// (`user_id`, `name`, `score`).
    pub fn similar_users(&self, user: i64, n: usize) -> Result<Vec<serde_json::Value>> {
        let m = self.models();
        self.with_store(|st| {
            st.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))?;
            Ok(())
        })?;
        let u = m.cf.user_index(user).ok_or_else(|| {
            EngineError::NotFound(format!("user {user} has no vector in the current model (retrain to include them)"))
        })?;
        let sims = m.cf.similar_users(u, n)?;
        self.with_store(|st| {
            sims.iter()
                .map(|x| Ok(serde_json::json!({ "user_id": x.id, "name": st.user_name(x.id)?, "score": x.score })))
                .collect()
        })
    }
}

/// What identifies a song outside Encore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SongKey {
    /// Store id.
    pub id: i64,
    /// MusicBrainz recording id.
    pub mbid: Option<String>,
    /// Audio file.
    pub audio_path: Option<String>,
}

/// One song of a user's history, as the store keeps it.
pub use encore_store::HistoryEntry;

impl Engine {
    /// A user's store id and name, from the name or from the id
    /// (`NotFound` for neither known, `BadRequest` for neither given).
    pub fn find_user(&self, name: Option<&str>, id: Option<i64>) -> Result<(i64, String)> {
        self.with_store(|s| match (name, id) {
            (Some(n), _) => {
                let id = s.user_id(n)?.ok_or_else(|| EngineError::NotFound(format!("no user called {n:?}")))?;
                Ok((id, n.to_string()))
            }
            (None, Some(id)) => {
                let n = s.user_name(id)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {id}")))?;
                Ok((id, n))
            }
            (None, None) => Err(EngineError::BadRequest("give a user name or id".into())),
        })
    }

    /// The songs of `ids` as the store names them, in order; unknown ids
    /// are left out.
    pub fn songs(&self, ids: &[i64]) -> Result<Vec<SongInfo>> {
        self.with_store(|s| {
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                out.extend(s.songs(&[id])?.pop());
            }
            Ok(out)
        })
    }

    /// A user's history: every song they played or skipped, with counts.
    pub fn user_history(&self, user: i64) -> Result<Vec<HistoryEntry>> {
        self.with_store(|s| Ok(s.user_history(user)?))
    }

    /// A user's history as catalog positions of the current models (what
    /// the ranker's rules see).
    pub fn played(&self, user: i64) -> Result<Vec<encore_rank::Played>> {
        let m = self.models();
        self.with_store(|s| crate::played(s, &m.catalog, user))
    }

    /// Every song's store id with its MusicBrainz recording id and audio
    /// path, where known.
    pub fn song_keys(&self) -> Result<Vec<SongKey>> {
        let keys = self.with_store(|s| Ok(s.song_keys()?))?;
        Ok(keys.into_iter().map(|(id, mbid, audio_path)| SongKey { id, mbid, audio_path }).collect())
    }
}
