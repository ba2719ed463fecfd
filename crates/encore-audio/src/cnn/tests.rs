//! Tests of the network: it tells two sounds apart and survives a save and
//! load, the head adds what only the descriptors know, the same seed gives
//! the same model, bad input is refused, windows cover the song.

use super::*;

/// Two kinds of "songs": energy in the low bands or in the high bands,
/// with noise; their targets point in different directions.
fn toy(n: usize, seed: u64) -> (Vec<Spectrogram>, Vec<Vec<f32>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut specs = Vec::new();
    let mut targets = Vec::new();
    for i in 0..n {
        let low = i % 2 == 0;
        let frames = 150 + rng.random_range(0..100);
        let mut data = Vec::with_capacity(frames * CNN_MELS);
        for t in 0..frames {
            for b in 0..CNN_MELS {
                let on = if low { b < 40 } else { b > 80 };
                let pulse = if t % 20 < 3 { 6.0 } else { 0.0 };
                data.push(rng.random_range(-5.0..5.0) + if on { 20.0 + pulse } else { 0.0 });
            }
        }
        specs.push(Spectrogram { frames, data });
        targets.push(if low { vec![1.0, 0.1, 0.0] } else { vec![0.0, 0.1, 1.0] });
    }
    (specs, targets)
}

fn small() -> CnnConfig {
    CnnConfig {
        filters: 8,
        hidden: 8,
        epochs: 20,
        batch_size: 16,
        validation_share: 0.25,
        learning_rate: 4e-3,
        ..Default::default()
    }
}

#[test]
fn learns_to_tell_two_sounds_apart_and_survives_a_round_trip() {
    let (specs, targets) = toy(40, 1);
    let refs: Vec<&Spectrogram> = specs.iter().collect();
    let (model, report) = AudioCnn::train(&refs, &targets, &small(), &|_| {}).unwrap();
    let last = report.losses.last().unwrap().validation.unwrap();
    let baseline = report.baseline_validation.unwrap();
    assert!(last < 0.3 * baseline, "validation loss {last} vs predicting the mean {baseline}");
    assert!(report.losses[0].train > report.losses.last().unwrap().train);

    let (fresh, _) = toy(6, 99);
    let fresh_refs: Vec<&Spectrogram> = fresh.iter().collect();
    let pred = model.predict(&fresh_refs).unwrap();
    for (p, s) in pred.iter().zip(0..) {
        let low = s % 2 == 0;
        assert_eq!(p.vector[0] > p.vector[2], low, "{:?}", p.vector);
        let n: f32 = p.embedding.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4 || n == 0.0);
    }

    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = AudioCnn::load(dir.path()).unwrap();
    assert_eq!(loaded.predict(&fresh_refs).unwrap(), pred);

    // A model saved before batch normalisation is refused with a hint.
    let json = dir.path().join("cnn.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("architecture");
    std::fs::write(&json, serde_json::to_vec(&meta).unwrap()).unwrap();
    let err = AudioCnn::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("architecture 1") && err.contains("encore audio train"), "{err}");
}

fn descriptors(tempo: f32) -> Descriptors {
    crate::vector::tests::d(tempo, 1000.0, "C")
}

/// The toy's sounds, with a third target component that only the
/// descriptors know: up for fast songs, down for slow ones.
#[test]
fn the_head_adds_what_only_the_descriptors_know() {
    let (specs, mut targets) = toy(40, 5);
    let tempos: Vec<f32> = (0..40).map(|i| if (i / 2) % 2 == 0 { 90.0 } else { 150.0 }).collect();
    for (t, &bpm) in targets.iter_mut().zip(&tempos) {
        t[1] = if bpm > 120.0 { 1.0 } else { -1.0 };
    }
    let refs: Vec<&Spectrogram> = specs.iter().collect();
    let descs: Vec<Descriptors> = tempos.iter().map(|&b| descriptors(b)).collect();
    let drefs: Vec<&Descriptors> = descs.iter().collect();
    let (mut model, _) = AudioCnn::train(&refs, &targets, &small(), &|_| {}).unwrap();
    assert!(!model.has_head());
    let report = model.fit_head(&refs, &drefs, &targets).unwrap();
    assert_eq!((report.songs, report.choice.validation_songs), (40, 8));
    assert!(model.has_head());

    let (fresh, _) = toy(8, 77);
    let fresh_refs: Vec<&Spectrogram> = fresh.iter().collect();
    let fresh_tempo = [90.0, 90.0, 150.0, 150.0, 150.0, 90.0, 90.0, 150.0];
    let fresh_desc: Vec<Descriptors> = fresh_tempo.iter().map(|&b| descriptors(b)).collect();
    let with: Vec<Option<&Descriptors>> = fresh_desc.iter().map(Some).collect();
    let pred = model.predict_with(&fresh_refs, &with).unwrap();
    for (i, (p, bpm)) in pred.iter().zip(fresh_tempo).enumerate() {
        assert_eq!(p.vector[1] > 0.0, bpm > 120.0, "{i}: {:?}", p.vector);
        assert_eq!(p.vector[0] > p.vector[2], i % 2 == 0, "{i}: {:?}", p.vector);
    }
    // Without descriptors a song gets the network's own prediction.
    let none = vec![None; fresh.len()];
    assert_eq!(model.predict_with(&fresh_refs, &none).unwrap(), model.predict(&fresh_refs).unwrap());

    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    assert_eq!(AudioCnn::load(dir.path()).unwrap().predict_with(&fresh_refs, &with).unwrap(), pred);

    let err = model.fit_head(&refs[..3], &drefs[..3], &targets[..3]).unwrap_err();
    assert!(err.to_string().contains("at least five songs"), "{err}");
}

#[test]
fn same_seed_same_model() {
    let (specs, targets) = toy(12, 2);
    let refs: Vec<&Spectrogram> = specs.iter().collect();
    let cfg = CnnConfig { epochs: 2, ..small() };
    let (a, ra) = AudioCnn::train(&refs, &targets, &cfg, &|_| {}).unwrap();
    let (b, rb) = AudioCnn::train(&refs, &targets, &cfg, &|_| {}).unwrap();
    assert_eq!(ra.losses, rb.losses);
    assert_eq!(a.predict(&refs[..2]).unwrap(), b.predict(&refs[..2]).unwrap());
}

#[test]
fn refuses_what_it_cannot_train_on() {
    let (specs, _) = toy(3, 3);
    let refs: Vec<&Spectrogram> = specs.iter().collect();
    let err = AudioCnn::train(&refs, &[vec![1.0]], &small(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("need at least two songs"), "{err}");
    let err = AudioCnn::train(&refs, &[vec![1.0], vec![1.0, 2.0], vec![]], &small(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("same, non-zero length"), "{err}");
}

#[test]
fn windows_cover_the_song() {
    let s = Spectrogram { frames: 300, data: vec![0.0; 300 * CNN_MELS] };
    let st = starts(&s);
    assert_eq!(st.first(), Some(&0));
    assert_eq!(st.last().unwrap() + WINDOW, 300);
    assert_eq!(starts(&Spectrogram { frames: 10, data: vec![0.0; 10 * CNN_MELS] }), vec![0]);
}
