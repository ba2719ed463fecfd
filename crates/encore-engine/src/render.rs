//! Answers with names and sentences: recommend, discover and similar,
//! each a ranked list turned into songs, artists and the reason for each.

use std::collections::{BTreeMap, HashMap, HashSet};

use encore_rank::{PoolSizes, Reason, Request, VectorSet};
use encore_store::Store;
use serde::{Deserialize, Serialize};

use crate::{chrono_day, now, played, Engine, EngineError, Entity, Models, Result, Tunables};

/// Which model measures "similar" in [`Engine::similar`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum SimilarBy {
    /// Collaborative filtering (songs without plays by their vector
    /// predicted from audio).
    Cf,
    /// The audio vector.
    Audio,
    /// The text model's term vectors.
    Text,
    /// CF, audio and text together.
    Hybrid,
}

impl SimilarBy {
    /// Its name in requests and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SimilarBy::Cf => "cf",
            SimilarBy::Audio => "audio",
            SimilarBy::Text => "text",
            SimilarBy::Hybrid => "hybrid",
        }
    }
}

impl std::str::FromStr for SimilarBy {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<SimilarBy> {
        match s {
            "cf" => Ok(SimilarBy::Cf),
            "audio" => Ok(SimilarBy::Audio),
            "text" => Ok(SimilarBy::Text),
            "hybrid" => Ok(SimilarBy::Hybrid),
            other => Err(EngineError::BadRequest(format!("by must be cf, audio, text or hybrid, not {other:?}"))),
        }
    }
}

/// What a caller asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// How many songs (default 20).
    pub n: Option<usize>,
    /// Seed songs (store ids).
    pub seed_songs: Vec<i64>,
    /// Seed artists (store ids).
    pub seed_artists: Vec<i64>,
    /// Attribute bounds and targets.
    pub tunables: Tunables,
    /// Only leave out songs played within this many days (default: all).
    pub exclude_played_days: Option<u32>,
    /// At most this many songs per artist (default 2).
    pub max_per_artist: Option<usize>,
}

/// One recommended song, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Store id.
    pub song_id: i64,
    /// Title.
    pub title: String,
    /// Artist name.
    pub artist: Option<String>,
    /// Artist id.
    pub artist_id: Option<i64>,
    /// Genre.
    pub genre: Option<String>,
    /// Fused score.
    pub score: f32,
    /// The sources that nominated it.
    pub sources: Vec<String>,
    /// Each feature's contribution to the score.
    pub contributions: BTreeMap<String, f32>,
    /// The reason, as data.
    pub reason: Reason,
    /// The reason, as a sentence.
    pub explanation: String,
    /// From an artist the user never played.
    pub new_artist: bool,
}

/// A ranked list for a user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendations {
    /// User name.
    pub user: String,
    /// User id.
    pub user_id: i64,
    /// The day of a discovery playlist.
    pub date: Option<String>,
    /// Release (or CF model) version used.
    pub model_version: String,
    /// Songs in the user's history.
    pub history_songs: usize,
    /// Pool sizes before and after each filter.
    pub pool: PoolSizes,
    /// The songs.
    pub items: Vec<Recommendation>,
}

fn quote(terms: &[String]) -> String {
    match terms {
        [] => String::new(),
        [a] => format!("'{a}'"),
        [a, b, ..] => format!("'{a}' and '{b}'"),
    }
}

