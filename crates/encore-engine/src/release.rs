//! Releases: the catalog as the ranker sees it (built from the store and
//! the models), the fusion fitted on it, the manifest naming one version
//! of each model, and [`Models`] — a release opened.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use encore_audio::{DescriptorScaler, Descriptors};
use encore_cf::CfModel;
use encore_rank::{Attributes, Catalog, Fusion, Hybrid, Played};
use encore_store::Store;
use encore_text::TermModel;
use encore_types::{ArtifactHeader, Interactions};
use serde::{Deserialize, Serialize};

use crate::error::{read_json, write_json};
use crate::{audio, AudioEmbeddings, EngineError, Entity, Listeners, Result};

/// Where the HNSW graphs of candidate retrieval are kept between loads,
/// under the data directory (keyed by what they were built from; see
/// [`encore_rank::Retrieval`]).
pub const GRAPH_CACHE: &str = "cache/hnsw";

/// Artifact kind of the fitted fusion weights.
pub const FUSION_KIND: &str = "hybrid-fusion";

/// Artifact kind of a release (one version of every model).
pub const RELEASE_KIND: &str = "release";

const FORMAT_VERSION: u32 = 1;

/// The versions that make up a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// CF model version directory.
    pub cf: String,
    /// Text model version directory.
    pub text: Option<String>,
    /// Audio embeddings version directory.
    pub audio: Option<String>,
    /// Fusion version directory.
    pub fusion: Option<String>,
}

/// How a request finds its candidate songs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Candidates {
    /// Score every catalog song per request (exact; O(catalog) per request).
    Scan,
    /// Candidate retrieval ([`encore_rank::Retrieval`]): HNSW indexes for
    /// vector sets of 20,000 songs or more, exact scans of smaller ones.
    #[default]
    Index,
    /// Candidate retrieval with HNSW for every vector set, however small
    /// (to measure what the approximation costs).
    Ann,
}

impl std::str::FromStr for Candidates {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "scan" => Ok(Candidates::Scan),
            "index" => Ok(Candidates::Index),
            "ann" => Ok(Candidates::Ann),
            _ => Err(format!("candidates must be scan, index or ann, got {s:?}")),
        }
    }
}

/// Where the audio vectors of the catalog come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioVectors {
    /// The network's learned embedding where there is one, else the
    /// descriptor vector.
    Learned,
    /// The normalised descriptor vector only (independent of any CF model,
    /// which offline evaluation needs).
    Descriptors,
}

fn attrs(d: &Descriptors) -> Attributes {
    Attributes {
        tempo: d.tempo_bpm,
        key: encore_audio::KEYS.iter().position(|k| *k == d.key).unwrap_or(0) as u8,
        major: d.mode == "major",
        loudness: d.lufs as f32,
        duration: d.duration_s as f32,
    }
}

