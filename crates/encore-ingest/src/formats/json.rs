//! The JSON formats: ListenBrainz, Spotify streaming history, catalogs.
//!
//! Each accepts JSON lines or one JSON array. Arrays are split into their
//! elements by a small streaming scanner (strings, escapes and nesting
//! tracked byte by byte) so a 100 MB export never sits in memory as a whole,
//! and a broken element costs that element only.

use std::io::{self, BufRead};

use encore_types::{ArtistRef, CatalogSong, Record, TrackRef};
use serde::Deserialize;
use serde_json::Value;

use super::{for_each_line, mbid, rfc3339, spotify_uri, utf8, Item, ParseOptions, Parsed};

type Row = std::result::Result<Parsed, String>;

/// An element larger than this is reported and skipped.
const MAX_ELEMENT: usize = super::MAX_ROW;

pub(super) fn parse(
    mut input: Box<dyn BufRead + Send>,
    skip: u64,
    emit: &mut dyn FnMut(Item) -> bool,
    row: impl Fn(&[u8]) -> Row,
) -> io::Result<()> {
    // Peek at the first non-blank byte: '[' means one array, else lines.
    let first = loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(p) => break buf[p],
            None => {
                let n = input.fill_buf()?.len();
                input.consume(n);
            }
        }
    };
    if first == b'[' {
        return scan_array(input, skip, emit, row);
    }
    for_each_line(input, skip, emit, |bytes| row(bytes).unwrap_or_else(Parsed::Malformed))
}

/// Splits a top-level JSON array into its elements.
fn scan_array(
    mut input: Box<dyn BufRead + Send>,
    skip: u64,
    emit: &mut dyn FnMut(Item) -> bool,
    row: impl Fn(&[u8]) -> Row,
) -> io::Result<()> {
    let mut line = 1u64;
    let mut opened = false;
    let mut closed = false;
    let mut depth = 0usize; // nesting inside the current element
    let mut in_string = false;
    let mut escape = false;
    let mut elem: Vec<u8> = Vec::new();
    let mut elem_line = 0u64;
    let mut too_big = false;
    let mut ordinal = 0u64;
    let mut in_elem = false;

    let mut finish = |elem: &mut Vec<u8>, elem_line: u64, too_big: &mut bool, ordinal: &mut u64| -> bool {
        *ordinal += 1;
        let parsed = if *too_big {
            Parsed::Malformed(format!("element larger than {MAX_ELEMENT} bytes"))
        } else {
            row(elem).unwrap_or_else(Parsed::Malformed)
        };
        elem.clear();
        *too_big = false;
        *ordinal <= skip || emit(Item { ordinal: *ordinal, line: elem_line, parsed })
    };

    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        for &b in buf {
            if b == b'\n' {
                line += 1;
            }
            if closed {
                continue;
            }
            if !opened {
                if b == b'[' {
                    opened = true;
                }
                continue;
            }
            if !in_elem {
                match b {
                    b']' => closed = true,
                    b',' => {}
                    c if c.is_ascii_whitespace() => {}
                    _ => {
                        in_elem = true;
                        elem_line = line;
                        depth = 0;
                    }
                }
                if !in_elem {
                    continue;
                }
            }
            // Inside an element.
            let mut end_here = false;
            let mut push = true;
            if in_string {
                if escape {
                    escape = false;
                } else if b == b'\\' {
                    escape = true;
                } else if b == b'"' {
                    in_string = false;
                    end_here = depth == 0;
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        end_here = depth == 0;
                    }
                    b',' | b']' if depth == 0 => {
                        // End of a scalar element.
                        push = false;
                        end_here = true;
                        if b == b']' {
                            closed = true;
                        }
                    }
                    _ => {}
                }
            }
            if push {
                if elem.len() < MAX_ELEMENT {
                    elem.push(b);
                } else {
                    too_big = true;
                }
            }
            if end_here {
                in_elem = false;
                if !finish(&mut elem, elem_line, &mut too_big, &mut ordinal) {
                    return Ok(());
                }
            }
        }
        input.consume(n);
    }
    if in_elem {
        ordinal += 1;
        if ordinal > skip {
            let reason = format!("truncated JSON: element starting at line {elem_line} is incomplete");
            emit(Item { ordinal, line: elem_line, parsed: Parsed::Malformed(reason) });
        }
    } else if opened && !closed {
        ordinal += 1;
        if ordinal > skip {
            emit(Item { ordinal, line, parsed: Parsed::Malformed("truncated JSON: the array is not closed".into()) });
        }
    }
    Ok(())
}

fn object(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = utf8(bytes)?;
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err("expected a JSON object".into())
    }
}

