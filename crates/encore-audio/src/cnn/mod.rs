//! The convolutional network that predicts a song's collaborative-filtering
//! vector from its audio (van den Oord, Dieleman & Schrauwen, NIPS 2013).
//!
//! Input: windows of [`WINDOW`] frames (≈ 3 s) of a [`CNN_MELS`]-band
//! log-mel spectrogram, each band standardised with the training set's mean
//! and spread. Network (candle): three 1-D convolutions over time that span
//! all bands (kernel 4; batch normalisation; ReLU; max-pooling ×4 and ×2
//! after the first two),
//! global mean- and max-pooling over time, a dense ReLU layer (the learned
//! audio embedding) and a linear output of the factor dimension. Trained
//! with AdamW on the mean squared error to the L2-normalised CF song
//! vectors, the learning rate warming up over the first 5 % of the steps and
//! then falling along a cosine; the network's prediction for a song is the
//! mean over its windows.
//!
//! The head: the network alone learns the sound of a song from a few hundred
//! noisy targets, and on the demo world it only ties with the nearest
//! neighbours of the hand-made descriptors. So after the network,
//! [`AudioCnn::fit_head`] fits a ridge regression from each song's learned
//! embedding *and* its descriptor vector (both computed from the audio
//! alone) to its CF vector; [`AudioCnn::predict_with`] uses it for songs
//! that have descriptors. `encore audio cold-start` reports the network
//! alone, the descriptors alone through the same regression, and both.
//!
//! Seeded: the initial weights come from a ChaCha generator (candle's CPU
//! generator cannot be seeded), and so do the windows drawn each epoch.
//! Runs on the CPU; with the `cuda` feature, on the first NVIDIA GPU.
//!
//! One file of about 630 lines on purpose: the layers, the training loop,
//! prediction, the head and the saved format share the network's private
//! state (its variables, the band statistics), and splitting them would
//! make that state crate-wide. Its tests are in `tests.rs`.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{BatchNorm, Conv1d, Conv1dConfig, Linear, ModuleT, Optimizer, VarBuilder, VarMap};
use encore_types::vector::unit;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ridge::{Ridge, RidgeChoice};
use crate::{DescriptorScaler, Descriptors};

/// Mixed into the training seed to draw the songs the head's penalty is
/// chosen on.
pub const HEAD_SEED: u64 = 0x4EAD;

/// Mel bands of the network's input.
pub const CNN_MELS: usize = 128;
/// Frames per input window (128 × 512 / 22,050 Hz ≈ 2.97 s).
pub const WINDOW: usize = 128;

/// Errors of the network.
#[derive(Debug, thiserror::Error)]
pub enum CnnError {
    /// From candle.
    #[error("network: {0}")]
    Candle(#[from] candle_core::Error),
    /// Reading or writing the model.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The model's description file.
    #[error("{0}")]
    Format(String),
    /// Nothing to train on.
    #[error("{0}")]
    Input(String),
}

type Result<T> = std::result::Result<T, CnnError>;

/// A song's log-mel spectrogram, frames × [`CNN_MELS`], row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    /// Number of frames.
    pub frames: usize,
    /// The values, dB.
    pub data: Vec<f32>,
}

impl Spectrogram {
    /// The spectrogram of `x` (mono at the analysis rate), at most
    /// `max_seconds` from its start, floored 80 dB below its loudest value
    /// (librosa's `top_db`), so near-silent bands do not become outliers
    /// once standardised.
    pub fn of(x: &[f32], max_seconds: f32) -> Spectrogram {
        let max_frames = (max_seconds * crate::FRAME_RATE).ceil().max(1.0) as usize;
        let mut data = crate::log_mel(x, CNN_MELS, max_frames);
        let floor = data.iter().copied().fold(f32::MIN, f32::max) - 80.0;
        data.iter_mut().for_each(|v| *v = v.max(floor));
        Spectrogram { frames: data.len() / CNN_MELS, data }
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Filters of each convolution.
    pub filters: usize,
    /// Width of the embedding (penultimate) layer.
    pub hidden: usize,
    /// Passes over the training songs.
    pub epochs: usize,
    /// Windows per optimisation step.
    pub batch_size: usize,
    /// Random windows drawn per song per epoch.
    pub windows_per_song: usize,
    /// AdamW peak learning rate (reached after a linear warm-up over the
    /// first 5 % of the steps, then decayed along a cosine to 2 % of it).
    pub learning_rate: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Share of the training songs kept aside to report a validation loss.
    pub validation_share: f64,
    /// Seed of the initial weights and of the window draws.
    pub seed: u64,
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            filters: 64,
            hidden: 128,
            epochs: 20,
            batch_size: 64,
            windows_per_song: 4,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            validation_share: 0.1,
            seed: 42,
        }
    }
}

