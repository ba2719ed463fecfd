//! Playlists as players read and write them: M3U8 (extended M3U), XSPF
//! and JSPF (XSPF in JSON, ListenBrainz's format). Read into entries to
//! match against the catalog; written from Encore's lists for a player to
//! open.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{EngineError, Result};

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
pub fn read(path: &Path) -> Result<Vec<PlaylistEntry>> {
    let bad = |reason: String| EngineError::Playlist { path: path.to_path_buf(), reason };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(bad(format!("larger than {} MiB", MAX_BYTES >> 20)));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let entries = match ext.as_str() {
        "jspf" | "json" => parse_jspf(&text).map_err(|e| bad(e.to_string()))?,
        "m3u" | "m3u8" => parse_m3u8(&text),
        _ if text.trim_start().starts_with('{') => parse_jspf(&text).map_err(|e| bad(e.to_string()))?,
        _ => parse_m3u8(&text),
    };
    if entries.is_empty() {
        return Err(bad("no tracks".into()));
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
pub fn parse_jspf(text: &str) -> Result<Vec<PlaylistEntry>> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| EngineError::BadRequest(format!("not JSON (JSPF expected): {e}")))?;
    let tracks = v
        .get("playlist")
        .and_then(|p| p.get("track"))
        .and_then(|t| t.as_array())
        .ok_or_else(|| EngineError::BadRequest("no playlist.track array (JSPF expected)".into()))?;
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

/// A playlist file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistFormat {
    /// Extended M3U, UTF-8: file paths (relative to a library root).
    M3u8,
    /// XSPF (XML).
    Xspf,
    /// JSPF (XSPF as JSON, as ListenBrainz writes it).
    Jspf,
}

impl PlaylistFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            PlaylistFormat::M3u8 => "m3u8",
            PlaylistFormat::Xspf => "xspf",
            PlaylistFormat::Jspf => "jspf",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            PlaylistFormat::M3u8 => "audio/x-mpegurl; charset=utf-8",
            PlaylistFormat::Xspf => "application/xspf+xml; charset=utf-8",
            PlaylistFormat::Jspf => "application/jspf+json; charset=utf-8",
        }
    }
}

impl FromStr for PlaylistFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "m3u8" | "m3u" => Ok(PlaylistFormat::M3u8),
            "xspf" => Ok(PlaylistFormat::Xspf),
            "jspf" => Ok(PlaylistFormat::Jspf),
            other => Err(format!("playlist format must be m3u8, xspf or jspf, not {other:?}")),
        }
    }
}

/// One song as a playlist names it: the store's row.
pub use encore_store::PlaylistRow as PlaylistTrack;

impl crate::Engine {
    /// The given songs (store ids) as playlist tracks, in order.
    pub fn playlist_tracks(&self, ids: &[i64]) -> crate::Result<Vec<PlaylistTrack>> {
        self.with_store(|s| Ok(s.playlist_rows(ids)?))
    }
}

/// A written playlist and the songs it had to leave out (M3U8 lists files
/// only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file's text.
    pub text: String,
    /// Songs left out for want of a file.
    pub left_out: usize,
}

/// `path` relative to `root` when inside it (else as it is).
fn relative(path: &str, root: Option<&Path>) -> String {
    let p = Path::new(path);
    match root.and_then(|r| p.strip_prefix(r).ok()) {
        Some(rel) => rel.to_string_lossy().into_owned(),
        None => path.to_string(),
    }
}

