//! The hybrid ranker: one recommender from collaborative filtering, text and
//! audio.
//!
//! **Features.** For a user (their history, optionally seeds) every catalog
//! song gets one raw score per source, standardised over the catalog
//! (z-scores) so sources are comparable:
//! - `cf`: user vector · song vector; a song without plays uses its vector
//!   predicted from audio (cold start), rescaled to the trained vectors'
//!   mean length;
//! - `knn`: mean cosine of the song's (CF or predicted) vector with the
//!   user's ten most recent songs;
//! - `audio`: cosine of the song's audio vector with the user's
//!   play-weighted audio profile;
//! - `text`: cosine of the song's term vector with the user's term profile;
//! - `popular`: ln(1 + listeners) × the user's share of plays in the song's
//!   genre (a song nobody played yet counts its artist's mean listeners);
//! - `seed`: the best mean similarity (CF, audio, text) to a seed song or a
//!   song of a seed artist.
//!
//! **Candidates.** Each source nominates its top songs (named: `cf`, `knn`,
//! `audio`, `text`, `comention` — the most popular songs of artists the
//! articles mention together with the user's top artists —, `cold` — songs
//! without plays, by predicted CF score —, `popular`, `seed`); the union is filtered (played songs, songs already
//! served, attribute bounds), fused, and re-ranked.
//!
//! **Fusion.** [`Fusion`] is a logistic regression on the features, fitted
//! on a validation split (which candidates did users go on to play?) and
//! stored with the model.
//!
//! **Rules.** Played songs are never recommended (or not within a window);
//! at most `max_per_artist` songs per artist; maximal marginal relevance
//! (MMR) trades score for diversity; `min_*`/`max_*` bounds filter on tempo,
//! key, mode, loudness and duration, `target_*` values penalise distance;
//! a discovery list can demand a share of artists the user never played.
//!
//! **Explanations.** Every result has each feature's contribution to its
//! score and a [`Reason`] for the largest one, which the engine turns into a
//! sentence with names.
#![deny(missing_docs)]

mod candidates;
mod catalog;
mod explain;
mod features;
mod filter;
mod fusion;
mod mix;
mod path;
mod profile;
mod rediscover;
mod retrieval;
mod select;
mod vector_moments;

use std::collections::HashSet;

use encore_cf::CfModel;
use serde::Serialize;

pub use catalog::{Attributes, Catalog, Played, Prepared};
pub use explain::Reason;
pub use features::Scores;
pub use filter::Tunables;
pub use fusion::Fusion;

pub use mix::{MixItem, MixReason, MixRequest, MixSeed};
pub use path::{PathItem, PathMethod, PathRequest, PathResponse, PathStats, JOINT_WEIGHTS};
pub use rediscover::{Centroid, RediscoverRequest, Rediscovered};

pub use profile::Profile;
pub use retrieval::{Retrieval, RetrievalConfig, VectorSet};

use candidates::top_k;
use encore_types::vector::{dot, sparse_dot};
use features::{moments, standardise};

/// Number of features.
pub const N_FEATURES: usize = 6;

/// Feature names, in order.
pub const FEATURES: [&str; N_FEATURES] = ["cf", "knn", "audio", "text", "popular", "seed"];
const CF: usize = 0;
const KNN: usize = 1;
const AUDIO: usize = 2;
const TEXT: usize = 3;
const POPULAR: usize = 4;
const SEED: usize = 5;

/// Errors of the ranker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request parameter is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// Building a retrieval index failed.
    #[error("building the candidate index: {0}")]
    Index(String),
}

/// Result of the ranker.
pub type Result<T> = std::result::Result<T, Error>;

