//! The engine: the one place that opens the current versioned models and
//! answers recommend, discover, similar and explain — for the CLI and the
//! server alike.
//!
//! **Versions.** Each model is an artifact with its own versions (CF, text,
//! audio embeddings, fusion). `encore train all` publishes a *release*: a
//! manifest (artifact kind [`RELEASE_KIND`]) naming one version of each,
//! committed atomically like every artifact. [`Engine::open`] loads the
//! current release (or, before the first release, the current version of
//! each model); [`Engine::reload`] loads the newest release into a new
//! [`Models`] and swaps an `Arc` — requests already running finish on the
//! models they started with, and a half-written version is never visible
//! because it has no `CURRENT` pointer yet.
#![deny(missing_docs)]

pub mod accounts;
pub mod audio;
mod gc;
mod media;
pub mod mixes;
pub mod playlist;
pub mod views;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use encore_audio::{DescriptorScaler, Descriptors};
use encore_cf::CfModel;
use encore_rank::{Attributes, Catalog, Fusion, Hybrid, Played, PoolSizes, Reason, Request, VectorSet};
use encore_store::Store;
use encore_text::TermModel;
use encore_types::{ArtifactHeader, Interactions};
use serde::{Deserialize, Serialize};

pub use audio::AudioEmbeddings;
/// Bounds and targets on song attributes, as a request gives them.
pub use encore_rank::Tunables;
/// A song or an artist, as the text model knows them.
pub use encore_text::Entity;
pub use gc::{collect_garbage, GcReport, DEFAULT_KEEP};

/// Artifact kind of the fitted fusion weights.
pub const FUSION_KIND: &str = "hybrid-fusion";
/// Artifact kind of a release (one version of every model).
pub const RELEASE_KIND: &str = "release";
const FORMAT_VERSION: u32 = 1;

/// Errors the engine answers with; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An unknown user, song or artist.
    #[error("{0}")]
    NotFound(String),
    /// A parameter out of range.
    #[error("{0}")]
    BadRequest(String),
    /// No trained model yet.
    #[error("{0}")]
    NotReady(String),
    /// Anything else (storage, corrupt artifacts).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<encore_rank::Error> for EngineError {
    fn from(e: encore_rank::Error) -> Self {
        match e {
            encore_rank::Error::BadRequest(m) => EngineError::BadRequest(m),
            e @ encore_rank::Error::Index(_) => EngineError::Internal(e.into()),
        }
    }
}

impl From<encore_store::Error> for EngineError {
    fn from(e: encore_store::Error) -> Self {
        EngineError::Internal(e.into())
    }
}

/// Result of the engine.
pub type Result<T> = std::result::Result<T, EngineError>;

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

/// Distinct listeners (positive preference) of each column of `m`.
pub fn listeners(m: &Interactions) -> Vec<usize> {
    let mut n = vec![0usize; m.n_items()];
    for u in 0..m.n_users() {
        let r = m.row(u);
        for k in 0..r.indices.len() {
            if r.plays[k] - 0.5 * r.skips[k] as f32 > 0.0 {
                n[r.indices[k] as usize] += 1;
            }
        }
    }
    n
}

