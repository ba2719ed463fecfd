//! Training, fold-in, explanations and persistence on small clustered worlds.

use encore_cf::{AlsConfig, CfModel, Solver};
use encore_types::{Interactions, InteractionsBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `clusters` groups of users, each playing mostly its own group of items.
fn clustered(users: usize, items: usize, clusters: usize, seed: u64) -> Interactions {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = InteractionsBuilder::new((1..=users as i64).collect(), (100..100 + items as i64).collect());
    for u in 0..users {
        let c = u % clusters;
        let mut row = Vec::new();
        for _ in 0..12 {
            let i = if rng.random::<f32>() < 0.9 {
                let per = items / clusters;
                c * per + rng.random_range(0..per)
            } else {
                rng.random_range(0..items)
            };
            row.push((i as u32, rng.random_range(1..6) as f32, 0, 0));
        }
        b.push_row(&row);
    }
    b.finish()
}

fn history(m: &Interactions, u: usize) -> Vec<(usize, f32, u32)> {
    let r = m.row(u);
    (0..r.indices.len()).map(|k| (r.indices[k] as usize, r.plays[k], r.skips[k])).collect()
}

fn train(m: &Interactions, solver: Solver, iterations: usize) -> CfModel {
    let cfg = AlsConfig { factors: 8, iterations, solver, regularization: 0.1, alpha: 2.0, ..Default::default() };
    cfg.fit(m, &mut ChaCha8Rng::seed_from_u64(7), &mut |_| {}).unwrap()
}

#[test]
fn recommendations_stay_in_the_users_cluster_and_skip_played_songs() {
    let m = clustered(120, 80, 4, 1);
    for solver in [Solver::Cholesky, Solver::Cg { steps: 3 }] {
        let model = train(&m, solver, 15);
        let mut in_cluster = 0;
        let mut total = 0;
        for u in 0..m.n_users() {
            let played = m.row(u).indices;
            let recs = model.recommend(u, 5, played).unwrap();
            assert_eq!(recs.len(), 5);
            assert!(recs.windows(2).all(|w| w[0].score >= w[1].score));
            for r in &recs {
                assert!(played.binary_search(&(r.index as u32)).is_err(), "a played song was recommended");
                in_cluster += (r.index / 20 == u % 4) as usize;
                total += 1;
            }
        }
        let share = in_cluster as f64 / total as f64;
        assert!(share > 0.8, "{solver:?}: only {share} of recommendations in the user's cluster");
        // Similar items of an item share its cluster.
        let sim = model.similar_items(3, 5).unwrap();
        assert!(sim.iter().filter(|s| s.index / 20 == 0).count() >= 4, "{sim:?}");
        assert!(sim.iter().all(|s| s.index != 3));
        let users = model.similar_users(0, 5).unwrap();
        assert!(users.iter().filter(|s| s.index % 4 == 0).count() >= 4, "{users:?}");
    }
}

#[test]
fn training_loss_decreases() {
    let m = clustered(80, 40, 4, 2);
    let cfg = AlsConfig { factors: 6, iterations: 8, track_loss: true, ..Default::default() };
    let model = cfg.fit(&m, &mut ChaCha8Rng::seed_from_u64(3), &mut |_| {}).unwrap();
    let l = &model.metrics().loss_per_iteration;
    assert_eq!(l.len(), 8);
    assert!(l[7] < l[0], "{l:?}");
    assert!((model.metrics().final_loss - l[7]).abs() < 1e-9);
}

/// Folding in a user's own history against the trained item factors gives
/// the vector training gave that user (at convergence, one exact user step
/// changes nothing).
#[test]
fn fold_in_matches_the_trained_user_vector() {
    let m = clustered(60, 40, 3, 4);
    let model = train(&m, Solver::Cholesky, 60);
    for u in 0..m.n_users() {
        let x = model.fold_in(&history(&m, u)).unwrap();
        let trained = model.user_vector(u);
        let scale = trained.iter().map(|v| v.abs()).fold(1e-3f32, f32::max);
        for (a, b) in x.iter().zip(trained) {
            assert!((a - b).abs() < 2e-2 * scale, "user {u}: {x:?} vs {trained:?}");
        }
    }
    // A brand-new listener of cluster 1's songs gets cluster 1's songs.
    let newbie: Vec<(usize, f32, u32)> = (13..18).map(|i| (i, 3.0, 0)).collect();
    let x = model.fold_in(&newbie).unwrap();
    let recs = model.recommend_vector(&x, 5, &[13, 14, 15, 16, 17]).unwrap();
    assert!(recs.iter().filter(|r| r.index / 13 == 1 || (13..26).contains(&r.index)).count() >= 4, "{recs:?}");
}

#[test]
fn explanations_add_up_to_the_score() {
    let m = clustered(60, 40, 3, 5);
    let model = train(&m, Solver::Cholesky, 10);
    let h = history(&m, 0);
    let x = model.fold_in(&h).unwrap();
    let rec = model.recommend_vector(&x, 1, &[]).unwrap()[0];
    let parts = model.explain(&h, rec.index).unwrap();
    let sum: f32 = parts.iter().map(|p| p.contribution).sum();
    assert!((sum - rec.score).abs() < 1e-3 * rec.score.abs().max(1.0), "{sum} vs {}", rec.score);
    assert!(parts.windows(2).all(|w| w[0].contribution >= w[1].contribution));
}

#[test]
fn skipped_songs_become_negatives() {
    // Two users play the same songs; user 1 also skipped song 5 many times.
    let mut b = InteractionsBuilder::new(vec![1, 2, 3], (0..8).collect());
    b.push_row(&[(0, 4.0, 0, 0), (1, 4.0, 0, 0), (2, 4.0, 0, 0), (5, 4.0, 0, 0)]);
    b.push_row(&[(0, 4.0, 0, 0), (1, 4.0, 0, 0), (2, 4.0, 0, 0), (5, 0.0, 8, 0)]);
    b.push_row(&[(0, 4.0, 0, 0), (5, 4.0, 0, 0), (6, 2.0, 0, 0)]);
    let m = b.finish();
    let model = train(&m, Solver::Cholesky, 20);
    let s0 = model.scores(model.user_vector(0)).unwrap()[5];
    let s1 = model.scores(model.user_vector(1)).unwrap()[5];
    assert!(s1 < s0 - 0.3, "skips should push song 5 down for user 1: {s1} vs {s0}");
}

#[test]
fn save_and_load_round_trip() {
    let m = clustered(30, 20, 2, 6);
    let model = train(&m, Solver::Cg { steps: 3 }, 5);
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let back = CfModel::load(dir.path()).unwrap();
    assert_eq!(back.user_factors(), model.user_factors());
    assert_eq!(back.item_factors(), model.item_factors());
    assert_eq!(back.config(), model.config());
    assert_eq!(back.recommend(3, 4, &[]).unwrap(), model.recommend(3, 4, &[]).unwrap());
    let all = model.recommend_all(4, |u| m.row(u).indices);
    assert_eq!(all[7], model.recommend(7, 4, m.row(7).indices).unwrap());
    // A truncated factor file is refused.
    let items = dir.path().join("items.f32");
    let bytes = std::fs::read(&items).unwrap();
    std::fs::write(&items, &bytes[..bytes.len() - 3]).unwrap();
    assert!(CfModel::load(dir.path()).is_err());
}

#[test]
fn bpr_ranks_the_users_cluster_first() {
    let m = clustered(120, 80, 4, 8);
    let cfg = encore_cf::BprConfig { factors: 8, learning_rate: 0.05, regularization: 0.01, iterations: 60 };
    let model = cfg.fit(&m, &mut ChaCha8Rng::seed_from_u64(9), &mut |_, _| {}).unwrap();
    assert_eq!(model.algorithm(), "bpr");
    let mut in_cluster = 0;
    for u in 0..m.n_users() {
        for r in model.recommend(u, 5, m.row(u).indices).unwrap() {
            in_cluster += (r.index / 20 == u % 4) as usize;
        }
    }
    let share = in_cluster as f64 / (5 * m.n_users()) as f64;
    assert!(share > 0.7, "BPR: only {share} of recommendations in the user's cluster");
    assert!(encore_cf::BprConfig { learning_rate: 0.0, ..Default::default() }.validate().is_err());
}

#[test]
fn item_knn_recommends_from_neighbours() {
    let m = clustered(120, 80, 4, 10);
    for w in
        [encore_cf::Weighting::Cosine, encore_cf::Weighting::TfIdf, encore_cf::Weighting::Bm25 { k1: 100.0, b: 0.8 }]
    {
        let model = encore_cf::ItemKnnConfig { neighbours: 10, weighting: w }.fit(&m).unwrap();
        let sim = model.similar_items(5, 5).unwrap();
        assert!(sim.iter().filter(|s| s.index / 20 == 0).count() >= 4, "{w:?}: {sim:?}");
        let h: Vec<(usize, f32)> = history(&m, 1).iter().map(|h| (h.0, h.1)).collect();
        let scores = model.scores(&h);
        let best = (0..80)
            .filter(|i| m.row(1).indices.binary_search(&(*i as u32)).is_err())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(best / 20, 1, "{w:?}");
    }
}

#[test]
fn lmf_ranks_the_users_cluster_first() {
    let m = clustered(120, 80, 4, 11);
    let model = encore_cf::LmfConfig { factors: 8, iterations: 30, ..Default::default() }
        .fit(&m, &mut ChaCha8Rng::seed_from_u64(12), &mut |_, _| {})
        .unwrap();
    assert_eq!(model.algorithm(), "lmf");
    let mut in_cluster = 0;
    for u in 0..m.n_users() {
        for r in model.recommend(u, 5, m.row(u).indices).unwrap() {
            in_cluster += (r.index / 20 == u % 4) as usize;
        }
    }
    let share = in_cluster as f64 / (5 * m.n_users()) as f64;
    assert!(share > 0.7, "LMF: only {share} of recommendations in the user's cluster");
}
