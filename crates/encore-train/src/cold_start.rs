//! The cold-start protocol (van den Oord et al. 2013): songs held out of
//! CF training entirely are ranked for every user from what is known
//! without plays — audio, text, the artist's popularity — against the
//! ceiling of CF with their plays.

use encore_audio::{DescriptorScaler, Spectrogram};
use encore_store::Store;
use encore_types::vector::unit;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::audio::{catalog_audio, fit_cnn, spectrograms, NetworkSettings};
use crate::{Error, Progress};

/// Settings of the cold-start evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ColdStartSettings {
    /// Share of the songs with audio held out of CF training.
    pub share: f64,
    /// Cut-off of recall.
    pub k: usize,
    /// Neighbours of the descriptor nearest-neighbour baseline.
    pub neighbours: usize,
    /// The network's training.
    pub network: NetworkSettings,
}

impl Default for ColdStartSettings {
    fn default() -> Self {
        ColdStartSettings { share: 0.2, k: 50, neighbours: 10, network: NetworkSettings::default() }
    }
}

/// One row of the cold-start table.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStartRow {
    /// How the held-out songs were scored.
    pub method: String,
    /// AUC and recall of that scoring.
    #[serde(flatten)]
    pub metrics: encore_eval::ColdStartMetrics,
}

/// The cold-start evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStartReport {
    /// Songs held out of CF training.
    pub held_out_songs: usize,
    /// Songs with audio left in training.
    pub train_songs: usize,
    /// Songs the network trained on.
    pub network_targets: usize,
    /// One row per method.
    pub rows: Vec<ColdStartRow>,
    /// Wall time of the whole protocol.
    pub seconds: f64,
}