/// `file://` URL of an absolute path (percent-encoding what a URL cannot
/// hold).
fn file_url(path: &str) -> String {
    let mut out = String::from("file://");
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|&c| c == '\t' || c == '\n' || c == '\r' || c >= ' ')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Writes `tracks` as a playlist called `title`. M3U8 gives paths relative
/// to `library_root` (what Navidrome and most players import) and leaves
/// out songs without a file; XSPF and JSPF list every song, by file URL
/// where there is one and by MusicBrainz recording URL where known.
pub fn write(format: PlaylistFormat, title: &str, tracks: &[PlaylistTrack], library_root: Option<&Path>) -> Written {
    let name = |t: &PlaylistTrack| match &t.artist {
        Some(a) => format!("{a} - {}", t.title),
        None => t.title.clone(),
    };
    let mbid_url = |t: &PlaylistTrack| t.mbid.as_ref().map(|m| format!("https://musicbrainz.org/recording/{m}"));
    match format {
        PlaylistFormat::M3u8 => {
            let mut text = format!("#EXTM3U\n#PLAYLIST:{}\n", title.replace(['\n', '\r'], " "));
            let mut left_out = 0;
            for t in tracks {
                let Some(p) = &t.path else {
                    left_out += 1;
                    continue;
                };
                let secs = t.duration_ms.map_or(-1, |ms| (ms + 500) / 1000);
                text.push_str(&format!(
                    "#EXTINF:{secs},{}\n{}\n",
                    name(t).replace(['\n', '\r'], " "),
                    relative(p, library_root)
                ));
            }
            Written { text, left_out }
        }
        PlaylistFormat::Xspf => {
            let mut text = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">\n  <title>{}</title>\n  <creator>Encore</creator>\n  <trackList>\n",
                xml(title)
            );
            for t in tracks {
                text.push_str("    <track>\n");
                if let Some(p) = &t.path {
                    text.push_str(&format!("      <location>{}</location>\n", xml(&file_url(p))));
                }
                if let Some(u) = mbid_url(t) {
                    text.push_str(&format!("      <identifier>{}</identifier>\n", xml(&u)));
                }
                text.push_str(&format!("      <title>{}</title>\n", xml(&t.title)));
                if let Some(a) = &t.artist {
                    text.push_str(&format!("      <creator>{}</creator>\n", xml(a)));
                }
                if let Some(a) = &t.album {
                    text.push_str(&format!("      <album>{}</album>\n", xml(a)));
                }
                if let Some(d) = t.duration_ms {
                    text.push_str(&format!("      <duration>{d}</duration>\n"));
                }
                text.push_str("    </track>\n");
            }
            text.push_str("  </trackList>\n</playlist>\n");
            Written { text, left_out: 0 }
        }
        PlaylistFormat::Jspf => {
            let track: Vec<serde_json::Value> = tracks
                .iter()
                .map(|t| {
                    let mut v = serde_json::json!({ "title": t.title });
                    if let Some(a) = &t.artist {
                        v["creator"] = a.clone().into();
                    }
                    if let Some(a) = &t.album {
                        v["album"] = a.clone().into();
                    }
                    if let Some(d) = t.duration_ms {
                        v["duration"] = d.into();
                    }
                    if let Some(u) = mbid_url(t) {
                        v["identifier"] = serde_json::json!([u]);
                    }
                    if let Some(p) = &t.path {
                        v["location"] = serde_json::json!([file_url(p)]);
                    }
                    v
                })
                .collect();
            let doc = serde_json::json!({ "playlist": { "title": title, "creator": "Encore", "track": track } });
            let mut text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
            text.push('\n');
            Written { text, left_out: 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracks() -> Vec<PlaylistTrack> {
        vec![
            PlaylistTrack {
                id: 1,
                title: "Jóga".into(),
                artist: Some("Björk".into()),
                album: Some("Homogenic".into()),
                duration_ms: Some(305_400),
                path: Some("/music/Björk/Homogenic/03 Jóga.flac".into()),
                mbid: Some("0b7b6f4e-2b41-4b53-9c1e-3d6f0b8a9c11".into()),
            },
            PlaylistTrack { title: "No <file> & co".into(), artist: None, ..Default::default() },
        ]
    }

    #[test]
    fn written_playlists_read_back() {
        let m = write(PlaylistFormat::M3u8, "Discover", &tracks(), Some(Path::new("/music")));
        assert_eq!(m.left_out, 1);
        let back = parse_m3u8(&m.text);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].location.as_deref(), Some("Björk/Homogenic/03 Jóga.flac"));
        assert_eq!((back[0].artist.as_deref(), back[0].title.as_deref()), (Some("Björk"), Some("Jóga")));
        assert!(m.text.contains("#EXTINF:305,"));

        let j = write(PlaylistFormat::Jspf, "Discover", &tracks(), None);
        let back = parse_jspf(&j.text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].mbid.as_deref(), Some("0b7b6f4e-2b41-4b53-9c1e-3d6f0b8a9c11"));
        assert_eq!(back[0].location.as_deref(), Some("file:///music/Bj%C3%B6rk/Homogenic/03%20J%C3%B3ga.flac"));
        assert_eq!(back[1].title.as_deref(), Some("No <file> & co"));

        let x = write(PlaylistFormat::Xspf, "A & B", &tracks(), None);
        assert!(x.text.contains("<title>A &amp; B</title>"));
        assert!(x.text.contains("<title>No &lt;file&gt; &amp; co</title>"));
        assert_eq!(x.text.matches("<track>").count(), 2);
        assert!("M3U".parse::<PlaylistFormat>().is_ok() && "wav".parse::<PlaylistFormat>().is_err());
    }

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