#[allow(clippy::needless_range_loop)] // one position indexes many parallel columns
/// Builds the ranker's catalog from the store, the listeners of the
/// listening matrix the CF model was trained on, and the content models.
pub fn build_catalog(
    store: &Store,
    listeners: &Listeners,
    cf: &CfModel,
    text: Option<&TermModel>,
    embeddings: Option<&AudioEmbeddings>,
    audio_vectors: AudioVectors,
) -> Result<Catalog> {
    let rows = store.catalog_rows()?;
    let n = rows.len();
    let mut c = Catalog {
        song_ids: Vec::with_capacity(n),
        artist: Vec::with_capacity(n),
        genre: Vec::with_capacity(n),
        attrs: vec![None; n],
        cf_col: Vec::with_capacity(n),
        predicted: vec![None; n],
        audio: vec![None; n],
        text: vec![None; n],
        listeners: vec![0.0; n],
        comentioned: HashMap::new(),
        album: Vec::new(),
        album_names: Vec::new(),
    };
    let mut descriptors: Vec<Option<Descriptors>> = vec![None; n];
    for (k, (id, artist, genre, path)) in rows.into_iter().enumerate() {
        c.song_ids.push(id);
        c.artist.push(artist);
        c.genre.push(genre);
        c.cf_col.push(cf.item_index(id).map(|i| i as u32));
        if let Some(p) = path {
            descriptors[k] = audio::descriptors_of(store, &p)?;
        }
    }
    // Albums: one artist's release of one (normalised) name.
    let mut albums: HashMap<(Option<i64>, String), u32> = HashMap::new();
    let mut album = vec![None; n];
    for (id, release) in store.song_releases()? {
        let (Some(k), Some(r)) = (c.index(id), release) else { continue };
        let key = (c.artist[k], encore_types::normalize_name(&r));
        if key.1.is_empty() {
            continue;
        }
        let next = albums.len() as u32;
        let a = *albums.entry(key).or_insert_with(|| {
            c.album_names.push(r.trim().to_string());
            next
        });
        album[k] = Some(a);
    }
    if !c.album_names.is_empty() {
        c.album = album;
    }
    for (id, count) in listeners.iter() {
        if let Some(k) = c.index(id) {
            c.listeners[k] = count as f32;
        }
    }
    // A song nobody played has only a regularised, meaningless CF vector:
    // it is cold, and its audio-predicted vector stands in.
    for k in 0..n {
        if c.listeners[k] == 0.0 {
            c.cf_col[k] = None;
        }
    }
    let scaler = DescriptorScaler::fit(descriptors.iter().flatten());
    let emb_rows: HashMap<i64, usize> =
        embeddings.map(|e| e.ids.iter().enumerate().map(|(r, &id)| (id, r)).collect()).unwrap_or_default();
    for k in 0..n {
        let id = c.song_ids[k];
        if let Some(d) = &descriptors[k] {
            c.attrs[k] = Some(attrs(d));
        }
        let learned = match (audio_vectors, embeddings, emb_rows.get(&id)) {
            (AudioVectors::Learned, Some(e), Some(&r)) => Some(e.embedding(r).to_vec()),
            _ => None,
        };
        c.audio[k] = learned.or_else(|| descriptors[k].as_ref().map(|d| scaler.embed(d)));
        if c.cf_col[k].is_none() {
            if let (Some(e), Some(&r)) = (embeddings, emb_rows.get(&id)) {
                c.predicted[k] = Some(e.vector(r).to_vec());
            }
        }
        if let Some(t) = text {
            c.text[k] = t.song_vector(id).map(|v| v.to_vec());
        }
    }
    if let Some(t) = text {
        for a in t.artist_ids() {
            if let Some(d) = t.describe(Entity::Artist(a), 10) {
                if !d.comentioned.is_empty() {
                    c.comentioned.insert(a, d.comentioned.iter().map(|x| x.0).collect());
                }
            }
        }
    }
    Ok(c)
}

/// A user's history as the ranker sees it.
pub fn played(store: &Store, catalog: &Catalog, user: i64) -> Result<Vec<Played>> {
    Ok(store
        .user_history(user)?
        .into_iter()
        .filter_map(|h| {
            catalog.index(h.song_id).map(|song| Played {
                song,
                plays: h.plays,
                skips: h.skips,
                last_played: h.last_played,
            })
        })
        .collect())
}

/// The training row `u` of `m` as a history, in catalog positions.
pub fn row_history(m: &Interactions, u: usize, col_to_song: &[Option<usize>]) -> Vec<Played> {
    let r = m.row(u);
    (0..r.indices.len())
        .filter_map(|k| {
            col_to_song[r.indices[k] as usize].map(|song| Played {
                song,
                plays: r.plays[k],
                skips: r.skips[k],
                last_played: r.last_played[k],
            })
        })
        .collect()
}

/// Settings of the fusion fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FusionConfig {
    /// Share of each user's plays held out as the validation labels.
    pub validation_share: f32,
    /// Users sampled for examples.
    pub users: usize,
    /// Candidates each source nominates.
    pub per_source: usize,
    /// L2 penalty of the logistic regression.
    pub l2: f64,
    /// Seed of the split and the sample.
    pub seed: u64,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig { validation_share: 0.2, users: 400, per_source: 100, l2: 1.0, seed: 7 }
    }
}