/// What to rank for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// How many songs.
    pub n: usize,
    /// Seed songs (catalog positions), at most 5 seeds in all.
    pub seed_songs: Vec<usize>,
    /// Seed artists (store ids).
    pub seed_artists: Vec<i64>,
    /// Attribute bounds and targets.
    pub tunables: Tunables,
    /// Songs the user played are left out; with `Some(days)`, only those
    /// played within that many days of `now`.
    pub exclude_played_days: Option<u32>,
    /// "Now", Unix seconds (for the played window).
    pub now: i64,
    /// Songs never to return (e.g. served in earlier discovery playlists).
    pub exclude: HashSet<usize>,
    /// At most this many songs per artist.
    pub max_per_artist: usize,
    /// MMR trade-off: 1 = score only, 0 = diversity only.
    pub mmr_lambda: f32,
    /// At least this share of the list from artists the user never played.
    pub min_new_artist_share: f32,
    /// Random jitter added to scores (discovery's daily variety), with its
    /// seed.
    pub jitter: Option<(f32, u64)>,
    /// Songs each source nominates.
    pub per_source: usize,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            n: 20,
            seed_songs: Vec::new(),
            seed_artists: Vec::new(),
            tunables: Tunables::default(),
            exclude_played_days: None,
            now: 0,
            exclude: HashSet::new(),
            max_per_artist: 2,
            mmr_lambda: 0.8,
            min_new_artist_share: 0.0,
            jitter: None,
            per_source: 200,
        }
    }
}

/// One ranked song.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Catalog position.
    pub song: usize,
    /// Store id.
    pub song_id: i64,
    /// Fused score (logit, after target penalties).
    pub score: f32,
    /// Each feature's contribution to the score, by name.
    pub contributions: Vec<(String, f32)>,
    /// The sources that nominated it.
    pub sources: Vec<String>,
    /// The strongest reason.
    pub reason: Reason,
    /// Whether the user never played its artist.
    pub new_artist: bool,
}

/// How big the pool was at each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PoolSizes {
    /// Songs nominated by each source.
    pub by_source: Vec<(String, usize)>,
    /// Distinct nominated songs.
    pub candidates: usize,
    /// After leaving out played songs.
    pub after_played: usize,
    /// After leaving out excluded (already served) songs.
    pub after_excluded: usize,
    /// After the attribute bounds.
    pub after_filters: usize,
    /// Returned.
    pub returned: usize,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    /// The songs, best first.
    pub items: Vec<Ranked>,
    /// Pool sizes.
    pub pool: PoolSizes,
}

/// The ranker: the catalog, the CF model and the fitted fusion.
#[derive(Debug, Clone)]
pub struct Hybrid<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The CF model.
    pub cf: &'a CfModel,
    /// The fusion weights.
    pub fusion: &'a Fusion,
    prep: std::borrow::Cow<'a, Prepared>,
}

impl<'a> Hybrid<'a> {
    /// Prepares the ranker.
    pub fn new(catalog: &'a Catalog, cf: &'a CfModel, fusion: &'a Fusion) -> Result<Hybrid<'a>> {
        let prep = Prepared::new(catalog, cf)?;
        Ok(Hybrid { catalog, cf, fusion, prep: std::borrow::Cow::Owned(prep) })
    }

    /// The ranker over a [`Prepared`] made from the same catalog and model.
    pub fn with_prepared(catalog: &'a Catalog, cf: &'a CfModel, fusion: &'a Fusion, prep: &'a Prepared) -> Hybrid<'a> {
        Hybrid { catalog, cf, fusion, prep: std::borrow::Cow::Borrowed(prep) }
    }
}

impl Request {
    /// Checks the request: its bounds, 1 ≤ n ≤ 1000, at most 5 seeds, the
    /// shares within 0–1.
    pub fn validate(&self) -> Result<()> {
        self.tunables.validate()?;
        if self.n == 0 || self.n > 1000 {
            return Err(Error::BadRequest(format!("n must be between 1 and 1000, got {}", self.n)));
        }
        if self.seed_songs.len() + self.seed_artists.len() > 5 {
            return Err(Error::BadRequest("at most 5 seeds (songs and artists together)".into()));
        }
        if !(0.0..=1.0).contains(&self.mmr_lambda) || !(0.0..=1.0).contains(&self.min_new_artist_share) {
            return Err(Error::BadRequest("mmr_lambda and min_new_artist_share must be within 0–1".into()));
        }
        Ok(())
    }
}