#[allow(clippy::needless_range_loop)] // one position indexes many parallel columns
/// Builds the ranker's catalog from the store, the listening matrix `m`
/// the CF model was trained on, and the content models.
pub fn build_catalog(
    store: &Store,
    m: &Interactions,
    cf: &CfModel,
    text: Option<&TermModel>,
    embeddings: Option<&AudioEmbeddings>,
    audio_vectors: AudioVectors,
) -> anyhow::Result<Catalog> {
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
    let counts = listeners(m);
    for (col, &id) in m.item_ids.iter().enumerate() {
        if let Some(k) = c.index(id) {
            c.listeners[k] = counts[col] as f32;
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
pub fn played(store: &Store, catalog: &Catalog, user: i64) -> anyhow::Result<Vec<Played>> {
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
) -> anyhow::Result<Fusion> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let (train, val) =
        encore_eval::split(m, encore_eval::Split::Random { test_fraction: cfg.validation_share }, &mut rng)?;
    let cf = als.fit(&train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed), &mut |_| {})?;
    let catalog = build_catalog(store, &train, &cf, text, embeddings, AudioVectors::Descriptors)?;
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
pub fn save_fusion(store: &Store, fusion: &Fusion) -> anyhow::Result<PathBuf> {
    let w = store.artifacts(FUSION_KIND)?.writer(ArtifactHeader::new(FUSION_KIND, FORMAT_VERSION))?;
    std::fs::write(w.path().join("fusion.json"), serde_json::to_vec_pretty(fusion)?)?;
    Ok(w.commit()?)
}

/// Publishes a release naming one version of each model. The manifest
/// keeps every path relative to the data directory (`models/<kind>/v…`),
/// so a data directory still works when moved, copied or opened from
/// another working directory.
pub fn publish_release(store: &Store, manifest: &Manifest) -> anyhow::Result<PathBuf> {
    let rel = |p: &String| -> anyhow::Result<String> {
        artifact_tail(Path::new(p))
            .map(|t| t.display().to_string())
            .ok_or_else(|| anyhow::anyhow!("{p} is not a model version directory (models/<kind>/v…)"))
    };
    let manifest = Manifest {
        cf: rel(&manifest.cf)?,
        text: manifest.text.as_ref().map(rel).transpose()?,
        audio: manifest.audio.as_ref().map(rel).transpose()?,
        fusion: manifest.fusion.as_ref().map(rel).transpose()?,
    };
    let w = store.artifacts(RELEASE_KIND)?.writer(ArtifactHeader::new(RELEASE_KIND, FORMAT_VERSION))?;
    std::fs::write(w.path().join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(w.commit()?)
}

/// `models/<kind>/v…` at the end of `p`, whatever came before it (a
/// relative or absolute data directory, or another machine's).
fn artifact_tail(p: &Path) -> Option<PathBuf> {
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
fn resolve(store: &Store, p: &str) -> Result<PathBuf> {
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

fn current(store: &Store, kind: &str) -> anyhow::Result<Option<String>> {
    Ok(store.artifacts(kind)?.current()?.and_then(|(p, _)| artifact_tail(&p)).map(|p| p.display().to_string()))
}

/// One loaded set of models.
pub struct Models {
    /// The versions loaded.
    pub manifest: Manifest,
    /// The release, relative to the data directory (None before the first
    /// `train all`).
    pub release: Option<String>,
    /// Collaborative filtering.
    pub cf: CfModel,
    /// The text model.
    pub text: Option<TermModel>,
    /// The audio network's predictions.
    pub embeddings: Option<AudioEmbeddings>,
    /// Fusion weights.
    pub fusion: Fusion,
    /// The catalog as the ranker sees it.
    pub catalog: Catalog,
    /// What the ranker derives from catalog and CF model, made once.
    pub prepared: encore_rank::Prepared,
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
        let (manifest, release) = match store.artifacts(RELEASE_KIND)?.current()? {
            Some((dir, header)) => {
                header.check(RELEASE_KIND, FORMAT_VERSION).map_err(anyhow::Error::from)?;
                let m: Manifest = serde_json::from_slice(
                    &std::fs::read(dir.join("manifest.json")).context("reading the release manifest")?,
                )
                .context("the release manifest")?;
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
        let cf = CfModel::load(&resolve(store, &manifest.cf)?).context("loading the CF model")?;
        let text = match &manifest.text {
            Some(p) => Some(TermModel::load(&resolve(store, p)?).context("loading the text model")?),
            None => None,
        };
        let embeddings = match &manifest.audio {
            Some(p) => Some(AudioEmbeddings::load(&resolve(store, p)?)?),
            None => None,
        };
        let fusion = match &manifest.fusion {
            Some(p) => {
                serde_json::from_slice(&std::fs::read(resolve(store, p)?.join("fusion.json")).context("fusion")?)
                    .context("fusion.json")?
            }
            None => Fusion::default(),
        };
        let m = store.interactions()?;
        let catalog = build_catalog(store, &m, &cf, text.as_ref(), embeddings.as_ref(), AudioVectors::Learned)?;
        let mut prepared = encore_rank::Prepared::new(&catalog, &cf)?;
        let cfg = encore_rank::RetrievalConfig::default();
        prepared = match candidates {
            Candidates::Scan => prepared,
            Candidates::Index => prepared.with_retrieval(&catalog, cfg)?,
            Candidates::Ann => prepared.with_retrieval(&catalog, encore_rank::RetrievalConfig { ann_min: 2, ..cfg })?,
        };
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

/// The engine: the store and the current models.
pub struct Engine {
    data_dir: PathBuf,
    candidates: Candidates,
    store: Mutex<Store>,
    models: RwLock<Arc<Models>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("data_dir", &self.data_dir).finish()
    }
}

fn quote(terms: &[String]) -> String {
    match terms {
        [] => String::new(),
        [a] => format!("'{a}'"),
        [a, b, ..] => format!("'{a}' and '{b}'"),
    }
}

impl Engine {
    /// Opens the data directory's store and current models.
    pub fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with(data_dir, Candidates::default())
    }

    /// [`Engine::open`] with a choice of candidate retrieval (kept across
    /// reloads).
    pub fn open_with(data_dir: &Path, candidates: Candidates) -> Result<Engine> {
        let store = Store::open(data_dir).with_context(|| format!("opening data directory {}", data_dir.display()))?;
        let models = Models::load_with(&store, candidates)?;
        Ok(Engine {
            data_dir: data_dir.to_path_buf(),
            candidates,
            store: Mutex::new(store),
            models: RwLock::new(Arc::new(models)),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The models in use now (callers keep them for a whole request).
    pub fn models(&self) -> Arc<Models> {
        self.models.read().expect("models lock").clone()
    }

    /// Runs `f` with the store.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut s = self.store.lock().map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        f(&mut s)
    }

    /// Loads the newest release and swaps it in; returns its version.
    pub fn reload(&self) -> Result<String> {
        let models = self.with_store(|s| Models::load_with(s, self.candidates))?;
        let v = models.version();
        *self.models.write().expect("models lock") = Arc::new(models);
        Ok(v)
    }

    fn user(&self, store: &Store, user: i64) -> Result<String> {
        store.user_name(user)?.ok_or_else(|| EngineError::NotFound(format!("no user with id {user}")))
    }

    fn song_index(&self, m: &Models, id: i64) -> Result<usize> {
        m.catalog.index(id).ok_or_else(|| EngineError::NotFound(format!("no song with id {id}")))
    }

    fn sentence(&self, store: &Store, m: &Models, song: i64, reason: &Reason) -> Result<String> {
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

    fn render(
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
                .ok_or_else(|| EngineError::Internal(anyhow::anyhow!("song {} vanished", it.song_id)))?;
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
            Ok(played(store, &m.catalog, user)?)
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
    pub fn similar(&self, song: i64, by: &str, n: usize) -> Result<Vec<(i64, f32)>> {
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
                "cf" => cf(),
                "audio" => audio(),
                "hybrid" if r.uses_ann() => {
                    let mut p: Vec<usize> = cf().into_iter().chain(audio()).flatten().collect();
                    p.sort_unstable();
                    p.dedup();
                    Some(p)
                }
                _ => None,
            }
        });
        let score: Box<dyn Fn(usize) -> Option<f32>> = match by {
            "cf" => {
                let q = h.song_unit(s).map(<[f32]>::to_vec).ok_or_else(|| {
                    EngineError::NotFound(format!("song {song} has no CF vector (no plays and no audio)"))
                })?;
                Box::new(move |t| h.song_unit(t).map(|v| v.iter().zip(&q).map(|(a, b)| a * b).sum()))
            }
            "audio" => {
                let q = c.audio[s]
                    .clone()
                    .ok_or_else(|| EngineError::NotFound(format!("song {song} has no analysed audio")))?;
                Box::new(move |t| c.audio[t].as_ref().map(|v| v.iter().zip(&q).map(|(a, b)| a * b).sum()))
            }
            "text" => {
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
            "hybrid" => Box::new(move |t| Some(h.similarity(s, t))),
            other => {
                return Err(EngineError::BadRequest(format!("by must be cf, audio, text or hybrid, not {other:?}")))
            }
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
        encore_store::ImportStart::Done(_) => {
            return Err(EngineError::Internal(anyhow::anyhow!("listen batch key reused")))
        }
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
                .ok_or_else(|| EngineError::Internal(anyhow::anyhow!("registered song not found")))?;
            let (size, mtime) = audio::stamp(&s.path);
            let json = serde_json::to_string(&descriptors).map_err(anyhow::Error::from)?;
            store.put_audio_features(&path, size, mtime, encore_audio::FEATURE_VERSION, &json)?;
            let mut manifest = m.manifest.clone();
            if let Some((cnn_dir, _)) = store.artifacts(audio::CNN_KIND)?.current()? {
                let cnn = encore_audio::AudioCnn::load(&cnn_dir).map_err(anyhow::Error::from)?;
                let spec = encore_audio::Spectrogram::of(&decoded.samples, 30.0);
                let p = cnn.predict_with(&[&spec], &[Some(&descriptors)]).map_err(anyhow::Error::from)?.remove(0);
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

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Parses YYYY-MM-DD.
fn chrono_day(day: &str) -> Option<(i32, u32, u32)> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = day[..4].parse().ok()?;
    let m: u32 = day[5..7].parse().ok()?;
    let d: u32 = day[8..].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]).then_some((y, m, d))
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let days = now() / 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(chrono_day("2026-02-28").is_some());
        assert!(chrono_day("2026-02-29").is_none());
        assert!(chrono_day("2024-02-29").is_some());
        assert!(chrono_day("2026-13-01").is_none());
        assert!(chrono_day("26-1-1").is_none());
        assert!(chrono_day(&today()).is_some());
    }
}