/// Loss after each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub train: f32,
    /// Loss on the validation songs (all their windows), if any.
    pub validation: Option<f32>,
}

/// What training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Songs trained on.
    pub train_songs: usize,
    /// Songs held aside for the validation loss.
    pub validation_songs: usize,
    /// Losses per epoch.
    pub losses: Vec<EpochLoss>,
    /// Validation loss of predicting the mean target for every song (what
    /// the network has to beat to have learnt anything).
    pub baseline_validation: Option<f32>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The device trained on.
    pub device: String,
}

/// Layout of the network's weights; a saved model of another layout cannot
/// be loaded. 1: without batch normalisation; 2: batch-normalised
/// convolutions.
const ARCHITECTURE: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    /// [`ARCHITECTURE`] of the saved weights (absent before version 2).
    #[serde(default = "first_architecture")]
    architecture: u32,
    config: CnnConfig,
    out_dim: usize,
    band_mean: Vec<f32>,
    band_std: Vec<f32>,
    /// The ridge head, once [`AudioCnn::fit_head`] has run.
    #[serde(default)]
    head: Option<Head>,
}

/// The ridge head: song embedding ⊕ descriptor vector → CF vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    scaler: DescriptorScaler,
    ridge: Ridge,
}

/// The head's input: the embedding, then the scaled descriptor vector.
fn head_features(scaler: &DescriptorScaler, embedding: &[f32], d: &Descriptors) -> Vec<f32> {
    embedding.iter().copied().chain(scaler.embed(d)).collect()
}

/// What fitting the head did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadReport {
    /// Songs it was fitted on.
    pub songs: usize,
    /// The penalty chosen.
    pub penalty: f64,
    /// How it was chosen.
    pub choice: RidgeChoice,
}

fn first_architecture() -> u32 {
    1
}

struct Net {
    c1: Conv1d,
    c2: Conv1d,
    c3: Conv1d,
    bn1: BatchNorm,
    bn2: BatchNorm,
    bn3: BatchNorm,
    fc1: Linear,
    fc2: Linear,
}

fn max_pool_time(x: &Tensor, k: usize) -> Result<Tensor> {
    let (b, c, t) = x.dims3()?;
    Ok(x.reshape((b, c, 1, t))?.max_pool2d_with_stride((1, k), (1, k))?.squeeze(2)?)
}

