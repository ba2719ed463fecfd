//! Reading documents: folders of HTML/text, JSON lines, WARC/WET archives.
//!
//! Every reader hands documents to a callback one at a time (memory stays
//! bounded by one document, capped at [`MAX_DOC_BYTES`]) and reports what it
//! could not read as a [`Problem`] with the file and a position; the rest
//! goes on.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use encore_types::Document;
use flate2::read::MultiGzDecoder;
use serde::Serialize;

use crate::html::readable_text;

/// A document longer than this is truncated, with a warning.
pub const MAX_DOC_BYTES: usize = 2 << 20;

/// Something that could not be read (or was cut), and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Line (JSON lines) or byte offset (WARC) or 0 (whole file).
    pub at: u64,
    /// What happened.
    pub reason: String,
}

fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut f = BufReader::new(File::open(path)?);
    let gz = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz { Box::new(BufReader::new(MultiGzDecoder::new(f))) } else { Box::new(f) })
}

fn truncate(text: String, file: &str, at: u64, problems: &mut Vec<Problem>) -> String {
    if text.len() <= MAX_DOC_BYTES {
        return text;
    }
    let mut cut = MAX_DOC_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    problems.push(Problem {
        file: file.into(),
        at,
        reason: format!("document of {} bytes truncated to {cut}", text.len()),
    });
    text[..cut].to_string()
}

/// Reads every document under `path` (a file or a folder, walked
/// recursively): `.html`/`.htm` pages, `.txt`/`.md` files, `.jsonl` (also
/// `.jsonl.gz`) and `.warc`/`.wet` (also `.gz`) archives. Other files are
/// skipped.
pub fn read_path(path: &Path, on_doc: &mut dyn FnMut(Document), problems: &mut Vec<Problem>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                problems.push(Problem { file: path.display().to_string(), at: 0, reason: e.to_string() });
                return;
            }
        };
        entries.sort();
        for p in entries {
            read_path(&p, on_doc, problems);
        }
        return;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let file = path.display().to_string();
    let result = if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        read_jsonl(path, on_doc, problems)
    } else if stem.ends_with(".warc") || stem.ends_with(".wet") {
        read_warc(path, on_doc, problems)
    } else if stem.ends_with(".html") || stem.ends_with(".htm") || stem.ends_with(".txt") || stem.ends_with(".md") {
        read_page(path, stem, on_doc, problems)
    } else {
        return;
    };
    if let Err(e) = result {
        problems.push(Problem { file, at: 0, reason: e.to_string() });
    }
}

fn read_page(
    path: &Path,
    stem: &str,
    on_doc: &mut dyn FnMut(Document),
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let file = path.display().to_string();
    let mut bytes = Vec::new();
    open(path)?.take(8 * MAX_DOC_BYTES as u64).read_to_end(&mut bytes)?;
    let raw = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem {
                file: file.clone(),
                at: e.utf8_error().valid_up_to() as u64,
                reason: "invalid UTF-8; decoded lossily".into(),
            });
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let (title, text) =
        if stem.ends_with(".html") || stem.ends_with(".htm") { readable_text(&raw) } else { (None, raw) };
    let text = truncate(text, &file, 0, problems);
    if text.trim().is_empty() {
        problems.push(Problem { file, at: 0, reason: "no readable text".into() });
        return Ok(());
    }
    on_doc(Document { url: format!("file://{}", path.display()), title, text, published: None });
    Ok(())
}

/// `{"url", "title"?, "text" | "html", "published"?}` per line.
fn read_jsonl(path: &Path, on_doc: &mut dyn FnMut(Document), problems: &mut Vec<Problem>) -> std::io::Result<()> {
    let file = path.display().to_string();
    let mut r = open(path)?;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v: serde_json::Value = match std::str::from_utf8(&buf)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(s).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                problems.push(Problem { file: file.clone(), at: line, reason: format!("invalid JSON line: {e}") });
                continue;
            }
        };
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let Some(url) = s("url") else {
            problems.push(Problem { file: file.clone(), at: line, reason: "no url".into() });
            continue;
        };
        let (title, text) = match (s("text"), s("html")) {
            (Some(t), _) => (s("title"), t),
            (None, Some(h)) => {
                let (t, text) = readable_text(&h);
                (s("title").or(t), text)
            }
            (None, None) => {
                problems.push(Problem { file: file.clone(), at: line, reason: "neither text nor html".into() });
                continue;
            }
        };
        let text = truncate(text, &file, line, problems);
        on_doc(Document { url, title, text, published: s("published") });
    }
}