/// Fits the fusion weights: splits `m` (random share of each user's plays),
/// trains ALS with `als` on the rest, nominates candidates for a sample of
/// users, and fits the logistic regression on whether they played them.
pub fn fit_fusion(
    store: &Store,
    m: &Interactions,
    als: &encore_cf::AlsConfig,
    text: Option<&TermModel>,
    embeddings: Option<&AudioEmbeddings>,
    cfg: &FusionConfig,
) -> Result<Fusion> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let (train, val) =
        encore_eval::split(m, encore_eval::Split::Random { test_fraction: cfg.validation_share }, &mut rng)?;
    let cf = als.fit(&train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed), &mut |_| {})?;
    let catalog = build_catalog(store, &Listeners::of(&train), &cf, text, embeddings, AudioVectors::Descriptors)?;
    let start = Fusion::default();
    let hybrid = Hybrid::new(&catalog, &cf, &start)?;
    let col_to_song: Vec<Option<usize>> = m.item_ids.iter().map(|&id| catalog.index(id)).collect();
    let mut users: Vec<usize> = (0..m.n_users()).filter(|&u| !val.row(u).indices.is_empty()).collect();
    users.shuffle(&mut rng);
    users.truncate(cfg.users);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for u in users {
        let history = row_history(&train, u, &col_to_song);
        let held: HashSet<usize> = val.row(u).indices.iter().filter_map(|&c| col_to_song[c as usize]).collect();
        for (f, label) in hybrid.examples(&history, &held, cfg.per_source) {
            x.push(f);
            y.push(label);
        }
    }
    Ok(Fusion::fit(&x, &y, cfg.l2))
}

/// Publishes `fusion` as a new version; returns its directory.
pub fn save_fusion(store: &Store, fusion: &Fusion) -> Result<PathBuf> {
    let w = store.artifacts(FUSION_KIND)?.writer(ArtifactHeader::new(FUSION_KIND, FORMAT_VERSION))?;
    write_json(&w.path().join("fusion.json"), fusion)?;
    Ok(w.commit()?)
}

/// Publishes a release naming one version of each model. The manifest
/// keeps every path relative to the data directory (`models/<kind>/v…`),
/// so a data directory still works when moved, copied or opened from
/// another working directory.
pub fn publish_release(store: &Store, manifest: &Manifest) -> Result<PathBuf> {
    let rel = |p: &String| -> Result<String> {
        artifact_tail(Path::new(p))
            .map(|t| t.display().to_string())
            .ok_or_else(|| EngineError::BadRequest(format!("{p} is not a model version directory (models/<kind>/v…)")))
    };
    let manifest = Manifest {
        cf: rel(&manifest.cf)?,
        text: manifest.text.as_ref().map(rel).transpose()?,
        audio: manifest.audio.as_ref().map(rel).transpose()?,
        fusion: manifest.fusion.as_ref().map(rel).transpose()?,
    };
    let w = store.artifacts(RELEASE_KIND)?.writer(ArtifactHeader::new(RELEASE_KIND, FORMAT_VERSION))?;
    write_json(&w.path().join("manifest.json"), &manifest)?;
    Ok(w.commit()?)
}

/// `models/<kind>/v…` at the end of `p`, whatever came before it (a
/// relative or absolute data directory, or another machine's).
pub(crate) fn artifact_tail(p: &Path) -> Option<PathBuf> {
    let parts: Vec<&std::ffi::OsStr> = p.iter().collect();
    let n = parts.len();
    let version = parts.get(n.checked_sub(1)?)?.to_str()?;
    let is_version = version.strip_prefix('v').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    (n >= 3 && parts[n - 3] == "models" && is_version).then(|| parts[n - 3..].iter().collect())
}

/// Where a manifest's model version lies in this data directory. Old
/// manifests kept paths as typed at train time; only their
/// `models/<kind>/v…` tail counts, so a copied data directory serves its
/// own models, never the original's.
pub(crate) fn resolve(store: &Store, p: &str) -> Result<PathBuf> {
    let tail = artifact_tail(Path::new(p)).ok_or_else(|| {
        EngineError::NotReady(format!(
            "the release names {p:?}, which is not a model version; retrain with `encore train all`"
        ))
    })?;
    let dir = store.dir().join(&tail);
    if !dir.is_dir() {
        return Err(EngineError::NotReady(format!(
            "the release names {}, which this data directory lacks; retrain with `encore train all`",
            tail.display()
        )));
    }
    Ok(dir)
}

pub(crate) fn current(store: &Store, kind: &str) -> Result<Option<String>> {
    Ok(store.artifacts(kind)?.current()?.and_then(|(p, _)| artifact_tail(&p)).map(|p| p.display().to_string()))
}

/// One loaded set of models.
pub struct Models {
    /// The versions loaded.
    pub(crate) manifest: Manifest,
    /// The release, relative to the data directory (None before the first
    /// `train all`).
    pub(crate) release: Option<String>,
    /// Collaborative filtering.
    pub(crate) cf: CfModel,
    /// The text model.
    pub(crate) text: Option<TermModel>,
    /// The audio network's predictions.
    pub(crate) embeddings: Option<AudioEmbeddings>,
    /// Fusion weights.
    pub(crate) fusion: Fusion,
    /// The catalog as the ranker sees it.
    pub(crate) catalog: Catalog,
    /// What the ranker derives from catalog and CF model, made once.
    pub(crate) prepared: encore_rank::Prepared,
}