impl Net {
    fn new(vb: VarBuilder, cfg: &CnnConfig, out_dim: usize) -> Result<Net> {
        let cc = Conv1dConfig::default();
        Ok(Net {
            c1: candle_nn::conv1d(CNN_MELS, cfg.filters, 4, cc, vb.pp("conv1"))?,
            c2: candle_nn::conv1d(cfg.filters, cfg.filters, 4, cc, vb.pp("conv2"))?,
            c3: candle_nn::conv1d(cfg.filters, cfg.filters, 4, cc, vb.pp("conv3"))?,
            bn1: candle_nn::batch_norm(cfg.filters, 1e-5, vb.pp("bn1"))?,
            bn2: candle_nn::batch_norm(cfg.filters, 1e-5, vb.pp("bn2"))?,
            bn3: candle_nn::batch_norm(cfg.filters, 1e-5, vb.pp("bn3"))?,
            fc1: candle_nn::linear(2 * cfg.filters, cfg.hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(cfg.hidden, out_dim, vb.pp("fc2"))?,
        })
    }

    /// `x`: batch × bands × frames. Returns (embedding, output). `train`
    /// normalises each convolution's output by the batch's statistics (and
    /// updates the running ones); otherwise by the running statistics.
    fn forward(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        let h = max_pool_time(&self.bn1.forward_t(&self.c1.forward(x)?, train)?.relu()?, 4)?;
        let h = max_pool_time(&self.bn2.forward_t(&self.c2.forward(&h)?, train)?.relu()?, 2)?;
        let h = self.bn3.forward_t(&self.c3.forward(&h)?, train)?.relu()?;
        let pooled = Tensor::cat(&[h.mean(D::Minus1)?, h.max(D::Minus1)?], 1)?;
        let e = self.fc1.forward(&pooled)?.relu()?;
        let out = self.fc2.forward(&e)?;
        Ok((e, out))
    }
}

/// The trained network.
pub struct AudioCnn {
    meta: Meta,
    varmap: VarMap,
    net: Net,
    device: Device,
}

impl std::fmt::Debug for AudioCnn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioCnn").field("config", &self.meta.config).field("out_dim", &self.meta.out_dim).finish()
    }
}

/// The device the network runs on: the first CUDA GPU when built with the
/// `cuda` feature and one is present, else the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    Device::Cpu
}

fn device_name(d: &Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        other => format!("{other:?}"),
    }
}

/// Sets every weight from a seeded generator: uniform with variance
/// 1/fan-in (LeCun), the output layer a tenth of that so the first
/// predictions start near zero; biases zero.
fn seeded_init(varmap: &VarMap, seed: u64, device: &Device) -> Result<()> {
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for name in names {
        // Batch norms keep their initial state (scale 1, shift 0, running
        // mean 0 and variance 1).
        if name.starts_with("bn") {
            continue;
        }
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values: Vec<f32> = if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            let fan_in = (n / dims[0].max(1)).max(1) as f32;
            let scale = if name.starts_with("fc2") { 0.1 } else { 1.0 };
            let bound = scale * (3.0 / fan_in).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        };
        var.set(&Tensor::from_vec(values, dims, device)?)?;
    }
    Ok(())
}

/// Normalises and windows: the window of `s` starting at frame `start`
/// (padded with the band means past the end), bands × frames.
fn window(s: &Spectrogram, start: usize, mean: &[f32], std: &[f32], out: &mut Vec<f32>) {
    for b in 0..CNN_MELS {
        for t in start..start + WINDOW {
            out.push(if t < s.frames { (s.data[t * CNN_MELS + b] - mean[b]) / std[b] } else { 0.0 });
        }
    }
}

/// Window starts covering `s` with half-overlapping windows.
fn starts(s: &Spectrogram) -> Vec<usize> {
    if s.frames <= WINDOW {
        return vec![0];
    }
    let mut v: Vec<usize> = (0..=s.frames - WINDOW).step_by(WINDOW / 2).collect();
    if *v.last().unwrap() + WINDOW < s.frames {
        v.push(s.frames - WINDOW);
    }
    v
}

fn mse(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok((a - b)?.sqr()?.sum(D::Minus1)?.mean_all()?)
}