fn opt_str(v: &Value, key: &str) -> std::result::Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("{key}: expected a string, got {other}")),
    }
}

fn opt_int(v: &Value, key: &str) -> std::result::Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| format!("{key}: expected an integer, got {n}")),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| format!("{key}: expected an integer, got {s:?}"))
        }
        Some(other) => Err(format!("{key}: expected an integer, got {other}")),
    }
}

fn first_mbid(v: Option<&Value>, key: &str) -> std::result::Result<Option<String>, String> {
    match v.and_then(|v| v.get(key)) {
        Some(Value::Array(a)) => match a.first() {
            Some(Value::String(s)) => mbid(s),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

fn user(v: &Value, key: &str, opts: &ParseOptions) -> std::result::Result<String, String> {
    if let Some(u) = &opts.user {
        return Ok(u.clone());
    }
    opt_str(v, key)?.ok_or_else(|| format!("no {key}; pass --user to name the listener"))
}

/// A ListenBrainz listen.
pub(super) fn listenbrainz(bytes: &[u8], opts: &ParseOptions) -> Row {
    let v = object(bytes)?;
    let ts = opt_int(&v, "listened_at")?.ok_or("no listened_at")?;
    let user = user(&v, "user_name", opts)?;
    let meta = v.get("track_metadata").filter(|m| m.is_object()).ok_or("no track_metadata object")?;
    let info = meta.get("additional_info");
    let mapping = meta.get("mbid_mapping");
    let artist_name = opt_str(meta, "artist_name")?.ok_or("no track_metadata.artist_name")?;
    let title = opt_str(meta, "track_name")?.ok_or("no track_metadata.track_name")?;
    let pick = |key: &str| -> std::result::Result<Option<String>, String> {
        for src in [mapping, info].into_iter().flatten() {
            if let Some(s) = opt_str(src, key)? {
                return mbid(&s);
            }
        }
        Ok(None)
    };
    let artist_mbid = match first_mbid(mapping, "artist_mbids")? {
        Some(m) => Some(m),
        None => first_mbid(info, "artist_mbids")?,
    };
    let spotify = match info.map(|i| opt_str(i, "spotify_id")).transpose()?.flatten() {
        Some(s) => spotify_uri(&s),
        None => None,
    };
    let track = TrackRef {
        artist: ArtistRef { name: artist_name, mbid: artist_mbid },
        title,
        mbid: pick("recording_mbid")?,
        spotify_uri: spotify,
        ext_key: None,
        release: opt_str(meta, "release_name")?,
    };
    Ok(Parsed::Record(Record::Listen { user, ts, track, ms_played: None, skipped: None }))
}

/// A Spotify streaming-history entry, extended or old.
///
/// Skip rule: `skipped: true`, or `reason_end` of `fwdbtn`, marks a skip;
/// `ms_played` is kept, and a play under [`encore_types::SHORT_PLAY_MS`] counts as a skip
/// when the matrix is built. Entries without a track (podcast episodes,
/// audiobooks) are ignored. The event time is the start of the play: the
/// export's end time minus `ms_played`.
pub(super) fn spotify(bytes: &[u8], opts: &ParseOptions) -> Row {
    let v = object(bytes)?;
    if v.get("ts").is_some() {
        let end = rfc3339(&opt_str(&v, "ts")?.ok_or("ts: empty")?)?;
        let ms = opt_int(&v, "ms_played")?.ok_or("no ms_played")?;
        let ms = u32::try_from(ms).map_err(|_| format!("ms_played out of range: {ms}"))?;
        let Some(title) = opt_str(&v, "master_metadata_track_name")? else {
            return Ok(Parsed::Ignored(if opt_str(&v, "episode_name")?.is_some() {
                "podcast episode"
            } else {
                "no track name"
            }));
        };
        let artist = opt_str(&v, "master_metadata_album_artist_name")?.ok_or("no master_metadata_album_artist_name")?;
        let skipped = match v.get("skipped") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        } || opt_str(&v, "reason_end")?.as_deref() == Some("fwdbtn");
        let track = TrackRef {
            artist: ArtistRef { name: artist, mbid: None },
            title,
            spotify_uri: opt_str(&v, "spotify_track_uri")?.and_then(|s| spotify_uri(&s)),
            release: opt_str(&v, "master_metadata_album_album_name")?,
            ..Default::default()
        };
        let user = user(&v, "username", opts)?;
        let ts = end - i64::from(ms / 1000);
        return Ok(Parsed::Record(Record::Listen { user, ts, track, ms_played: Some(ms), skipped: Some(skipped) }));
    }
    if v.get("endTime").is_some() {
        let end_s = opt_str(&v, "endTime")?.ok_or("endTime: empty")?;
        let end = chrono::NaiveDateTime::parse_from_str(&end_s, "%Y-%m-%d %H:%M")
            .map_err(|_| format!("invalid endTime {end_s:?}"))?
            .and_utc()
            .timestamp();
        let ms = opt_int(&v, "msPlayed")?.ok_or("no msPlayed")?;
        let ms = u32::try_from(ms).map_err(|_| format!("msPlayed out of range: {ms}"))?;
        let artist = opt_str(&v, "artistName")?.ok_or("no artistName")?;
        let title = opt_str(&v, "trackName")?.ok_or("no trackName")?;
        let track = TrackRef { artist: ArtistRef { name: artist, mbid: None }, title, ..Default::default() };
        let user = user(&v, "username", opts)?;
        let ts = end - i64::from(ms / 1000);
        return Ok(Parsed::Record(Record::Listen { user, ts, track, ms_played: Some(ms), skipped: None }));
    }
    Err("neither an extended (ts) nor an old (endTime) streaming-history entry".into())
}

#[derive(Deserialize)]
struct CatalogLine {
    artist: String,
    #[serde(default)]
    artist_mbid: Option<String>,
    title: String,
    #[serde(default)]
    mbid: Option<String>,
    #[serde(default)]
    spotify_uri: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    genre: Option<String>,
    #[serde(default)]
    duration_ms: Option<u32>,
    #[serde(default)]
    audio: Option<String>,
    #[serde(default)]
    released: Option<String>,
}

/// A catalog line: `{"artist", "title", "mbid"?, "artist_mbid"?, "spotify_uri"?,
/// "release"?, "genre"?, "duration_ms"?, "audio"?, "released"?}`.
pub(super) fn catalog(bytes: &[u8]) -> Row {
    let c: CatalogLine = serde_json::from_str(utf8(bytes)?).map_err(|e| format!("invalid catalog entry: {e}"))?;
    if c.artist.trim().is_empty() || c.title.trim().is_empty() {
        return Err("empty artist or title".into());
    }
    if let Some(d) = &c.released {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| format!("invalid released date {d:?}"))?;
    }
    Ok(Parsed::Record(Record::Catalog(CatalogSong {
        track: TrackRef {
            artist: ArtistRef {
                name: c.artist.trim().to_string(),
                mbid: mbid(c.artist_mbid.as_deref().unwrap_or(""))?,
            },
            title: c.title.trim().to_string(),
            mbid: mbid(c.mbid.as_deref().unwrap_or(""))?,
            spotify_uri: c.spotify_uri.as_deref().and_then(spotify_uri),
            ext_key: None,
            release: c.release,
        },
        genre: c.genre,
        duration_ms: c.duration_ms,
        audio_path: c.audio,
        released: c.released,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &str, skip: u64) -> Vec<Item> {
        let mut out = Vec::new();
        parse(
            Box::new(io::Cursor::new(data.as_bytes().to_vec())),
            skip,
            &mut |i| {
                out.push(i);
                true
            },
            |b| object(b).map(|v| Parsed::Ignored(if v.get("x").is_some() { "x" } else { "other" })),
        )
        .unwrap();
        out
    }

    #[test]
    fn array_scanner_splits_elements_with_lines() {
        let items = run("[\n  {\"x\": \"a,]}\\\"\"},\n  {\"y\": [1, {\"z\": 2}]}\n,{\"x\":1}]\n", 0);
        assert_eq!(items.len(), 3);
        assert_eq!(items.iter().map(|i| i.line).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(items.iter().map(|i| i.ordinal).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(items[1].parsed, Parsed::Ignored("other"));
        // Resuming after the second element yields only the third.
        let rest = run("[{\"x\":1},{\"x\":2},{\"x\":3}]", 2);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].ordinal, 3);
    }

    #[test]
    fn array_scanner_reports_truncation_and_bad_elements() {
        let items = run("[{\"x\":1}, {\"x\": tru}, {\"x\": \"cut", 0);
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1].parsed, Parsed::Malformed(r) if r.starts_with("invalid JSON")));
        assert!(matches!(&items[2].parsed, Parsed::Malformed(r) if r.contains("incomplete")));
        let items = run("[{\"x\":1},\n", 0);
        assert!(matches!(&items[1].parsed, Parsed::Malformed(r) if r.contains("not closed")));
    }

    #[test]
    fn json_lines_are_also_accepted() {
        let items = run("\u{feff}{\"x\":1}\n\n{\"y\":2}\nnot json\n", 0);
        assert_eq!(items.iter().map(|i| i.line).collect::<Vec<_>>(), vec![1, 3, 4]);
        assert!(matches!(items[2].parsed, Parsed::Malformed(_)));
    }
}
