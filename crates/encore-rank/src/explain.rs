//! Explanations: each feature's contribution to a song's score and the
//! [`Reason`] of the strongest one.

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::{Hybrid, Ranked, AUDIO, CF, FEATURES, KNN, N_FEATURES, POPULAR, SEED, TEXT};
use encore_types::vector::{dot, sparse_dot};

/// Why a song was picked (the strongest source), turned into a sentence by
/// the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Collaborative filtering: listeners of this song also play `song`.
    BecauseYouPlay {
        /// The history song (store id) closest in CF space.
        song: i64,
    },
    /// Close to a song played recently.
    LikeRecent {
        /// The recent song (store id).
        song: i64,
    },
    /// Sounds like a song the user plays.
    SoundsLike {
        /// The history song (store id) closest in audio space.
        song: i64,
        /// Same key and mode.
        same_key: bool,
        /// Both within 4 % of this tempo.
        tempo: Option<f32>,
    },
    /// Its description matches the user's songs' descriptions.
    Described {
        /// The history song (store id) closest in text space.
        song: i64,
    },
    /// Its artist is written about together with artists the user plays.
    MentionedWith {
        /// The song's artist (store id).
        artist: i64,
    },
    /// New song (no plays yet) whose predicted vector fits the user.
    NewRelease,
    /// Popular in a genre the user plays.
    PopularInGenre {
        /// The genre.
        genre: Option<String>,
    },
    /// Like a seed.
    Seed {
        /// The closest seed song (store id).
        song: i64,
    },
}

impl Hybrid<'_> {
    pub(crate) fn reason(&self, p: &Profile, s: usize, contributions: &[f32; N_FEATURES]) -> Reason {
        let c = self.catalog;
        let best = (0..N_FEATURES).max_by(|&a, &b| contributions[a].total_cmp(&contributions[b])).unwrap_or(CF);
        let closest = |sim: &dyn Fn(usize) -> Option<f32>| -> Option<usize> {
            p.history
                .iter()
                .filter(|h| h.liked())
                .filter_map(|h| sim(h.song).map(|x| (x, h.song)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|e| e.1)
        };
        let vec_sim = |h: usize| Some(dot(self.song_unit(s)?, self.song_unit(h)?));
        if let (true, Some(a)) = (best == TEXT || best == POPULAR, c.artist[s]) {
            if p.comentioned.contains(&a) {
                return Reason::MentionedWith { artist: a };
            }
        }
        match best {
            SEED if !p.seeds.is_empty() => {
                let q =
                    p.seeds.iter().copied().max_by(|&a, &b| self.similarity(s, a).total_cmp(&self.similarity(s, b)));
                Reason::Seed { song: c.song_ids[q.unwrap_or(s)] }
            }
            _ if c.cf_col[s].is_none() && best == CF => Reason::NewRelease,
            CF => match closest(&vec_sim) {
                Some(h) => Reason::BecauseYouPlay { song: c.song_ids[h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            KNN => match self
                .song_unit(s)
                .and_then(|u| p.recent.iter().max_by(|a, b| dot(u, &a.1).total_cmp(&dot(u, &b.1))))
            {
                Some((h, _)) => Reason::LikeRecent { song: c.song_ids[*h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            AUDIO => {
                let h = closest(&|h| Some(dot(c.audio[s].as_ref()?, c.audio[h].as_ref()?)));
                match h {
                    Some(h) => {
                        let (a, b) = (c.attrs[s], c.attrs[h]);
                        let same_key = matches!((a, b), (Some(a), Some(b)) if a.key == b.key && a.major == b.major);
                        let tempo = match (a, b) {
                            (Some(a), Some(b)) if (a.tempo - b.tempo).abs() <= 0.04 * b.tempo => Some(b.tempo),
                            _ => None,
                        };
                        Reason::SoundsLike { song: c.song_ids[h], same_key, tempo }
                    }
                    None => Reason::PopularInGenre { genre: c.genre[s].clone() },
                }
            }
            TEXT => match closest(&|h| Some(sparse_dot(c.text[s].as_ref()?, c.text[h].as_ref()?))) {
                Some(h) => Reason::Described { song: c.song_ids[h] },
                None => Reason::PopularInGenre { genre: c.genre[s].clone() },
            },
            _ => Reason::PopularInGenre { genre: c.genre[s].clone() },
        }
    }

    pub(crate) fn item(
        &self,
        p: &Profile,
        z: &[f32; N_FEATURES],
        s: usize,
        score: f32,
        sources: Vec<String>,
    ) -> Ranked {
        let c = self.catalog;
        let contrib = self.fusion.contributions(z);
        Ranked {
            song: s,
            song_id: c.song_ids[s],
            score,
            contributions: FEATURES.iter().zip(contrib).map(|(n, v)| (n.to_string(), v)).collect(),
            sources,
            reason: self.reason(p, s, &contrib),
            new_artist: c.artist[s].is_none_or(|a| !p.played_artists.contains(&a)),
        }
    }

    /// Scores and explains the given songs for `p` (no rules).
    pub fn explain(&self, p: &Profile, songs: &[usize]) -> Vec<Ranked> {
        let zs = self.z_of(p, songs);
        songs.iter().zip(&zs).map(|(&s, z)| self.item(p, z, s, self.fusion.logit(z), Vec::new())).collect()
    }
}