/// The most of one WARC record's body held in memory; the rest of a larger
/// record is skipped (and reported).
const MAX_RECORD_BYTES: u64 = 8 * MAX_DOC_BYTES as u64;
/// The longest WARC header line read; a longer one ends the archive.
const MAX_HEADER_LINE: u64 = 64 << 10;

/// Reads one line of at most [`MAX_HEADER_LINE`] bytes; `None` when the
/// line is longer.
fn header_line(r: &mut impl BufRead, line: &mut String) -> std::io::Result<Option<usize>> {
    line.clear();
    let n = r.take(MAX_HEADER_LINE).read_line(line)?;
    if n as u64 == MAX_HEADER_LINE && !line.ends_with('\n') {
        Ok(None)
    } else {
        Ok(Some(n))
    }
}

/// WARC (response records with HTML) and WET (conversion records with text)
/// archives, as Common Crawl writes them; a gzip file of many members is
/// read straight through. A record cut short by the end of the file is
/// reported and the archive ends there; of a record over 16 MiB only the
/// first 16 MiB are read (reported), and a header line over 64 KiB ends the
/// archive (reported): memory stays bounded whatever the archive claims.
fn read_warc(path: &Path, on_doc: &mut dyn FnMut(Document), problems: &mut Vec<Problem>) -> std::io::Result<()> {
    let file = path.display().to_string();
    let mut r = open(path)?;
    let mut offset = 0u64;
    let mut line = String::new();
    loop {
        // Skip blank lines between records.
        let Some(n) = header_line(&mut r, &mut line)? else {
            problems.push(Problem { file, at: offset, reason: "line over 64 KiB where a WARC record starts".into() });
            return Ok(());
        };
        if n == 0 {
            return Ok(());
        }
        offset += n as u64;
        if line.trim().is_empty() {
            continue;
        }
        let record_at = offset - n as u64;
        if !line.starts_with("WARC/") {
            problems.push(Problem {
                file,
                at: record_at,
                reason: format!("expected a WARC record, found {:?}", line.trim()),
            });
            return Ok(());
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        loop {
            let Some(n) = header_line(&mut r, &mut line)? else {
                problems.push(Problem { file, at: record_at, reason: "WARC header line over 64 KiB".into() });
                return Ok(());
            };
            offset += n as u64;
            if n == 0 {
                problems.push(Problem { file, at: record_at, reason: "truncated WARC record (headers)".into() });
                return Ok(());
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let h = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let Some(len) = h("content-length").and_then(|v| v.parse::<u64>().ok()) else {
            problems.push(Problem { file, at: record_at, reason: "WARC record without Content-Length".into() });
            return Ok(());
        };
        let mut body = Vec::new();
        let kept = (&mut r).take(len.min(MAX_RECORD_BYTES)).read_to_end(&mut body)? as u64;
        let got = kept + std::io::copy(&mut (&mut r).take(len - kept), &mut std::io::sink())?;
        offset += got;
        if got == len && kept < len {
            problems.push(Problem {
                file: file.clone(),
                at: record_at,
                reason: format!("WARC record of {len} bytes: only the first {kept} read"),
            });
        }
        if got < len {
            problems.push(Problem {
                file,
                at: record_at,
                reason: format!("truncated WARC record: {got} of {len} bytes"),
            });
            return Ok(());
        }
        let kind = h("warc-type").unwrap_or_default();
        let url = h("warc-target-uri").unwrap_or_default();
        let published = h("warc-date");
        let text = String::from_utf8_lossy(&body);
        let doc = match kind.as_str() {
            "conversion" => Some((None, text.into_owned())),
            "response" => {
                // HTTP headers, a blank line, then the payload.
                let payload =
                    text.split_once("\r\n\r\n").or_else(|| text.split_once("\n\n")).map(|(_, b)| b).unwrap_or("");
                let html_like = headers.iter().any(|(k, v)| k == "content-type" && v.contains("http"))
                    || payload.trim_start().starts_with('<');
                html_like.then(|| readable_text(payload))
            }
            _ => None,
        };
        if let Some((title, text)) = doc {
            if !text.trim().is_empty() && !url.is_empty() {
                let text = truncate(text, &file, record_at, problems);
                on_doc(Document { url, title, text, published });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(path: &Path) -> (Vec<Document>, Vec<Problem>) {
        let mut docs = Vec::new();
        let mut problems = Vec::new();
        read_path(path, &mut |d| docs.push(d), &mut problems);
        (docs, problems)
    }

    fn record(kind: &str, url: &str, body: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    }

    #[test]
    fn warc_wet_gzip_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let html = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>Dreamy songs.</p></body></html>";
        let mut archive = record("warcinfo", "", "software: test");
        archive += &record("response", "http://a.example/1", html);
        archive += &record("conversion", "http://a.example/2", "Plain text about a band.");
        let warc = dir.path().join("a.warc.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&warc).unwrap(), flate2::Compression::fast());
        enc.write_all(archive.as_bytes()).unwrap();
        enc.finish().unwrap();
        let (docs, problems) = collect(&warc);
        assert_eq!(docs.len(), 2, "{problems:?}");
        assert_eq!(docs[0].text.trim(), "Dreamy songs.");
        assert_eq!(docs[1].url, "http://a.example/2");
        assert!(problems.is_empty());

        let cut = dir.path().join("cut.wet");
        let full = record("conversion", "http://b.example/", "some text")
            + &record("conversion", "http://c.example/", "more text here");
        std::fs::write(&cut, &full[..full.len() - 12]).unwrap();
        let (docs, problems) = collect(&cut);
        assert_eq!(docs.len(), 1);
        assert!(problems[0].reason.starts_with("truncated WARC record"), "{problems:?}");
    }

    #[test]
    fn huge_warc_records_stay_bounded() {
        // Regression (issue 20): a record claiming 1 GiB was read whole into
        // memory. Here 40 MiB of zeros compress to a small file; the reader
        // keeps 16 MiB, skips the rest and goes on to the next record.
        let dir = tempfile::tempdir().unwrap();
        let warc = dir.path().join("big.warc.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&warc).unwrap(), flate2::Compression::fast());
        let big = 40u64 << 20;
        write!(
            enc,
            "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://big/\r\nContent-Length: {big}\r\n\r\n"
        )
        .unwrap();
        let zeros = vec![b'a'; 1 << 20];
        for _ in 0..40 {
            enc.write_all(&zeros).unwrap();
        }
        enc.write_all(b"\r\n\r\n").unwrap();
        enc.write_all(record("conversion", "http://after/", "Text after the big one.").as_bytes()).unwrap();
        enc.finish().unwrap();
        let (docs, problems) = collect(&warc);
        assert_eq!(docs.iter().map(|d| d.url.as_str()).collect::<Vec<_>>(), vec!["http://big/", "http://after/"]);
        assert!(docs[0].text.len() <= MAX_DOC_BYTES, "{}", docs[0].text.len());
        assert!(problems.iter().any(|p| p.reason.contains("only the first 16777216 read")), "{problems:?}");

        // A header line without an end is refused, not read into memory.
        let long = dir.path().join("long.wet");
        std::fs::write(&long, format!("WARC/1.0\r\nWARC-Type: {}", "x".repeat(100_000))).unwrap();
        let (docs, problems) = collect(&long);
        assert!(docs.is_empty() && problems[0].reason.contains("64 KiB"), "{problems:?}");
    }

    #[test]
    fn jsonl_reports_bad_lines_and_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("docs.jsonl");
        std::fs::write(
            &p,
            "{\"url\":\"u1\",\"text\":\"A sunny record.\"}\nnot json\n{\"url\":\"u2\",\"html\":\"<p>Hazy <b>pop</b></p><script>x()</script>\"}\n{\"text\":\"no url\"}\n",
        )
        .unwrap();
        let (docs, problems) = collect(&p);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].text.trim(), "Hazy pop");
        assert_eq!(problems.iter().map(|p| p.at).collect::<Vec<_>>(), vec![2, 4]);
    }
}