impl AudioCnn {
    /// Trains on `songs` with their target vectors (L2-normalised here), all
    /// of one length. `progress(epoch, loss)` is called after each epoch.
    pub fn train(
        songs: &[&Spectrogram],
        targets: &[Vec<f32>],
        cfg: &CnnConfig,
        progress: &(dyn Fn(&EpochLoss) + Sync),
    ) -> Result<(AudioCnn, TrainReport)> {
        let started = std::time::Instant::now();
        if songs.len() != targets.len() || songs.len() < 2 {
            return Err(CnnError::Input(format!(
                "need at least two songs with targets to train the audio network, got {} songs and {} targets",
                songs.len(),
                targets.len()
            )));
        }
        let out_dim = targets[0].len();
        if out_dim == 0 || targets.iter().any(|t| t.len() != out_dim) {
            return Err(CnnError::Input("target vectors must all have the same, non-zero length".into()));
        }
        let targets: Vec<Vec<f32>> = targets.iter().map(|t| unit(t)).collect();
        // Band statistics over all training frames.
        let (mut sum, mut sq, mut n) = (vec![0f64; CNN_MELS], vec![0f64; CNN_MELS], 0f64);
        for s in songs {
            for f in s.data.chunks_exact(CNN_MELS) {
                for b in 0..CNN_MELS {
                    sum[b] += f[b] as f64;
                    sq[b] += (f[b] as f64).powi(2);
                }
                n += 1.0;
            }
        }
        let n = n.max(1.0);
        let band_mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let band_std: Vec<f32> =
            sum.iter().zip(&sq).map(|(s, q)| ((q / n - (s / n).powi(2)).max(1.0)).sqrt() as f32).collect();

        let device = device();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let net = Net::new(vb, cfg, out_dim)?;
        seeded_init(&varmap, cfg.seed, &device)?;
        let mut opt = candle_nn::AdamW::new(
            varmap.all_vars(),
            candle_nn::ParamsAdamW { lr: cfg.learning_rate, weight_decay: cfg.weight_decay, ..Default::default() },
        )?;
        let meta = Meta { architecture: ARCHITECTURE, config: cfg.clone(), out_dim, band_mean, band_std, head: None };
        let model = AudioCnn { meta, varmap, net, device };

        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5EED);
        let mut order: Vec<usize> = (0..songs.len()).collect();
        order.shuffle(&mut rng);
        let n_val = ((songs.len() as f64 * cfg.validation_share).round() as usize).min(songs.len() - 1);
        let (val, train) = order.split_at(n_val);
        let (val, train) = (val.to_vec(), train.to_vec());
        let baseline_validation = (!val.is_empty()).then(|| {
            let mut mean = vec![0f32; out_dim];
            for &i in &train {
                mean.iter_mut().zip(&targets[i]).for_each(|(m, t)| *m += t / train.len() as f32);
            }
            val.iter().map(|&i| targets[i].iter().zip(&mean).map(|(t, m)| (t - m).powi(2)).sum::<f32>()).sum::<f32>()
                / val.len() as f32
        });

