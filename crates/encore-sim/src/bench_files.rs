//! Large synthetic inputs in real formats, for ingestion benchmarks.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Zipf};

/// Counts of a generated file.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct GeneratedFile {
    /// Lines written.
    pub rows: u64,
    /// Of which malformed on purpose.
    pub malformed: u64,
}

fn uuid(tag: u64, i: u64) -> String {
    let mut x = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ tag;
    let mut next = || {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// Writes a file shaped like the Last.fm 1K-user dataset: `users` users,
/// about `rows` listens sorted by user and newest first, `artists` artists
/// (the real file has ~170k) with Zipf popularity, up to 60 tracks each, 12 % of rows without a track id,
/// some artist names with diacritics, and one malformed row in 100,000
/// (missing fields or a broken timestamp), as the real file has.
pub fn write_lastfm_1k(
    out: &mut impl Write,
    rows: u64,
    users: u32,
    artists: u64,
    seed: u64,
) -> io::Result<GeneratedFile> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_artists = artists.max(1);
    let artist_zipf = Zipf::new(n_artists as f64, 1.05).expect("valid zipf");
    let track_zipf = Zipf::new(60.0, 1.1).expect("valid zipf");
    let activity = LogNormal::new(0.0, 0.7).expect("valid lognormal");
    let weights: Vec<f64> = (0..users).map(|_| activity.sample(&mut rng)).collect();
    let total: f64 = weights.iter().sum();
    let mut g = GeneratedFile::default();
    let mut line = String::with_capacity(256);
    for (u, w) in weights.iter().enumerate() {
        let n = if u as u32 == users - 1 {
            rows.saturating_sub(g.rows)
        } else {
            ((w / total) * rows as f64).round() as u64
        };
        let mut ts: i64 = 1_241_478_537 - rng.random_range(0..86_400 * 30);
        for _ in 0..n {
            if g.rows >= rows {
                break;
            }
            let a = artist_zipf.sample(&mut rng) as u64 - 1;
            let t = track_zipf.sample(&mut rng) as u64 - 1;
            ts -= rng.random_range(120..600);
            let when = chrono::DateTime::from_timestamp(ts, 0).expect("in range").format("%Y-%m-%dT%H:%M:%SZ");
            line.clear();
            let artist_name = if a % 50 == 7 { format!("Björn Årtist {a}") } else { format!("Artist {a}") };
            let track_id = if (a * 61 + t) % 8 == 3 { String::new() } else { uuid(2, a * 64 + t) };
            use std::fmt::Write as _;
            let _ =
                writeln!(line, "user_{:06}\t{when}\t{}\t{artist_name}\t{track_id}\tSong {t} of {a}", u + 1, uuid(1, a));
            if rng.random_range(0..100_000) == 0 {
                g.malformed += 1;
                line = if rng.random::<bool>() {
                    format!("user_{:06}\t{when}\t{}\n", u + 1, uuid(1, a))
                } else {
                    line.replacen(&when.to_string(), "2009-13-45T99:00:00Z", 1)
                };
            }
            out.write_all(line.as_bytes())?;
            g.rows += 1;
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_asked_rows_in_lastfm_shape() {
        let mut buf = Vec::new();
        let g = write_lastfm_1k(&mut buf, 5_000, 7, 170_000, 1).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(g.rows, 5_000);
        assert_eq!(text.lines().count(), 5_000);
        let good = text.lines().filter(|l| l.split('\t').count() == 6).count() as u64;
        assert!(good >= 5_000 - g.malformed);
        assert!(text.lines().next().unwrap().starts_with("user_000001\t20"));
    }
}
