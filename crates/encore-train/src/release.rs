//! `train all`: every model in order — CF, text, the audio network and
//! its predictions, the fusion weights — published as one release, then
//! old versions collected.

use std::path::Path;

use encore_engine::{AudioEmbeddings, FusionConfig, GcReport, Manifest};
use encore_rank::Fusion;
use encore_store::Store;
use serde::Serialize;

use crate::audio::NetworkSettings;
use crate::cf::{CfSettings, CfTrained};
use crate::text::{BuildStats, TermModelConfig};
use crate::Progress;

/// Settings of [`train_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSettings {
    /// The CF model's.
    pub cf: CfSettings,
    /// Epochs of the audio network.
    pub audio_epochs: usize,
    /// Train the audio network (with at least two analysed songs).
    pub audio_network: bool,
    /// Model versions to keep per kind after publishing (older ones,
    /// unless a kept release names them, are removed).
    pub keep: usize,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            cf: CfSettings::default(),
            audio_epochs: NetworkSettings::default().epochs,
            audio_network: true,
            keep: encore_engine::DEFAULT_KEEP,
        }
    }
}

/// What the audio stage of [`train_all`] did.
#[derive(Debug, Clone, Serialize)]
pub struct AudioStage {
    /// Catalog songs with analysed audio.
    pub analysed_songs: usize,
    /// The network's version, when one was trained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Songs embedded by it.
    pub embedded_songs: usize,
}

/// What [`train_all`] published.
#[derive(Debug, Serialize)]
pub struct ReleaseReport {
    /// The release's directory.
    pub release: String,
    /// The model versions it names.
    pub manifest: Manifest,
    /// The CF model trained.
    pub cf: CfTrained,
    /// The text model's statistics (absent without documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<BuildStats>,
    /// The audio network's part.
    pub audio: AudioStage,
    /// The fusion weights fitted.
    pub fusion: Fusion,
    /// Old versions removed after publishing.
    pub gc: GcReport,
    /// Wall time.
    pub seconds: f64,
}

/// Trains every model in order and publishes them as one release.
pub fn train_all(store: &Store, s: &ReleaseSettings, progress: Progress<'_>) -> crate::Result<ReleaseReport> {
    let started = std::time::Instant::now();
    let cf = crate::cf::train_cf(store, &s.cf, progress)?;
    let mut has_docs = false;
    store.for_each_document(|_| has_docs = true)?;
    let text = if has_docs { Some(crate::text::train(store, TermModelConfig::default())?) } else { None };
    let analysed = crate::audio::catalog_audio(store)?.iter().filter(|a| a.descriptors.is_some()).count();
    let mut audio = AudioStage { analysed_songs: analysed, network: None, embedded_songs: 0 };
    let mut embeddings_dir = None;
    if analysed >= 2 && s.audio_network {
        let network = NetworkSettings { epochs: s.audio_epochs, ..NetworkSettings::default() };
        let trained = crate::audio::train_network(store, &network, progress)?;
        let embedded = crate::audio::embed(store, network.max_seconds, progress)?;
        audio.network = Some(trained.version_dir);
        audio.embedded_songs = embedded.songs;
        embeddings_dir = Some(embedded.version_dir);
    }
    let embeddings = embeddings_dir.as_ref().map(|d| AudioEmbeddings::load(Path::new(d))).transpose()?;
    let m = store.interactions()?;
    crate::report(progress, "fitting the fusion weights", 0, 1);
    let fusion = encore_engine::fit_fusion(
        store,
        &m,
        &s.cf.als(),
        text.as_ref().map(|t| &t.0),
        embeddings.as_ref(),
        &FusionConfig::default(),
    )?;
    crate::report(progress, "fitting the fusion weights", 1, 1);
    let fusion_dir = encore_engine::save_fusion(store, &fusion)?;
    let manifest = Manifest {
        cf: cf.version_dir.clone(),
        text: text.as_ref().map(|t| t.1.display().to_string()),
        audio: embeddings_dir,
        fusion: Some(fusion_dir.display().to_string()),
    };
    let release = encore_engine::publish_release(store, &manifest)?;
    let gc = encore_engine::collect_garbage(store, s.keep)?;
    Ok(ReleaseReport {
        release: release.display().to_string(),
        manifest,
        cf,
        text: text.map(|t| t.0.stats),
        audio,
        fusion,
        gc,
        seconds: started.elapsed().as_secs_f64(),
    })
}