        let total_steps = (train.len() * cfg.windows_per_song).div_ceil(cfg.batch_size.max(1)) * cfg.epochs;
        let warm_up = (total_steps / 20).max(1);
        let learning_rate = |step: usize| {
            if step < warm_up {
                cfg.learning_rate * (step + 1) as f64 / warm_up as f64
            } else {
                let done = (step - warm_up) as f64 / (total_steps - warm_up).max(1) as f64;
                cfg.learning_rate * (0.02 + 0.98 * 0.5 * (1.0 + (std::f64::consts::PI * done).cos()))
            }
        };
        let mut step = 0;
        let mut losses = Vec::with_capacity(cfg.epochs);
        let mut batch = Vec::with_capacity(cfg.batch_size * CNN_MELS * WINDOW);
        let mut batch_t = Vec::with_capacity(cfg.batch_size * out_dim);
        for epoch in 1..=cfg.epochs {
            let mut draws: Vec<(usize, usize)> = Vec::with_capacity(train.len() * cfg.windows_per_song);
            for &i in &train {
                let s = songs[i];
                for _ in 0..cfg.windows_per_song {
                    let start = if s.frames > WINDOW { rng.random_range(0..=s.frames - WINDOW) } else { 0 };
                    draws.push((i, start));
                }
            }
            draws.shuffle(&mut rng);
            let (mut total, mut steps) = (0f32, 0usize);
            for chunk in draws.chunks(cfg.batch_size) {
                batch.clear();
                batch_t.clear();
                for &(i, start) in chunk {
                    window(songs[i], start, &model.meta.band_mean, &model.meta.band_std, &mut batch);
                    batch_t.extend_from_slice(&targets[i]);
                }
                let x = Tensor::from_slice(&batch, (chunk.len(), CNN_MELS, WINDOW), &model.device)?;
                let y = Tensor::from_slice(&batch_t, (chunk.len(), out_dim), &model.device)?;
                let (_, out) = model.net.forward(&x, true)?;
                let loss = mse(&out, &y)?;
                opt.set_learning_rate(learning_rate(step));
                opt.backward_step(&loss)?;
                step += 1;
                total += loss.to_scalar::<f32>()?;
                steps += 1;
            }
            let validation = if val.is_empty() {
                None
            } else {
                let vs: Vec<&Spectrogram> = val.iter().map(|&i| songs[i]).collect();
                let pred = model.predict(&vs)?;
                Some(
                    val.iter()
                        .zip(&pred)
                        .map(|(&i, p)| targets[i].iter().zip(&p.vector).map(|(t, q)| (t - q).powi(2)).sum::<f32>())
                        .sum::<f32>()
                        / val.len() as f32,
                )
            };
            let e = EpochLoss { epoch, train: total / steps.max(1) as f32, validation };
            progress(&e);
            losses.push(e);
        }
        let report = TrainReport {
            train_songs: train.len(),
            validation_songs: val.len(),
            losses,
            baseline_validation,
            seconds: started.elapsed().as_secs_f64(),
            device: device_name(&model.device),
        };
        Ok((model, report))
    }

    /// Dimension of the predicted vectors.
    pub fn out_dim(&self) -> usize {
        self.meta.out_dim
    }

    /// Width of the audio embedding.
    pub fn embedding_dim(&self) -> usize {
        self.meta.config.hidden
    }

    /// The network's predicted CF vector and audio embedding of each song:
    /// the mean over its half-overlapping windows (the embedding
    /// L2-normalised). Without the head; see [`AudioCnn::predict_with`].
    pub fn predict(&self, songs: &[&Spectrogram]) -> Result<Vec<Prediction>> {
        const BATCH: usize = 256;
        let mut jobs: Vec<(usize, usize)> = Vec::new();
        for (i, s) in songs.iter().enumerate() {
            jobs.extend(starts(s).into_iter().map(|st| (i, st)));
        }
        let h = self.meta.config.hidden;
        let mut out = vec![Prediction { vector: vec![0.0; self.meta.out_dim], embedding: vec![0.0; h] }; songs.len()];
        let mut counts = vec![0f32; songs.len()];
        let mut buf = Vec::with_capacity(BATCH * CNN_MELS * WINDOW);
        for chunk in jobs.chunks(BATCH) {
            buf.clear();
            for &(i, st) in chunk {
                window(songs[i], st, &self.meta.band_mean, &self.meta.band_std, &mut buf);
            }
            let x = Tensor::from_slice(&buf, (chunk.len(), CNN_MELS, WINDOW), &self.device)?;
            let (e, o) = self.net.forward(&x, false)?;
            let (e, o) = (e.to_vec2::<f32>()?, o.to_vec2::<f32>()?);
            for (k, &(i, _)) in chunk.iter().enumerate() {
                out[i].vector.iter_mut().zip(&o[k]).for_each(|(a, b)| *a += b);
                out[i].embedding.iter_mut().zip(&e[k]).for_each(|(a, b)| *a += b);
                counts[i] += 1.0;
            }
        }
        for (p, c) in out.iter_mut().zip(counts) {
            p.vector.iter_mut().for_each(|v| *v /= c.max(1.0));
            p.embedding = unit(&p.embedding);
        }
        Ok(out)
    }

    /// Fits the head on songs whose CF vectors are known (normally the
    /// network's own training songs): a ridge regression from the song's
    /// embedding and its normalised descriptor vector to its L2-normalised
    /// CF vector, the penalty chosen on a seeded fifth of them. Needs at
    /// least five songs.
    pub fn fit_head(
        &mut self,
        songs: &[&Spectrogram],
        descriptors: &[&Descriptors],
        targets: &[Vec<f32>],
    ) -> Result<HeadReport> {
        if songs.len() != descriptors.len() || songs.len() != targets.len() || songs.len() < 5 {
            return Err(CnnError::Input(format!(
                "the head needs at least five songs with audio, descriptors and targets, got {}, {} and {}",
                songs.len(),
                descriptors.len(),
                targets.len()
            )));
        }
        if targets.iter().any(|t| t.len() != self.meta.out_dim) {
            return Err(CnnError::Input(format!(
                "target vectors must have the network's {} dimensions",
                self.meta.out_dim
            )));
        }
        self.meta.head = None;
        let pred = self.predict(songs)?;
        let scaler = DescriptorScaler::fit(descriptors.iter().copied());
        let x: Vec<Vec<f32>> =
            pred.iter().zip(descriptors).map(|(p, d)| head_features(&scaler, &p.embedding, d)).collect();
        let y: Vec<Vec<f32>> = targets.iter().map(|t| unit(t)).collect();
        let (ridge, choice) = Ridge::fit_chosen(&x, &y, self.meta.config.seed ^ HEAD_SEED)
            .ok_or_else(|| CnnError::Input("the head's regression could not be solved".into()))?;
        let report = HeadReport { songs: songs.len(), penalty: ridge.penalty, choice };
        self.meta.head = Some(Head { scaler, ridge });
        Ok(report)
    }

    /// Whether [`AudioCnn::fit_head`] has run.
    pub fn has_head(&self) -> bool {
        self.meta.head.is_some()
    }

    /// [`AudioCnn::predict`], the vector of every song with descriptors
    /// coming from the head when there is one.
    pub fn predict_with(
        &self,
        songs: &[&Spectrogram],
        descriptors: &[Option<&Descriptors>],
    ) -> Result<Vec<Prediction>> {
        let mut pred = self.predict(songs)?;
        for (p, d) in pred.iter_mut().zip(descriptors) {
            if let Some(v) = d.and_then(|d| self.head_vector(p, d)) {
                p.vector = v;
            }
        }
        Ok(pred)
    }

    /// The head's CF vector for a song the network has already predicted
    /// (`None` without a head).
    pub fn head_vector(&self, p: &Prediction, d: &Descriptors) -> Option<Vec<f32>> {
        let head = self.meta.head.as_ref()?;
        Some(head.ridge.apply(&head_features(&head.scaler, &p.embedding, d)))
    }

    /// Writes `cnn.json` and `cnn.safetensors` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.meta).map_err(|e| CnnError::Format(e.to_string()))?;
        let p = dir.join("cnn.json");
        std::fs::write(&p, json).map_err(|source| CnnError::Io { path: p, source })?;
        self.varmap.save(dir.join("cnn.safetensors"))?;
        Ok(())
    }

    /// Reads a model written by [`AudioCnn::save`].
    pub fn load(dir: &Path) -> Result<AudioCnn> {
        let p = dir.join("cnn.json");
        let bytes = std::fs::read(&p).map_err(|source| CnnError::Io { path: p.clone(), source })?;
        let meta: Meta =
            serde_json::from_slice(&bytes).map_err(|e| CnnError::Format(format!("{}: {e}", p.display())))?;
        if meta.architecture != ARCHITECTURE {
            return Err(CnnError::Format(format!(
                "{}: an audio network of architecture {} (this Encore reads {ARCHITECTURE}); run `encore audio train` again",
                p.display(),
                meta.architecture
            )));
        }
        let device = device();
        let mut varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let net = Net::new(vb, &meta.config, meta.out_dim)?;
        varmap.load(dir.join("cnn.safetensors"))?;
        Ok(AudioCnn { meta, varmap, net, device })
    }
}

/// What the network says about one song.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Predicted (L2-normalised scale) CF vector.
    pub vector: Vec<f32>,
    /// Learned audio embedding, L2-normalised.
    pub embedding: Vec<f32>,
}

#[cfg(test)]
mod tests;