impl Models {
    /// The versions loaded.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The catalog as the ranker sees it (songs by catalog position).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models").field("manifest", &self.manifest).field("songs", &self.catalog.len()).finish()
    }
}

impl Models {
    /// Loads the current release (or each model's current version) with
    /// the default candidate retrieval.
    pub fn load(store: &Store) -> Result<Models> {
        Models::load_with(store, Candidates::default())
    }

    /// [`Models::load`] with a choice of candidate retrieval.
    pub fn load_with(store: &Store, candidates: Candidates) -> Result<Models> {
        let (manifest, release) = match store.artifacts(RELEASE_KIND)?.current_checked(FORMAT_VERSION)? {
            Some(dir) => {
                let m: Manifest = read_json(&dir.join("manifest.json"))?;
                let rel =
                    |p: &str| artifact_tail(Path::new(p)).map_or_else(|| p.to_string(), |t| t.display().to_string());
                let m = Manifest {
                    cf: rel(&m.cf),
                    text: m.text.as_deref().map(rel),
                    audio: m.audio.as_deref().map(rel),
                    fusion: m.fusion.as_deref().map(rel),
                };
                (m, artifact_tail(&dir).map(|t| t.display().to_string()))
            }
            None => {
                let cf = current(store, encore_cf::KIND)?.ok_or_else(|| {
                    EngineError::NotReady(
                        "no trained model yet: run `encore train cf` first (or `encore train all` for every model)"
                            .into(),
                    )
                })?;
                let m = Manifest {
                    cf,
                    text: current(store, encore_text::KIND)?,
                    audio: current(store, audio::EMBED_KIND)?,
                    fusion: current(store, FUSION_KIND)?,
                };
                (m, None)
            }
        };
        let mut t = std::time::Instant::now();
        let lap = |what: &str, t: &mut std::time::Instant| {
            tracing::debug!("model load: {what} in {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
            *t = std::time::Instant::now();
        };
        let cf = CfModel::load(&resolve(store, &manifest.cf)?)?;
        let text = match &manifest.text {
            Some(p) => Some(TermModel::load(&resolve(store, p)?)?),
            None => None,
        };
        let embeddings = match &manifest.audio {
            Some(p) => Some(AudioEmbeddings::load(&resolve(store, p)?)?),
            None => None,
        };
        let fusion = match &manifest.fusion {
            Some(p) => read_json(&resolve(store, p)?.join("fusion.json"))?,
            None => Fusion::default(),
        };
        lap("models read", &mut t);
        let listeners = Listeners::of_store(store)?;
        lap("listeners counted", &mut t);
        let catalog = build_catalog(store, &listeners, &cf, text.as_ref(), embeddings.as_ref(), AudioVectors::Learned)?;
        lap("catalog built", &mut t);
        let mut prepared = encore_rank::Prepared::new(&catalog, &cf)?;
        lap("vectors prepared", &mut t);
        let cfg = encore_rank::RetrievalConfig::default();
        let cache = store.dir().join(GRAPH_CACHE);
        prepared = match candidates {
            Candidates::Scan => prepared,
            Candidates::Index => prepared.with_retrieval_in(&catalog, cfg, Some(&cache))?,
            Candidates::Ann => prepared.with_retrieval_in(
                &catalog,
                encore_rank::RetrievalConfig { ann_min: 2, ..cfg },
                Some(&cache),
            )?,
        };
        lap("indexes opened", &mut t);
        Ok(Models { manifest, release, cf, text, embeddings, fusion, catalog, prepared })
    }

    /// The version serving: `release/v…`, or `cf/v…` before the first
    /// release (never a file-system path).
    pub fn version(&self) -> String {
        let v = self.release.as_deref().unwrap_or(&self.manifest.cf);
        v.strip_prefix("models/").unwrap_or(v).to_string()
    }

    /// The ranker over these models.
    pub fn hybrid(&self) -> Result<Hybrid<'_>> {
        Ok(Hybrid::with_prepared(&self.catalog, &self.cf, &self.fusion, &self.prepared))
    }
}