/// The van den Oord protocol on the store's data: hold out `share` of the
/// songs with audio, train ALS without them, train the network on the rest,
/// and rank the held-out songs for every user by each method.
pub fn cold_start(store: &Store, a: &ColdStartSettings, progress: Progress<'_>) -> crate::Result<ColdStartReport> {
    let started = std::time::Instant::now();
    let m = store.interactions()?;
    crate::need_listens(&m)?;
    let songs = catalog_audio(store)?;
    let paths: Vec<&str> = songs.iter().map(|s| s.path.as_str()).collect();
    let specs = spectrograms(&paths, a.network.max_seconds, progress);
    // Columns with decodable, analysed audio.
    let mut by_col: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for (k, s) in songs.iter().enumerate() {
        if let (Ok(col), Some(_), Some(_)) = (m.item_ids.binary_search(&s.id), &specs[k], &s.descriptors) {
            by_col.insert(col as u32, k);
        }
    }
    let eligible: Vec<u32> = by_col.keys().copied().collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.network.seed);
    let split = encore_eval::hold_out_items(&m, &eligible, a.share, &mut rng)?;
    let held: std::collections::HashSet<u32> = split.held_out.iter().copied().collect();

    let cfg = encore_cf::AlsConfig::default();
    let stage = "ALS without the held-out songs";
    let total = cfg.iterations as u64;
    crate::report(progress, stage, 0, total);
    let cf = cfg.fit(&split.train, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.network.seed), &mut |s| {
        crate::report(progress, stage, s.iteration as u64, total)
    })?;
    crate::report(progress, stage, total, total);

    // Network targets: training songs with audio and enough listeners.
    let listeners = encore_engine::listeners(&split.train);
    let mut x = Vec::new();
    let mut xd = Vec::new();
    let mut y = Vec::new();
    let mut train_cols = Vec::new();
    for (&col, &k) in &by_col {
        if !held.contains(&col) && listeners[col as usize] >= a.network.min_listeners {
            train_cols.push((col, k));
        }
    }
    train_cols.sort_unstable();
    for &(col, k) in &train_cols {
        x.push(specs[k].as_ref().expect("eligible songs decode"));
        xd.push(songs[k].descriptors.as_ref());
        y.push(cf.item_vector(col as usize).to_vec());
    }
    let (cnn, _, _) = fit_cnn(&x, &xd, &y, &a.network, progress)?;
    let held_specs: Vec<&Spectrogram> =
        split.held_out.iter().map(|c| specs[by_col[c]].as_ref().expect("eligible songs decode")).collect();
    // One pass of the network over the held-out songs: its own vectors, and
    // the head's from the same embeddings.
    let held_pred = cnn.predict(&held_specs)?;
    let train_emb: Vec<Vec<f32>> = cnn.predict(&x)?.into_iter().map(|p| p.embedding).collect();
    let net_vectors: Vec<Vec<f32>> = held_pred.iter().map(|p| p.vector.clone()).collect();
    let cnn_vectors: Vec<Vec<f32>> = held_pred
        .iter()
        .zip(&split.held_out)
        .map(|(p, c)| {
            songs[by_col[c]]
                .descriptors
                .as_ref()
                .and_then(|d| cnn.head_vector(p, d))
                .unwrap_or_else(|| p.vector.clone())
        })
        .collect();

    // Nearest neighbours: the mean normalised CF vector of the training
    // songs most similar to a held-out song by some audio vector.
    let train_col: Vec<u32> = train_cols.iter().map(|&(c, _)| c).collect();
    let neighbours = |q: &[f32], train: &[Vec<f32>]| -> Vec<f32> {
        let mut sims: Vec<(f32, u32)> =
            train.iter().zip(&train_col).map(|(v, &tc)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), tc)).collect();
        sims.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut mean = vec![0f32; cf.factors()];
        for &(_, tc) in sims.iter().take(a.neighbours) {
            mean.iter_mut().zip(unit(cf.item_vector(tc as usize))).for_each(|(m, v)| *m += v);
        }
        mean
    };
    // By descriptor vector, and by the network's learned embedding.
    let scaler = DescriptorScaler::fit(by_col.values().filter_map(|&k| songs[k].descriptors.as_ref()));
    let desc = |col: u32| scaler.embed(songs[by_col[&col]].descriptors.as_ref().expect("eligible songs are analysed"));
    let train_desc: Vec<Vec<f32>> = train_col.iter().map(|&c| desc(c)).collect();
    let desc_vectors: Vec<Vec<f32>> = split.held_out.iter().map(|&c| neighbours(&desc(c), &train_desc)).collect();
    // The head's regression on the descriptors alone: what the network's
    // embedding adds to it.
    let train_targets: Vec<Vec<f32>> = train_col.iter().map(|&c| unit(cf.item_vector(c as usize))).collect();
    let (desc_ridge, _) = encore_audio::ridge::Ridge::fit_chosen(
        &train_desc,
        &train_targets,
        a.network.seed ^ encore_audio::cnn::HEAD_SEED,
    )
    .ok_or_else(|| Error::Settings("the descriptor regression could not be solved (too few analysed songs)".into()))?;
    let desc_ridge_vectors: Vec<Vec<f32>> = split.held_out.iter().map(|&c| desc_ridge.apply(&desc(c))).collect();
    let emb_vectors: Vec<Vec<f32>> = held_pred.iter().map(|p| neighbours(&p.embedding, &train_emb)).collect();
    // A diagnostic, not a method: the mean normalised CF vector of the
    // training songs of the held-out song's genre (metadata a cold-start
    // system may not have). It bounds what audio can add in a world whose
    // listeners choose by genre.
    let genre_of: std::collections::HashMap<i64, Option<String>> =
        store.catalog_rows()?.into_iter().map(|(id, _, genre, _)| (id, genre)).collect();
    let col_genre = |c: u32| genre_of.get(&m.item_ids[c as usize]).cloned().flatten();
    let mut by_genre: std::collections::HashMap<Option<String>, Vec<f32>> = std::collections::HashMap::new();
    for &c in &train_col {
        let e = by_genre.entry(col_genre(c)).or_insert_with(|| vec![0f32; cf.factors()]);
        e.iter_mut().zip(unit(cf.item_vector(c as usize))).for_each(|(m, v)| *m += v);
    }
    let genre_vectors: Vec<Vec<f32>> = split
        .held_out
        .iter()
        .map(|&c| by_genre.get(&col_genre(c)).cloned().unwrap_or_else(|| vec![0f32; cf.factors()]))
        .collect();

    // Popularity: the training plays of the song's artist (what is known
    // about a new song before anyone plays it).
    let mut artist_plays: std::collections::HashMap<i64, f64> = std::collections::HashMap::new();
    let col_artist = |col: u32| by_col.get(&col).and_then(|&k| songs[k].artist);
    let artist_of: std::collections::HashMap<i64, Option<i64>> = songs.iter().map(|s| (s.id, s.artist)).collect();
    for u in 0..split.train.n_users() {
        let r = split.train.row(u);
        for k in 0..r.indices.len() {
            if let Some(Some(ar)) = artist_of.get(&split.train.item_ids[r.indices[k] as usize]) {
                *artist_plays.entry(*ar).or_default() += r.plays[k] as f64;
            }
        }
    }
    let pop: Vec<f32> = split
        .held_out
        .iter()
        .map(|&c| col_artist(c).and_then(|ar| artist_plays.get(&ar)).copied().unwrap_or(0.0) as f32)
        .collect();
    let random: Vec<f32> = split.held_out.iter().map(|_| rng.random::<f32>()).collect();

    // The hybrid: every source, fused with weights fitted on the training
    // part, the held-out songs entering through their predicted vectors.
    let held_ids: Vec<i64> = split.held_out.iter().map(|&c| m.item_ids[c as usize]).collect();
    let emb = encore_engine::AudioEmbeddings {
        ids: held_ids.clone(),
        dim: cf.factors(),
        embedding_dim: 0,
        vectors: cnn_vectors.iter().flatten().copied().collect(),
        embeddings: Vec::new(),
    };
    let text = match store.artifacts(encore_text::KIND)?.current()? {
        Some((p, _)) => Some(encore_text::TermModel::load(&p)?),
        None => None,
    };
    let catalog = encore_engine::build_catalog(
        store,
        &encore_engine::Listeners::of(&split.train),
        &cf,
        text.as_ref(),
        Some(&emb),
        encore_engine::AudioVectors::Descriptors,
    )?;
    let fusion = encore_engine::fit_fusion(
        store,
        &split.train,
        &cfg,
        text.as_ref(),
        Some(&emb),
        &encore_engine::FusionConfig { seed: a.network.seed + 1, ..Default::default() },
    )?;
    let hybrid = encore_rank::Hybrid::new(&catalog, &cf, &fusion)?;
    let col_to_song: Vec<Option<usize>> = split.train.item_ids.iter().map(|&id| catalog.index(id)).collect();
    let held_songs: Vec<usize> = held_ids.iter().map(|&id| catalog.index(id).expect("catalog song")).collect();
    let hybrid_scores = |u: usize| -> Vec<f32> {
        let history = encore_engine::row_history(&split.train, u, &col_to_song);
        hybrid.score_songs(&hybrid.profile(&history, &[], &[]), &held_songs)
    };

    let dot_scores = |vectors: &Vec<Vec<f32>>, u: usize| -> Vec<f32> {
        let uv = cf.user_vector(u);
        vectors.iter().map(|v| v.iter().zip(uv).map(|(a, b)| a * b).sum()).collect()
    };
    let eval = |name: &str, f: &(dyn Fn(usize) -> Vec<f32> + Sync)| ColdStartRow {
        method: name.to_string(),
        metrics: encore_eval::evaluate_cold_start(&m, &split.held_out, a.k, f),
    };
    // The ceiling: ALS trained with the held-out songs' plays, scoring them
    // with their real CF vectors (what no cold-start method can know).
    let full = cfg.fit(&m, &mut rand_chacha::ChaCha8Rng::seed_from_u64(a.network.seed), &mut |_| {})?;
    let oracle = |u: usize| -> Vec<f32> {
        let uv = full.user_vector(u);
        split.held_out.iter().map(|&c| full.item_vector(c as usize).iter().zip(uv).map(|(a, b)| a * b).sum()).collect()
    };
    let rows = vec![
        eval("CF with their plays (ceiling)", &oracle),
        eval("random", &|_| random.clone()),
        eval("popularity (artist plays)", &|_| pop.clone()),
        eval("descriptor nearest neighbours", &|u| dot_scores(&desc_vectors, u)),
        eval("audio CNN (network + head)", &|u| dot_scores(&cnn_vectors, u)),
        eval("audio CNN, network alone", &|u| dot_scores(&net_vectors, u)),
        eval("descriptors through the head alone", &|u| dot_scores(&desc_ridge_vectors, u)),
        eval("audio CNN embedding neighbours", &|u| dot_scores(&emb_vectors, u)),
        eval("genre mean (diagnostic: metadata, not audio)", &|u| dot_scores(&genre_vectors, u)),
        eval("hybrid (CNN, audio, text, popularity)", &hybrid_scores),
    ];
    Ok(ColdStartReport {
        held_out_songs: split.held_out.len(),
        train_songs: eligible.len() - split.held_out.len(),
        network_targets: x.len(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}