impl Engine {
    pub(crate) fn user(&self, store: &Store, user: i64) -> Result<String> {
        store.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))
    }

    pub(crate) fn song_index(&self, m: &Models, id: i64) -> Result<usize> {
        m.catalog.index(id).ok_or_else(|| EngineError::NotFound(format!("no song with id {id}")))
    }

    pub(crate) fn sentence(&self, store: &Store, m: &Models, song: i64, reason: &Reason) -> Result<String> {
        let name = |id: i64| -> Result<String> {
            Ok(store
                .songs(&[id])?
                .pop()
                .map(|s| format!("\"{}\" by {}", s.title, s.artist.unwrap_or_else(|| "an unknown artist".into())))
                .unwrap_or_else(|| format!("song {id}")))
        };
        let terms = |id: i64| -> Vec<String> {
            m.text
                .as_ref()
                .and_then(|t| t.describe(Entity::Song(id), 2))
                .map(|d| d.terms.into_iter().map(|t| t.0).collect())
                .unwrap_or_default()
        };
        Ok(match reason {
            Reason::BecauseYouPlay { song } => format!("because you play {}", name(*song)?),
            Reason::LikeRecent { song } => format!("close to {}, which you played recently", name(*song)?),
            Reason::SoundsLike { song, same_key, tempo } => {
                let mut s = format!("sounds like {}", name(*song)?);
                match (same_key, tempo) {
                    (true, Some(t)) => s.push_str(&format!(": same key and {t:.0} BPM")),
                    (true, None) => s.push_str(": same key"),
                    (false, Some(t)) => s.push_str(&format!(": {t:.0} BPM")),
                    (false, None) => {}
                }
                s
            }
            Reason::Described { song: h } => {
                let t = terms(song);
                if t.is_empty() {
                    format!("written about like {}", name(*h)?)
                } else {
                    format!("described as {}, like {}", quote(&t), name(*h)?)
                }
            }
            Reason::MentionedWith { artist } => {
                let name = store.artist_name(*artist)?.unwrap_or_else(|| format!("artist {artist}"));
                format!("{name} is written about together with artists you play")
            }
            Reason::NewRelease => "a new release that sounds like what you play".to_string(),
            Reason::PopularInGenre { genre: Some(g) } => format!("popular in {g}, which you play"),
            Reason::PopularInGenre { genre: None } => "popular with listeners".to_string(),
            Reason::Seed { song } => format!("like your seed {}", name(*song)?),
        })
    }

    pub(crate) fn render(
        &self,
        store: &Store,
        m: &Models,
        user: i64,
        date: Option<String>,
        history: usize,
        r: encore_rank::Response,
    ) -> Result<Recommendations> {
        let mut items = Vec::with_capacity(r.items.len());
        for it in r.items {
            let info = store
                .songs(&[it.song_id])?
                .pop()
                .ok_or_else(|| EngineError::Inconsistent(format!("song {} vanished from the store", it.song_id)))?;
            let explanation = self.sentence(store, m, it.song_id, &it.reason)?;
            items.push(Recommendation {
                song_id: it.song_id,
                title: info.title,
                artist: info.artist,
                artist_id: info.artist_id,
                genre: info.genre,
                score: it.score,
                sources: it.sources,
                contributions: it.contributions.into_iter().collect(),
                reason: it.reason,
                explanation,
                new_artist: it.new_artist,
            });
        }
        Ok(Recommendations {
            user: self.user(store, user)?,
            user_id: user,
            date,
            model_version: m.version(),
            history_songs: history,
            pool: r.pool,
            items,
        })
    }

    /// Recommendations for `user` (store id).
    pub fn recommend(&self, user: i64, q: &Query) -> Result<Recommendations> {
        let m = self.models();
        let h = m.hybrid()?;
        // The store lock is held to read the history and to name the
        // results, not while ranking.
        let history = self.with_store(|store| {
            self.user(store, user)?;
            played(store, &m.catalog, user)
        })?;
        {
            let seed_songs = q.seed_songs.iter().map(|&id| self.song_index(&m, id)).collect::<Result<Vec<usize>>>()?;
            for a in &q.seed_artists {
                if !m.catalog.artist.contains(&Some(*a)) {
                    return Err(EngineError::NotFound(format!("no artist with id {a}")));
                }
            }
            let p = h.profile(&history, &seed_songs, &q.seed_artists);
            let req = Request {
                n: q.n.unwrap_or(20),
                seed_songs,
                seed_artists: q.seed_artists.clone(),
                tunables: q.tunables.clone(),
                exclude_played_days: q.exclude_played_days,
                now: now(),
                max_per_artist: q.max_per_artist.unwrap_or(2),
                ..Request::default()
            };
            let r = h.rank(&p, &req)?;
            self.with_store(|store| self.render(store, &m, user, None, history.len(), r))
        }
    }

    /// The discovery playlist of `user` for `day` (YYYY-MM-DD): the same
    /// list whenever asked for that day; never a song the user played or
    /// was served on another day; at least 30 % from artists new to them;
    /// one song per artist.
    pub fn discover(&self, user: i64, day: &str, n: usize) -> Result<Recommendations> {
        if chrono_day(day).is_none() {
            return Err(EngineError::BadRequest(format!("date must be YYYY-MM-DD, got {day:?}")));
        }
        let m = self.models();
        let h = m.hybrid()?;
        self.with_store(|store| {
            self.user(store, user)?;
            let history = played(store, &m.catalog, user)?;
            let p = h.profile(&history, &[], &[]);
            let exclude: HashSet<usize> =
                store.served_other_days(user, day)?.into_iter().filter_map(|id| m.catalog.index(id)).collect();
            let seed = xxhash_rust::xxh3::xxh3_64(format!("{user}/{day}").as_bytes());
            let req = Request {
                n,
                exclude,
                max_per_artist: 1,
                mmr_lambda: 0.7,
                min_new_artist_share: 0.3,
                jitter: Some((0.5, seed)),
                ..Request::default()
            };
            let mut r = h.rank(&p, &req)?;
            if let Some(kept) = store.served_on(user, day)? {
                // Already served today: the same songs in the same order.
                let by_id: HashMap<i64, encore_rank::Ranked> = r.items.drain(..).map(|it| (it.song_id, it)).collect();
                let missing: Vec<usize> =
                    kept.iter().filter(|id| !by_id.contains_key(id)).filter_map(|&id| m.catalog.index(id)).collect();
                let mut extra: HashMap<i64, encore_rank::Ranked> =
                    h.explain(&p, &missing).into_iter().map(|it| (it.song_id, it)).collect();
                let mut by_id = by_id;
                r.items = kept.iter().filter_map(|id| by_id.remove(id).or_else(|| extra.remove(id))).collect();
                r.pool.returned = r.items.len();
            } else {
                let ids: Vec<i64> = r.items.iter().map(|it| it.song_id).collect();
                store.record_served(user, day, &ids)?;
            }
            self.render(store, &m, user, Some(day.to_string()), history.len(), r)
        })
    }

    /// Songs similar to `song` by `by`: `cf`, `audio`, `text` or `hybrid`
    /// (the mean of the three similarities where present).
    pub fn similar(&self, song: i64, by: SimilarBy, n: usize) -> Result<Vec<(i64, f32)>> {
        let m = self.models();
        let s = self.song_index(&m, song)?;
        if n == 0 || n > 1000 {
            return Err(EngineError::BadRequest(format!("n must be between 1 and 1000, got {n}")));
        }
        let h = m.hybrid()?;
        let c = &m.catalog;
        // With candidate retrieval, cf and audio look only at the index's
        // nearest songs (exact below the HNSW threshold), hybrid — on an
        // HNSW-served catalog — at the union of both; text asks its model.
        let k = (n + 1).max(100);
        let pool: Option<Vec<usize>> = m.prepared.retrieval().and_then(|r| {
            let cf = || h.song_unit(s).map(|q| r.nearest(VectorSet::Cf, q, k));
            let audio = || c.audio[s].as_deref().map(|q| r.nearest(VectorSet::Audio, q, k));
            match by {
                SimilarBy::Cf => cf(),
                SimilarBy::Audio => audio(),
                SimilarBy::Hybrid if r.uses_ann() => {
                    let mut p: Vec<usize> = cf().into_iter().chain(audio()).flatten().collect();
                    p.sort_unstable();
                    p.dedup();
                    Some(p)
                }
                _ => None,
            }
        });
        let score: Box<dyn Fn(usize) -> Option<f32>> = match by {
            SimilarBy::Cf => {
                let q = h.song_unit(s).map(<[f32]>::to_vec).ok_or_else(|| {
                    EngineError::NotFound(format!("song {song} has no CF vector (no plays and no audio)"))
                })?;
                Box::new(move |t| h.song_unit(t).map(|v| v.iter().zip(&q).map(|(a, b)| a * b).sum()))
            }
            SimilarBy::Audio => {
                let q = c.audio[s]
                    .clone()
                    .ok_or_else(|| EngineError::NotFound(format!("song {song} has no analysed audio")))?;
                Box::new(move |t| c.audio[t].as_ref().map(|v| v.iter().zip(&q).map(|(a, b)| a * b).sum()))
            }
            SimilarBy::Text => {
                let t = m.text.as_ref().ok_or_else(|| EngineError::NotReady("no text model".into()))?;
                let sims: HashMap<i64, f32> = t
                    .similar(Entity::Song(song), n)
                    .into_iter()
                    .filter_map(|(e, x)| match e {
                        Entity::Song(id) => Some((id, x)),
                        Entity::Artist(_) => None,
                    })
                    .collect();
                if sims.is_empty() && t.song_vector(song).is_none() {
                    return Err(EngineError::NotFound(format!("song {song} has no text")));
                }
                Box::new(move |t| sims.get(&c.song_ids[t]).copied())
            }
            SimilarBy::Hybrid => Box::new(move |t| Some(h.similarity(s, t))),
        };
        let candidates: Box<dyn Iterator<Item = usize>> = match pool {
            Some(p) => Box::new(p.into_iter()),
            None => Box::new(0..c.len()),
        };
        let mut all: Vec<(i64, f32)> =
            candidates.filter(|&t| t != s).filter_map(|t| score(t).map(|x| (c.song_ids[t], x))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        Ok(all)
    }
}
