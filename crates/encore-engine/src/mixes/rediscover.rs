//! Rediscovery (songs a user played often and then stopped playing, the
//! same list all day, nothing served again within four weeks) and the
//! sonic fingerprint, named and explained.

use std::collections::{HashMap, HashSet};

use encore_rank::{Centroid, MixRequest};
use serde::Serialize;

use super::{day_offset, MixEntry};
use crate::{chrono_day, now, played, today, Engine, EngineError, Result};

/// Days a rediscovered song is not served again.
const REDISCOVER_REPEAT_DAYS: i64 = 28;

/// One rediscovered song.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RediscoverEntry {
    /// Store id.
    pub song_id: i64,
    /// Title.
    pub title: String,
    /// Artist name.
    pub artist: Option<String>,
    /// Full plays.
    pub plays: f32,
    /// Last play, Unix seconds.
    pub last_played: i64,
    /// Score.
    pub score: f32,
    /// Why, as a sentence.
    pub explanation: String,
}

/// A user's rediscovery list for a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rediscovery {
    /// User name.
    pub user: String,
    /// User id.
    pub user_id: i64,
    /// The day.
    pub date: String,
    /// Songs the user loved that qualified, before the list was cut.
    pub candidates: usize,
    /// The songs.
    pub items: Vec<RediscoverEntry>,
}

/// One centroid of a sonic fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FingerprintCluster {
    /// Share of the clustered plays.
    pub weight: f32,
    /// Its songs (store ids), most played first.
    pub song_ids: Vec<i64>,
    /// Mean tempo of its songs, BPM.
    pub tempo: Option<f32>,
    /// Mean loudness, LUFS.
    pub loudness: Option<f32>,
    /// Share of its songs in a major key.
    pub major_share: Option<f32>,
    /// Its most common genre.
    pub genre: Option<String>,
}

/// A user's sonic fingerprint and a mix of unplayed songs near it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fingerprint {
    /// User name.
    pub user: String,
    /// User id.
    pub user_id: i64,
    /// The clusters, heaviest first.
    pub clusters: Vec<FingerprintCluster>,
    /// Unplayed songs near it.
    pub items: Vec<MixEntry>,
}

impl Engine {
    /// The rediscovery list of `user` for `day`: songs they played often
    /// and stopped playing, none played in the last `quiet_days` days; the
    /// same list whenever asked for that day, and no song served in
    /// another day's list of the last four weeks.
    pub fn rediscover(&self, user: i64, day: &str, n: usize, quiet_days: Option<u32>) -> Result<Rediscovery> {
        let Some(since) = day_offset(day, -REDISCOVER_REPEAT_DAYS) else {
            return Err(EngineError::BadRequest(format!("date must be YYYY-MM-DD, got {day:?}")));
        };
        let m = self.models();
        let h = m.hybrid()?;
        let c = &m.catalog;
        self.with_store(|store| {
            let name = self.user(store, user)?;
            let history = played(store, c, user)?;
            let p = h.profile(&history, &[], &[]);
            let exclude: HashSet<usize> = store
                .list_served_other_days(user, "rediscover", day, &since)?
                .into_iter()
                .filter_map(|id| c.index(id))
                .collect();
            let defaults = encore_rank::RediscoverRequest::default();
            let req = encore_rank::RediscoverRequest {
                n,
                quiet_days: quiet_days.unwrap_or(defaults.quiet_days),
                now: now(),
                exclude,
                ..defaults
            };
            let mut found = h.rediscover(&p, &req)?;
            let candidates = found.len();
            if let Some(kept) = store.list_served_on(user, "rediscover", day)? {
                let mut by_id: HashMap<i64, encore_rank::Rediscovered> =
                    found.drain(..).map(|r| (c.song_ids[r.song], r)).collect();
                // Songs of the kept list that no longer qualify stay (the
                // list of a day does not change); their figures from the
                // history.
                let hist: HashMap<usize, &encore_rank::Played> = history.iter().map(|p| (p.song, p)).collect();
                found = kept
                    .iter()
                    .filter_map(|id| {
                        by_id.remove(id).or_else(|| {
                            let s = c.index(*id)?;
                            let p = hist.get(&s)?;
                            Some(encore_rank::Rediscovered {
                                song: s,
                                score: 0.0,
                                plays: p.plays,
                                last_played: p.last_played,
                                quiet_days: 0.0,
                            })
                        })
                    })
                    .collect();
            } else {
                let ids: Vec<i64> = found.iter().map(|r| c.song_ids[r.song]).collect();
                store.record_list_served(user, "rediscover", day, &ids)?;
            }
            let mut items = Vec::with_capacity(found.len());
            for r in found {
                let id = c.song_ids[r.song];
                let info = store.songs(&[id])?.pop();
                let days = (now() - r.last_played) / 86_400;
                items.push(RediscoverEntry {
                    song_id: id,
                    title: info.as_ref().map_or_else(|| format!("song {id}"), |i| i.title.clone()),
                    artist: info.and_then(|i| i.artist),
                    plays: r.plays,
                    last_played: r.last_played,
                    score: r.score,
                    explanation: format!("you played it {} times; last {} days ago", r.plays, days),
                });
            }
            Ok(Rediscovery { user: name, user_id: user, date: day.to_string(), candidates, items })
        })
    }

