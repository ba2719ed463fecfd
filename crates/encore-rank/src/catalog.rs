//! The catalog as the ranker sees it (columns by catalog position), a
//! user's played songs, and what is derived from catalog and CF model once
//! per load ([`Prepared`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use encore_cf::CfModel;
use serde::{Deserialize, Serialize};

use crate::{Error, Hybrid, Result, Retrieval, RetrievalConfig};
use encore_types::vector::{dot, unit};

/// Musical attributes used by filters and targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    /// BPM.
    pub tempo: f32,
    /// Pitch class of the key, 0 = C.
    pub key: u8,
    /// Major (true) or minor.
    pub major: bool,
    /// Integrated loudness, LUFS.
    pub loudness: f32,
    /// Duration, seconds.
    pub duration: f32,
}

/// Everything known about the catalog, by catalog position (songs sorted
/// by store id).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Store ids, ascending.
    pub song_ids: Vec<i64>,
    /// Artist of each song.
    pub artist: Vec<Option<i64>>,
    /// Genre of each song.
    pub genre: Vec<Option<String>>,
    /// Audio attributes of each song.
    pub attrs: Vec<Option<Attributes>>,
    /// Column of each song in the CF model.
    pub cf_col: Vec<Option<u32>>,
    /// Audio-predicted CF vector of songs without a CF column.
    pub predicted: Vec<Option<Vec<f32>>>,
    /// Audio vector (L2-normalised) of each song.
    pub audio: Vec<Option<Vec<f32>>>,
    /// Term vector (L2-normalised, sparse) of each song.
    pub text: Vec<Option<Vec<(u32, f32)>>>,
    /// Distinct listeners of each song.
    pub listeners: Vec<f32>,
    /// Artists mentioned together with each artist in the text (strongest
    /// first), by artist id.
    pub comentioned: HashMap<i64, Vec<i64>>,
    /// Album of each song, as a position in `album_names` (an album is one
    /// artist's release of that name); empty when no song names one.
    pub album: Vec<Option<u32>>,
    /// Album names, by position.
    pub album_names: Vec<String>,
}

impl Catalog {
    /// Number of songs.
    pub fn len(&self) -> usize {
        self.song_ids.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.song_ids.is_empty()
    }

    /// Position of song `id`.
    pub fn index(&self, id: i64) -> Option<usize> {
        self.song_ids.binary_search(&id).ok()
    }

    /// Album of song `s` (position in `album_names`), if known.
    pub fn album_of(&self, s: usize) -> Option<u32> {
        self.album.get(s).copied().flatten()
    }

    /// Checks that every column has one entry per song.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        let lens = [
            self.artist.len(),
            self.genre.len(),
            self.attrs.len(),
            self.cf_col.len(),
            self.predicted.len(),
            self.audio.len(),
            self.text.len(),
            self.listeners.len(),
        ];
        let albums_ok = (self.album.is_empty() || self.album.len() == n)
            && self.album.iter().flatten().all(|&a| (a as usize) < self.album_names.len());
        if !albums_ok || lens.iter().any(|&l| l != n) || self.song_ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::BadRequest(format!("catalog columns disagree: {n} songs, columns {lens:?}")));
        }
        Ok(())
    }
}

/// One song of a user's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Played {
    /// Catalog position.
    pub song: usize,
    /// Full plays.
    pub plays: f32,
    /// Skips.
    pub skips: u32,
    /// Latest play, Unix seconds.
    pub last_played: i64,
}

impl Played {
    /// Whether the user likes it: more full plays than half the skips.
    pub fn liked(&self) -> bool {
        self.plays - 0.5 * self.skips as f32 > 0.0
    }
}

/// What [`Hybrid`] derives from a catalog and a CF model once: build it
/// with [`Prepared::new`] when the models load and rank every request with
/// [`Hybrid::with_prepared`] (on a 580k-song catalog it is ~300 MB).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// CF vector of each catalog song (trained, or predicted and rescaled).
    pub(crate) song_vecs: Vec<Option<Vec<f32>>>,
    /// The same, L2-normalised.
    pub(crate) song_units: Vec<Option<Vec<f32>>>,
    /// Mean length of the trained song vectors.
    pub(crate) cf_scale: f32,
    /// Listeners of each song; a song nobody played yet gets the mean of
    /// its artist's played songs (what is known of a new release).
    pub(crate) popularity: Vec<f32>,
    /// Each artist's songs, most listened first.
    pub(crate) by_artist: HashMap<i64, Vec<u32>>,
    /// Candidate retrieval; without it every request scores the catalog.
    pub(crate) retrieval: Option<Arc<Retrieval>>,
}

