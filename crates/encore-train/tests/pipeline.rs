//! The training pipeline and the experiments as a library: a small demo
//! world imported, every model trained into one release, progress seen,
//! and the models measured against the baselines.

use std::sync::Mutex;

use encore_ingest::{import_file, Format, ImportOptions};
use encore_sim::{write_world, World, WorldConfig};
use encore_store::Store;
use encore_train::experiments::{EvalSettings, ModelName};
use encore_train::release::{train_all, ReleaseSettings};
use encore_train::{quiet, Step};

fn world(dir: &std::path::Path) -> Store {
    let cfg = WorldConfig { users: 120, songs: 60, seed: 5, clip_seconds: 1.0, ..Default::default() };
    let files = write_world(&World::generate(&cfg), &dir.join("demo"), &|_, _, _| {}).unwrap();
    let mut store = Store::open(dir).unwrap();
    for (format, path) in [(Format::Catalog, &files.catalog), (Format::ListenBrainz, &files.listenbrainz)] {
        import_file(&mut store, format, path, &ImportOptions::default(), &mut |_, _| {}).unwrap();
    }
    encore_train::text::ingest(&mut store, std::slice::from_ref(&files.articles)).unwrap();
    let (ok, failed) =
        encore_train::audio::analyze_paths(&mut store, std::slice::from_ref(&files.audio_dir), quiet()).unwrap();
    assert_eq!((ok.len(), failed.len()), (60, 0));
    store
}

#[test]
fn train_all_publishes_one_release_and_reports_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let store = world(dir.path());
    let steps: Mutex<Vec<(String, u64, u64)>> = Mutex::new(Vec::new());
    let record = |s: Step<'_>| steps.lock().unwrap().push((s.stage.to_string(), s.done, s.total));
    let settings = ReleaseSettings { audio_epochs: 2, ..ReleaseSettings::default() };
    let r = train_all(&store, &settings, &record).unwrap();

    assert_eq!(r.cf.config.factors, 64);
    assert!(r.cf.metrics.final_loss.is_finite());
    assert!(r.text.as_ref().is_some_and(|t| t.terms > 0), "the articles give the text model terms");
    assert!(r.audio.network.is_some(), "60 analysed songs train the network");
    assert_eq!(r.audio.embedded_songs, 60);
    for dir in [Some(&r.manifest.cf), r.manifest.text.as_ref(), r.manifest.audio.as_ref(), r.manifest.fusion.as_ref()] {
        let dir = dir.expect("every model is in the release");
        assert!(std::path::Path::new(dir).is_dir(), "{dir}");
    }
    let steps = steps.into_inner().unwrap();
    for stage in ["ALS iterations", "audio network epochs", "spectrograms", "fitting the fusion weights"] {
        let last = steps.iter().rfind(|s| s.0 == stage).unwrap_or_else(|| panic!("no {stage:?} in {steps:?}"));
        assert_eq!(last.1, last.2, "{stage} ends done");
    }
    let als = steps.iter().filter(|s| s.0 == "ALS iterations").count();
    assert!(als >= 15, "one step per iteration at least: {als}");

    // A second release with the same settings gives the same CF model.
    let again = train_all(&store, &ReleaseSettings { audio_network: false, ..settings }, quiet()).unwrap();
    assert_eq!(again.cf.metrics.final_loss, r.cf.metrics.final_loss);
    assert!(again.audio.network.is_none());
}

#[test]
fn eval_measures_cf_above_the_random_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let store = world(dir.path());
    let settings =
        EvalSettings { models: vec![ModelName::Cf, ModelName::Popular, ModelName::Random], ..EvalSettings::default() };
    let r = encore_train::experiments::eval(&store, &settings, quiet()).unwrap();
    let names: Vec<&str> = r.results.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["cf", "popular", "random"]);
    let ndcg = |i: usize| r.results[i].metrics.ndcg;
    assert!(ndcg(0) > ndcg(2), "cf {} vs random {}", ndcg(0), ndcg(2));
    assert!(ndcg(1) > ndcg(2), "popular {} vs random {}", ndcg(1), ndcg(2));
    assert!(r.test_pairs > 0 && r.train_pairs > r.test_pairs);
}
