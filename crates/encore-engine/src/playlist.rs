//! Playlists as players write them — M3U8 (extended M3U) and JSPF (XSPF
//! in JSON, ListenBrainz's format) — read into entries to match against the
//! catalog.

use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// One playlist entry: whatever the file says about a track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistEntry {
    /// Artist name.
    pub artist: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// File path or URL.
    pub location: Option<String>,
    /// MusicBrainz recording id.
    pub mbid: Option<String>,
    /// Line (M3U8) or track number (JSPF), from 1, for messages.
    pub line: usize,
}

/// Largest playlist file read.
const MAX_BYTES: u64 = 16 << 20;

/// Reads an M3U8 (`.m3u`, `.m3u8`) or JSPF (`.jspf`, `.json`) playlist.
pub fn read(path: &Path) -> anyhow::Result<Vec<PlaylistEntry>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading playlist {}", path.display()))?;
    if !meta.is_file() {
        bail!("playlist {} is not a regular file", path.display());
    }
    if meta.len() > MAX_BYTES {
        bail!("playlist {} is larger than {} MiB", path.display(), MAX_BYTES >> 20);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading playlist {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let entries = match ext.as_str() {
        "jspf" | "json" => parse_jspf(&text).with_context(|| format!("playlist {}", path.display()))?,
        "m3u" | "m3u8" => parse_m3u8(&text),
        _ if text.trim_start().starts_with('{') => {
            parse_jspf(&text).with_context(|| format!("playlist {}", path.display()))?
        }
        _ => parse_m3u8(&text),
    };
    if entries.is_empty() {
        bail!("playlist {} has no tracks", path.display());
    }
    Ok(entries)
}

/// Parses extended M3U: `#EXTINF:<seconds>,<artist> - <title>` before each
/// location line; plain M3U (locations only) too.
pub fn parse_m3u8(text: &str) -> Vec<PlaylistEntry> {
    let mut out = Vec::new();
    let mut pending: Option<(Option<String>, Option<String>)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        if let Some(info) = line.strip_prefix("#EXTINF:") {
            let name = info.split_once(',').map_or("", |(_, n)| n).trim();
            pending = Some(match name.split_once(" - ") {
                Some((a, t)) => (Some(a.trim().to_string()), Some(t.trim().to_string())),
                None if !name.is_empty() => (None, Some(name.to_string())),
                None => (None, None),
            });
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (artist, title) = pending.take().unwrap_or((None, None));
        out.push(PlaylistEntry { artist, title, location: Some(line.to_string()), mbid: None, line: i + 1 });
    }
    out
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Parses JSPF: `{"playlist": {"track": [{"creator", "title",
/// "identifier", "location"}]}}`; a MusicBrainz recording URL in
/// `identifier` gives the id.
pub fn parse_jspf(text: &str) -> anyhow::Result<Vec<PlaylistEntry>> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON (JSPF expected)")?;
    let tracks = v
        .get("playlist")
        .and_then(|p| p.get("track"))
        .and_then(|t| t.as_array())
        .context("no playlist.track array (JSPF expected)")?;
    Ok(tracks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let s = |k: &str| t.get(k).and_then(|x| x.as_str()).map(|x| x.trim().to_string()).filter(|x| !x.is_empty());
            let ids = t.get("identifier").map(strings).unwrap_or_default();
            let mbid = ids.iter().find_map(|u| {
                let tail = u.trim_end_matches('/').rsplit('/').next()?;
                (u.contains("musicbrainz.org/recording/") && tail.len() == 36).then(|| tail.to_ascii_lowercase())
            });
            PlaylistEntry {
                artist: s("creator"),
                title: s("title"),
                location: t.get("location").map(strings).and_then(|l| l.into_iter().next()),
                mbid,
                line: i + 1,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m3u8_names_and_locations() {
        let e = parse_m3u8(
            "\u{feff}#EXTM3U\n#EXTINF:123,Björk - Jóga\nmusic/Björk/Homogenic/03 Jóga.flac\n\n# comment\nplain.mp3\n",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].artist.as_deref(), Some("Björk"));
        assert_eq!(e[0].title.as_deref(), Some("Jóga"));
        assert_eq!(e[0].location.as_deref(), Some("music/Björk/Homogenic/03 Jóga.flac"));
        assert_eq!(e[0].line, 3);
        assert_eq!((e[1].artist.as_deref(), e[1].location.as_deref()), (None, Some("plain.mp3")));
    }

    #[test]
    fn jspf_with_musicbrainz_identifiers() {
        let e = parse_jspf(
            r#"{"playlist": {"title": "x", "track": [
                {"creator": "Daft Punk", "title": "Digital Love",
                 "identifier": ["https://musicbrainz.org/recording/0B7B6F4E-2B41-4B53-9C1E-3D6F0B8A9C11"]},
                {"title": "Only a title", "location": "file:///m/a.ogg"}]}}"#,
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].mbid.as_deref(), Some("0b7b6f4e-2b41-4b53-9c1e-3d6f0b8a9c11"));
        assert_eq!(e[1].location.as_deref(), Some("file:///m/a.ogg"));
        assert!(parse_jspf("{\"playlist\": {}}").is_err());
        assert!(parse_jspf("not json").is_err());
    }
}