impl Prepared {
    /// Derives the per-song vectors and popularity.
    pub fn new(catalog: &Catalog, cf: &CfModel) -> Result<Prepared> {
        catalog.validate()?;
        let n = cf.item_ids().len().max(1);
        let cf_scale =
            (0..cf.item_ids().len()).map(|i| dot(cf.item_vector(i), cf.item_vector(i)).sqrt()).sum::<f32>() / n as f32;
        let song_vecs: Vec<Option<Vec<f32>>> = (0..catalog.len())
            .map(|s| {
                if let Some(c) = catalog.cf_col[s] {
                    Some(cf.item_vector(c as usize).to_vec())
                } else {
                    catalog.predicted[s]
                        .as_ref()
                        .filter(|p| p.len() == cf.factors())
                        .map(|p| unit(p).iter().map(|x| x * cf_scale).collect())
                }
            })
            .collect();
        let mut by_artist: HashMap<i64, (f32, f32)> = HashMap::new();
        for s in 0..catalog.len() {
            if let (Some(a), true) = (catalog.artist[s], catalog.listeners[s] > 0.0) {
                let e = by_artist.entry(a).or_default();
                e.0 += catalog.listeners[s];
                e.1 += 1.0;
            }
        }
        let popularity = (0..catalog.len())
            .map(|s| {
                if catalog.listeners[s] > 0.0 {
                    catalog.listeners[s]
                } else {
                    catalog.artist[s].and_then(|a| by_artist.get(&a)).map_or(0.0, |(sum, n)| sum / n)
                }
            })
            .collect();
        let song_units = song_vecs.iter().map(|v| v.as_deref().map(unit)).collect();
        let mut by_artist: HashMap<i64, Vec<u32>> = HashMap::new();
        for s in 0..catalog.len() {
            if let Some(a) = catalog.artist[s] {
                by_artist.entry(a).or_default().push(s as u32);
            }
        }
        for v in by_artist.values_mut() {
            v.sort_by(|&a, &b| catalog.listeners[b as usize].total_cmp(&catalog.listeners[a as usize]).then(a.cmp(&b)));
        }
        Ok(Prepared { song_vecs, song_units, cf_scale, popularity, by_artist, retrieval: None })
    }

    /// Adds candidate retrieval (see [`Retrieval`]): requests then cost
    /// O(candidates) instead of O(catalog). `catalog` must be the one this
    /// was prepared from.
    pub fn with_retrieval(self, catalog: &Catalog, cfg: RetrievalConfig) -> Result<Prepared> {
        self.with_retrieval_in(catalog, cfg, None)
    }

    /// [`Prepared::with_retrieval`], keeping the HNSW graphs in `cache`
    /// between loads: a graph saved there from the same vectors is opened
    /// memory-mapped instead of built (see [`Retrieval`]).
    pub fn with_retrieval_in(
        mut self,
        catalog: &Catalog,
        cfg: RetrievalConfig,
        cache: Option<&Path>,
    ) -> Result<Prepared> {
        let r = Retrieval::build(catalog, &self.song_vecs, &self.song_units, &self.popularity, cfg, cache)?;
        self.retrieval = Some(Arc::new(r));
        Ok(self)
    }

    /// The candidate retrieval, if built.
    pub fn retrieval(&self) -> Option<&Retrieval> {
        self.retrieval.as_deref()
    }
}

impl Hybrid<'_> {
    /// CF vector (trained, or predicted and rescaled) of a catalog song.
    pub fn song_vector(&self, s: usize) -> Option<&[f32]> {
        self.prep.song_vecs[s].as_deref()
    }

    /// [`Hybrid::song_vector`], L2-normalised (computed once per model).
    pub fn song_unit(&self, s: usize) -> Option<&[f32]> {
        self.prep.song_units[s].as_deref()
    }
}