    /// The sonic fingerprint of `user` (up to three audio centroids of
    /// their 50 most played songs) and `n` unplayed songs near it.
    pub fn fingerprint(&self, user: i64, n: usize, day: Option<&str>) -> Result<Fingerprint> {
        let day = day.map_or_else(today, str::to_string);
        if chrono_day(&day).is_none() {
            return Err(EngineError::BadRequest(format!("date must be YYYY-MM-DD, got {day:?}")));
        }
        let m = self.models();
        let h = m.hybrid()?;
        let c = &m.catalog;
        let (name, history) = self.with_store(|store| Ok((self.user(store, user)?, played(store, c, user)?)))?;
        let cents: Vec<Centroid> = h.fingerprint(&history, 3, 50);
        if cents.is_empty() {
            return Err(EngineError::NotFound(format!("user {name} has no played song with analysed audio")));
        }
        let req = MixRequest {
            centroids: cents.clone(),
            n,
            personal: 0.0,
            rng_seed: xxhash_rust::xxh3::xxh3_64(format!("fingerprint/{user}/{day}").as_bytes()),
            exclude: history.iter().map(|p| p.song).collect(),
            ..MixRequest::default()
        };
        let items = h.mix(None, &req)?;
        let clusters: Vec<FingerprintCluster> = cents
            .iter()
            .map(|cen| {
                let attrs: Vec<encore_rank::Attributes> = cen.songs.iter().filter_map(|&s| c.attrs[s]).collect();
                let mean = |f: &dyn Fn(&encore_rank::Attributes) -> f32| {
                    (!attrs.is_empty()).then(|| attrs.iter().map(f).sum::<f32>() / attrs.len() as f32)
                };
                let mut genres: HashMap<&str, usize> = HashMap::new();
                for &s in &cen.songs {
                    if let Some(g) = &c.genre[s] {
                        *genres.entry(g).or_default() += 1;
                    }
                }
                FingerprintCluster {
                    weight: cen.weight,
                    song_ids: cen.songs.iter().map(|&s| c.song_ids[s]).collect(),
                    tempo: mean(&|a| a.tempo),
                    loudness: mean(&|a| a.loudness),
                    major_share: mean(&|a| if a.major { 1.0 } else { 0.0 }),
                    genre: genres.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map(|g| g.0.to_string()),
                }
            })
            .collect();
        let entries = self.with_store(|store| self.mix_entries(store, &m, &items, &clusters))?;
        Ok(Fingerprint { user: name, user_id: user, clusters, items: entries })
    }
}
