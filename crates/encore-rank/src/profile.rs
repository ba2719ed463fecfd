//! A user's profile: the per-user inputs of the features (their CF
//! vector folded in from the history, recent songs, audio and text
//! profiles, genre shares, seeds, artists played and co-mentioned).

use std::collections::{HashMap, HashSet};

use crate::{Hybrid, Played};
use encore_types::vector::{dot, sparse_dot, unit};

/// The per-user inputs of the features.
#[derive(Debug, Clone)]
pub struct Profile {
    pub(crate) history: Vec<Played>,
    pub(crate) cf_vector: Vec<f32>,
    /// Whether `cf_vector` is non-zero (the user has played a CF song).
    pub(crate) has_cf: bool,
    pub(crate) recent: Vec<(usize, Vec<f32>)>,
    /// Mean of the recent songs' unit vectors: the mean cosine with them is
    /// one dot product with this.
    pub(crate) recent_mean: Vec<f32>,
    pub(crate) audio: Option<Vec<f32>>,
    pub(crate) text: Option<Vec<(u32, f32)>>,
    pub(crate) genre_share: HashMap<String, f32>,
    pub(crate) seeds: Vec<usize>,
    pub(crate) played_artists: HashSet<i64>,
    /// Artists co-mentioned with the user's most played artists (and not
    /// played by them).
    pub(crate) comentioned: HashSet<i64>,
}

impl Hybrid<'_> {
    /// Builds a user's profile from their history (and seeds).
    pub fn profile(&self, history: &[Played], seed_songs: &[usize], seed_artists: &[i64]) -> Profile {
        let c = self.catalog;
        let cf_hist: Vec<(usize, f32, u32)> =
            history.iter().filter_map(|h| c.cf_col[h.song].map(|col| (col as usize, h.plays, h.skips))).collect();
        let cf_vector = if cf_hist.is_empty() {
            vec![0.0; self.cf.factors()]
        } else {
            self.cf.fold_in(&cf_hist).unwrap_or_else(|_| vec![0.0; self.cf.factors()])
        };
        let mut liked: Vec<&Played> = history.iter().filter(|h| h.liked()).collect();
        liked.sort_by(|a, b| b.last_played.cmp(&a.last_played).then(b.plays.total_cmp(&a.plays)));
        let recent: Vec<(usize, Vec<f32>)> =
            liked.iter().filter_map(|h| self.song_vector(h.song).map(|v| (h.song, unit(v)))).take(10).collect();
        let mut audio = vec![0f32; 0];
        let mut text: HashMap<u32, f32> = HashMap::new();
        let mut genre: HashMap<String, f32> = HashMap::new();
        let mut total = 0f32;
        for h in &liked {
            let w = (1.0 + h.plays).ln();
            if let Some(a) = &c.audio[h.song] {
                if audio.is_empty() {
                    audio = vec![0.0; a.len()];
                }
                if audio.len() == a.len() {
                    audio.iter_mut().zip(a).for_each(|(p, x)| *p += w * x);
                }
            }
            if let Some(t) = &c.text[h.song] {
                for &(k, x) in t {
                    *text.entry(k).or_default() += w * x;
                }
            }
            if let Some(g) = &c.genre[h.song] {
                *genre.entry(g.clone()).or_default() += h.plays;
                total += h.plays;
            }
        }
        genre.values_mut().for_each(|v| *v /= total.max(1e-6));
        let mut tv: Vec<(u32, f32)> = text.into_iter().collect();
        tv.sort_unstable_by_key(|e| e.0);
        let tn = tv.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt();
        tv.iter_mut().for_each(|e| e.1 /= tn.max(1e-12));
        let mut seeds: Vec<usize> = seed_songs.to_vec();
        if !seed_artists.is_empty() {
            // The artist's most-listened songs stand for the artist.
            let mut by_artist: Vec<usize> = seed_artists
                .iter()
                .filter_map(|a| self.prep.by_artist.get(a))
                .flat_map(|v| v.iter().map(|&s| s as usize))
                .collect();
            by_artist.sort_by(|&a, &b| c.listeners[b].total_cmp(&c.listeners[a]).then(a.cmp(&b)));
            by_artist.dedup();
            seeds.extend(by_artist.into_iter().take(3 * seed_artists.len()));
        }
        let mut by_artist: HashMap<i64, f32> = HashMap::new();
        for h in &liked {
            if let Some(a) = c.artist[h.song] {
                *by_artist.entry(a).or_default() += h.plays;
            }
        }
        let mut top_artists: Vec<(i64, f32)> = by_artist.into_iter().collect();
        top_artists.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let played_artists: HashSet<i64> = history.iter().filter_map(|h| c.artist[h.song]).collect();
        let comentioned = top_artists
            .iter()
            .take(5)
            .filter_map(|(a, _)| c.comentioned.get(a))
            .flat_map(|v| v.iter().take(5).copied())
            .filter(|a| !played_artists.contains(a))
            .collect();
        let mut recent_mean = vec![0f32; self.cf.factors()];
        for (_, w) in &recent {
            recent_mean.iter_mut().zip(w).for_each(|(m, x)| *m += x / recent.len() as f32);
        }
        Profile {
            has_cf: cf_vector.iter().any(|&x| x != 0.0),
            recent_mean,
            comentioned,
            history: history.to_vec(),
            cf_vector,
            recent,
            audio: (!audio.is_empty()).then(|| unit(&audio)),
            text: (!tv.is_empty()).then_some(tv),
            genre_share: genre,
            seeds,
            played_artists,
        }
    }

    /// Similarity of two catalog songs: the mean of their CF, audio and
    /// text cosines, where both have the vector.
    pub fn similarity(&self, a: usize, b: usize) -> f32 {
        let parts = self.similarity_parts(a, b);
        let (s, n) = parts.iter().flatten().fold((0.0, 0.0), |(s, n), x| (s + x, n + 1.0));
        if n > 0.0 {
            s / n
        } else {
            0.0
        }
    }

    /// The CF, audio and text cosines of two catalog songs (`None` where
    /// either lacks the vector).
    pub fn similarity_parts(&self, a: usize, b: usize) -> [Option<f32>; 3] {
        let c = self.catalog;
        [
            self.song_unit(a).zip(self.song_unit(b)).map(|(x, y)| dot(x, y)),
            c.audio[a].as_deref().zip(c.audio[b].as_deref()).map(|(x, y)| dot(x, y)),
            c.text[a].as_deref().zip(c.text[b].as_deref()).map(|(x, y)| sparse_dot(x, y)),
        ]
    }
}
