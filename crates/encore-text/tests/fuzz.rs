//! Fuzzing on stable Rust (proptest): the HTML, JSON-lines, Markdown and
//! WARC readers over mutated fixtures and noise, and the HTML-to-text
//! reader over generated hostile markup (entities next to multi-byte text,
//! deep unclosed nesting). Reading may report problems but must never
//! panic, and never yield a document over `MAX_DOC_BYTES`.
//!
//! `ENCORE_FUZZ_CASES` sets the cases per target (default 100; more from
//! `bench/fuzz.sh`).

use std::io::Write;
use std::path::PathBuf;

use encore_text::{read_path, readable_text, MAX_DOC_BYTES};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("ENCORE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).map_or(100, |n: u32| (n / 2).max(1))
}

/// Every text fixture, decompressed, with the extension it is read by.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let mut bytes = std::fs::read(&p).unwrap();
            let mut ext = p.extension().map(|e| e.to_string_lossy().to_string()).unwrap_or_default();
            if ext == "gz" {
                let mut plain = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut plain).unwrap();
                bytes = plain;
                ext = name.trim_end_matches(".gz").rsplit('.').next().unwrap_or("").to_string();
            }
            if ["html", "htm", "txt", "md", "jsonl", "warc", "wet"].contains(&ext.as_str()) {
                out.push((ext, bytes));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
            .join("../../fixtures/text"),
        &mut out,
    );
    out
}

fn mutate(mut b: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    const PIECES: [&[u8]; 10] = [
        b"&amp;",
        "坂本龍一 &amp; 細野晴臣".as_bytes(),
        b"<b><i>",
        b"<script>",
        b"\r\n\r\n",
        b"WARC/1.0\r\nContent-Length: 99999999999\r\n\r\n",
        b"\"html\": \"<p>",
        &[0xff, 0xc3],
        b"&#x1F600;&#99999999;&",
        b"<!--",
    ];
    for &(pos, op, x) in edits {
        let at = pos % (b.len() + 1);
        match op % 4 {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= x;
            }
            1 => {
                b.splice(at..at, PIECES[x as usize % PIECES.len()].iter().copied());
            }
            2 => b.truncate(at),
            _ => {
                let end = (at + x as usize).min(b.len());
                b.drain(at..end);
            }
        }
    }
    b
}

fn read_as(ext: &str, bytes: &[u8], gzip: bool) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(if gzip { format!("doc.{ext}.gz") } else { format!("doc.{ext}") });
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap();
    } else {
        std::fs::write(&path, bytes).unwrap();
    }
    let mut problems = Vec::new();
    let mut too_big = None;
    read_path(
        &path,
        &mut |d| {
            if d.text.len() > MAX_DOC_BYTES {
                too_big = Some(d.text.len());
            }
        },
        &mut problems,
    );
    prop_assert!(too_big.is_none(), "a document of {:?} bytes", too_big);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
        as_other in any::<prop::sample::Index>(),
        gzip in any::<bool>(),
    ) {
        let all = fixtures();
        let (ext, bytes) = &all[pick.index(all.len())];
        let bytes = mutate(bytes.clone(), &edits);
        read_as(ext, &bytes, gzip && (ext == "jsonl" || ext.starts_with("w")))?;
        // The same bytes read as another kind of document.
        let other = ["html", "jsonl", "warc", "md"][as_other.index(4)];
        read_as(other, &bytes, false)?;
    }

    #[test]
    fn hostile_markup_never_panics(
        parts in proptest::collection::vec(prop_oneof![
            Just("<b>".to_string()), Just("<i>".to_string()), Just("</b>".to_string()), Just("&amp;".to_string()),
            Just("&#x1F600;".to_string()), Just("&bogus".to_string()), Just("坂本".to_string()), Just("é".to_string()),
            Just("<p>".to_string()), Just("<script>x".to_string()), Just("<!-- ".to_string()), Just(" ".to_string()),
            Just("\n".to_string()), "[a-z&;#<>/ ]{0,6}",
        ], 0..64),
        depth in 0usize..20_000,
    ) {
        let mut html = "<b><i>x ".repeat(depth);
        html.push_str(&parts.concat());
        let (_title, text) = readable_text(&html);
        prop_assert!(text.len() <= html.len() * 4 + 16);
    }

    #[test]
    fn noise_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ext in any::<prop::sample::Index>()) {
        read_as(["html", "jsonl", "warc", "txt"][ext.index(4)], &bytes, false)?;
    }
}
