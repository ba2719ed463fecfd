//! Fuzzing on stable Rust (proptest, no nightly `cargo fuzz`): every import
//! format over mutated fixtures (bytes flipped, cut, repeated, spliced from
//! another format), over gzip streams cut short, and over plain noise. The
//! parse may fail with an I/O error but must never panic, must keep its
//! ordinals increasing, and its reasons short.
//!
//! `ENCORE_FUZZ_CASES` sets the cases per target: a few hundred in the
//! default test run, many more from `bench/fuzz.sh`.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use encore_ingest::{Format, Item, Parsed};
use proptest::prelude::*;

const FORMATS: [&str; 8] =
    ["lastfm-1k", "lastfm-360k", "msd-triplets", "listenbrainz", "spotify-history", "csv", "catalog", "scrobbler-log"];

fn cases() -> u32 {
    std::env::var("ENCORE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

fn fixtures() -> Vec<Vec<u8>> {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../fixtures/listens");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).unwrap().flatten() {
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let bytes = std::fs::read(f.path()).unwrap();
            // Compressed fixtures are fuzzed as gzip below.
            if !bytes.starts_with(&[0x1f, 0x8b]) {
                out.push(bytes);
            }
        }
    }
    out.sort();
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Cut(usize),
    Repeat(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"[{".to_vec()),
        Just(b"}]".to_vec()),
        Just(b"\\".to_vec()),
        Just(vec![0xff, 0xfe]),
        Just(vec![0u8; 64]),
        Just("坂本龍一 &amp;".as_bytes().to_vec()),
        Just(b"-9223372036854775808".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), special).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 0usize..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), 1usize..32, 1usize..50).prop_map(|(p, n, k)| Mutation::Repeat(p, n, k)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(p, x) => {
                if !b.is_empty() {
                    b[p % len] ^= x;
                }
            }
            Mutation::Insert(p, x) => {
                let at = p % (b.len() + 1);
                b.splice(at..at, x.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let at = p % len;
                let end = (at + n).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            Mutation::Cut(p) => b.truncate(p % len),
            Mutation::Repeat(p, n, k) => {
                let at = p % len;
                let end = (at + n).min(b.len());
                if at < end {
                    let piece = b[at..end].to_vec();
                    for _ in 0..*k {
                        b.splice(at..at, piece.iter().copied());
                    }
                }
            }
        }
    }
    b
}

/// Parses `input` as every format and checks what must hold for any input.
fn check(input: impl Fn() -> Box<dyn std::io::BufRead + Send>) -> Result<(), TestCaseError> {
    for name in FORMATS {
        let format: Format = name.parse().unwrap();
        let mut items: Vec<Item> = Vec::new();
        let _ = format.parse(input(), &Default::default(), 0, &mut |item| {
            items.push(item);
            true
        });
        let mut last = 0;
        for it in &items {
            prop_assert!(it.ordinal > last, "{name}: ordinal {} after {last}", it.ordinal);
            last = it.ordinal;
            prop_assert!(it.line >= 1, "{name}: line 0");
            if let Parsed::Malformed(reason) = &it.parsed {
                prop_assert!(reason.len() <= 400, "{name}: a reason of {} bytes", reason.len());
            }
        }
        // Resuming after any row reads the rest, not the rows before it.
        if let Some(mid) = items.get(items.len() / 2) {
            let mut rest = Vec::new();
            let _ = format.parse(input(), &Default::default(), mid.ordinal, &mut |item| {
                rest.push(item.ordinal);
                true
            });
            prop_assert!(rest.iter().all(|&o| o > mid.ordinal), "{name}: resume yielded an earlier row");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        splice in any::<prop::sample::Index>(),
        muts in proptest::collection::vec(mutation(), 0..8),
        spliced in any::<bool>(),
    ) {
        let all = fixtures();
        let mut bytes = all[pick.index(all.len())].clone();
        if spliced {
            let other = &all[splice.index(all.len())];
            bytes.extend_from_slice(&other[..other.len() / 2]);
        }
        let bytes = apply(bytes, &muts);
        check(|| Box::new(Cursor::new(bytes.clone())))?;
    }

    #[test]
    fn cut_gzip_streams_never_panic(
        pick in any::<prop::sample::Index>(),
        muts in proptest::collection::vec(mutation(), 0..4),
        keep in 0.0f64..1.0,
    ) {
        let all = fixtures();
        let plain = apply(all[pick.index(all.len())].clone(), &muts);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&plain).unwrap();
        let mut gz = enc.finish().unwrap();
        gz.truncate((gz.len() as f64 * keep) as usize);
        check(|| Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(Cursor::new(gz.clone())))))?;
    }

    #[test]
    fn noise_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(|| Box::new(Cursor::new(bytes.clone())))?;
    }
}
