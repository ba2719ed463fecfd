//! Trains the audio network to predict one-hot genres of the demo world's
//! clips (a sanity check that the network learns from real spectrograms).
//!
//! ```text
//! cnn_genre TRUTH.jsonl [EPOCHS]
//! ```

use encore_audio::{AudioCnn, CnnConfig, Spectrogram};
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let truth = std::fs::read_to_string(&args[1]).expect("truth file");
    let epochs: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(5);
    let rows: Vec<serde_json::Value> = truth.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let genres: Vec<String> = {
        let mut g: Vec<String> = rows.iter().map(|r| r["genre"].as_str().unwrap().to_string()).collect();
        g.sort();
        g.dedup();
        g
    };
    let specs: Vec<Spectrogram> = rows
        .par_iter()
        .map(|r| Spectrogram::of(&encore_audio::decode(r["audio"].as_str().unwrap().as_ref()).unwrap().samples, 30.0))
        .collect();
    let targets: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| {
            let g = genres.iter().position(|g| g == r["genre"].as_str().unwrap()).unwrap();
            (0..genres.len()).map(|i| if i == g { 1.0 } else { 0.0 }).collect()
        })
        .collect();
    let refs: Vec<&Spectrogram> = specs.iter().collect();
    let lr: f64 = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(2e-3);
    let cfg = CnnConfig { epochs, learning_rate: lr, ..Default::default() };
    let (_model, report) = AudioCnn::train(&refs, &targets, &cfg, &|e| eprintln!("{e:?}")).unwrap();
    println!("{}", serde_json::to_string(&report).unwrap());
}