impl Hybrid<'_> {
    /// Ranks the catalog for a user with profile `p`: validate → candidates
    /// → filter → fuse → select → explain.
    pub fn rank(&self, p: &Profile, req: &Request) -> Result<Response> {
        use rand::{Rng, SeedableRng};
        req.validate()?;
        let c = self.catalog;
        // Candidates: each source's nominations, united.
        let k = req.per_source.max(req.n);
        let (noms, full) = match self.prep.retrieval.as_deref() {
            Some(r) => (self.nominate_fast(r, p, k, req.n), None),
            None => {
                let sc = self.scores(p);
                (self.nominations(p, &sc, k), Some(sc))
            }
        };
        let mut pool =
            PoolSizes { by_source: noms.iter().map(|(n, v)| (n.to_string(), v.len())).collect(), ..Default::default() };
        let mut cand = candidates::unite(&noms);
        pool.candidates = cand.len();
        // Filter: played songs, served songs, attribute bounds.
        let played = filter::played_songs(&p.history, req.exclude_played_days, req.now);
        let left = filter::leave_out(&mut cand, &played, &req.exclude, &req.tunables, &c.attrs);
        (pool.after_played, pool.after_excluded, pool.after_filters) = left;

        // Fuse: standardised features of the surviving candidates only,
        // the fusion's logit, the targets' penalty, the day's jitter.
        let zs: Vec<[f32; N_FEATURES]> = match (&full, self.prep.retrieval.as_deref()) {
            (Some(sc), _) => cand.iter().map(|e| sc.z[e.0]).collect(),
            (None, Some(r)) => {
                let st = self.fast_stats(r, p);
                cand.iter().map(|e| standardise(&self.raw(p, e.0), &st)).collect()
            }
            (None, None) => unreachable!("scores are computed without retrieval"),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(req.jitter.map_or(0, |j| j.1));
        // (candidate slot, score)
        let scored: Vec<(usize, f32)> = cand
            .iter()
            .zip(&zs)
            .enumerate()
            .map(|(i, (e, z))| {
                let mut v = self.fusion.logit(z) - req.tunables.penalty(c.attrs[e.0].as_ref());
                if let Some((scale, _)) = req.jitter {
                    v += scale * rng.random::<f32>();
                }
                (i, v)
            })
            .collect();
        // Select: MMR with the artist cap and the new-artist quota.
        let rules = select::Rules {
            n: req.n,
            max_per_artist: req.max_per_artist,
            mmr_lambda: req.mmr_lambda,
            min_new_artist_share: req.min_new_artist_share,
        };
        let artist = |slot: usize| c.artist[cand[slot].0];
        let is_new = |a: i64| !p.played_artists.contains(&a);
        let chosen =
            select::select(scored, &rules, artist, is_new, |a: usize, b: usize| self.similarity(cand[a].0, cand[b].0));
        pool.returned = chosen.len();
        // Explain: contributions, sources and the reason of each.
        let items = chosen
            .into_iter()
            .map(|(slot, score)| {
                let (s, mask) = cand[slot];
                let sources = (0..noms.len()).filter(|i| mask & (1 << i) != 0).map(|i| noms[i].0.to_string()).collect();
                self.item(p, &zs[slot], s, score, sources)
            })
            .collect();
        Ok(Response { items, pool })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_out_of_bounds_are_refused() {
        assert!(Request::default().validate().is_ok());
        let bad = [
            Request { n: 0, ..Request::default() },
            Request { n: 1001, ..Request::default() },
            Request { seed_songs: vec![1, 2, 3], seed_artists: vec![1, 2, 3], ..Request::default() },
            Request { mmr_lambda: 1.5, ..Request::default() },
            Request { min_new_artist_share: -0.1, ..Request::default() },
            Request {
                tunables: Tunables { min_duration: Some(300.0), max_duration: Some(100.0), ..Tunables::default() },
                ..Request::default()
            },
        ];
        for r in bad {
            assert!(matches!(r.validate(), Err(Error::BadRequest(_))), "{r:?}");
        }
    }
}
