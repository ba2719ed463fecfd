//! Generic CSV: `user,item[,artist][,count][,timestamp]` with a header.
//!
//! Column names are matched case-insensitively, with the usual aliases
//! ([`USER`], [`ITEM`], …). `item` is a MusicBrainz recording id, a Spotify
//! track URI or URL, a song title when an `artist` column is given, or else
//! an opaque id. A row with a `timestamp` (Unix seconds, milliseconds, or
//! RFC 3339) is one listen event, and its `count`, if any, must be 1; a row
//! without one is an aggregate play count (`count`, default 1).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use encore_types::{ArtistRef, Record, TrackRef};

use super::{mbid, rfc3339, spotify_uri, utf8, Item, ParseOptions, Parsed, MAX_ROW};

pub(super) const USER: &[&str] = &["user", "user_id", "userid", "user_name", "username"];
pub(super) const ITEM: &[&str] = &["item", "item_id", "song", "song_id", "track", "track_id", "track_name", "title"];
const ARTIST: &[&str] = &["artist", "artist_name", "artistname"];
const COUNT: &[&str] = &["count", "plays", "play_count", "playcount"];
const TIME: &[&str] = &["timestamp", "ts", "time", "listened_at", "last_played", "lastplayed", "last_played_at"];

pub(super) fn find(cols: &[&str], names: &[&str]) -> Option<usize> {
    cols.iter().position(|c| names.contains(c))
}

pub(super) fn parse(
    input: Box<dyn BufRead + Send>,
    skip: u64,
    emit: &mut dyn FnMut(Item) -> bool,
    opts: &ParseOptions,
) -> io::Result<()> {
    let capped = Capped::new(input, MAX_ROW);
    let over_long = capped.over_long.clone();
    // Records end at '\n' only (a "\r\n" leaves a '\r' that trimming drops):
    // with the csv crate's default, a bare '\r' would start a second record
    // on the same line, and the line is the ordinal a resume skips by.
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(capped);
    let mut rec = csv::ByteRecord::new();
    // True (once) when the record starting at `line` was cut at MAX_ROW.
    let cut = |line: u64| -> bool {
        let mut q = over_long.borrow_mut();
        while q.front().is_some_and(|&l| l < line) {
            q.pop_front();
        }
        q.front() == Some(&line) && q.pop_front().is_some()
    };
    let header = match rdr.read_byte_record(&mut rec) {
        Ok(false) => return Ok(()),
        Ok(true) if cut(1) => {
            if skip < 1 {
                let reason = format!("header longer than {MAX_ROW} bytes");
                emit(Item { ordinal: 1, line: 1, parsed: Parsed::Malformed(reason) });
            }
            return Ok(());
        }
        Ok(true) => rec
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect::<Vec<_>>(),
        Err(e) => return Err(to_io(e)),
    };
    let cols: Vec<&str> = header.iter().map(String::as_str).collect();
    let (Some(user_col), Some(item_col)) = (find(&cols, USER), find(&cols, ITEM)) else {
        let reason = format!("header {:?} has no user and item columns", header.join(","));
        if skip < 1 {
            emit(Item { ordinal: 1, line: 1, parsed: Parsed::Malformed(reason) });
        }
        return Ok(());
    };
    let artist_col = find(&cols, ARTIST);
    let count_col = find(&cols, COUNT);
    let time_col = find(&cols, TIME);
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                // A CSV syntax error (e.g. an unterminated quote) is a row
                // error when it has a position; otherwise it is I/O.
                let Some(pos) = e.position().cloned() else { return Err(to_io(e)) };
                if pos.line() > skip
                    && !emit(Item { ordinal: pos.line(), line: pos.line(), parsed: Parsed::Malformed(e.to_string()) })
                {
                    return Ok(());
                }
                continue;
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        if cut(line) {
            if line > skip {
                let reason = format!("row longer than {MAX_ROW} bytes: skipped unread");
                if !emit(Item { ordinal: line, line, parsed: Parsed::Malformed(reason) }) {
                    return Ok(());
                }
            }
            continue;
        }
        if line <= skip || rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let get = |c: Option<usize>| -> Result<&str, String> {
            match c.and_then(|c| rec.get(c)) {
                Some(b) => utf8(b).map(str::trim),
                None => Ok(""),
            }
        };
        let parsed = (|| -> Result<Parsed, String> {
            if rec.len() != header.len() {
                return Err(format!("expected {} fields, got {}", header.len(), rec.len()));
            }
            let user = match &opts.user {
                Some(u) => u.clone(),
                None => Some(get(Some(user_col))?).filter(|u| !u.is_empty()).ok_or("empty user")?.to_string(),
            };
            let item = get(Some(item_col))?;
            if item.is_empty() {
                return Err("empty item".into());
            }
            let artist = get(artist_col)?;
            let count = match get(count_col)? {
                "" => None,
                c => Some(c.parse::<u32>().map_err(|_| format!("invalid count {c:?}"))?),
            };
            let mut track =
                TrackRef { artist: ArtistRef { name: artist.to_string(), mbid: None }, ..Default::default() };
            if let Some(uri) = spotify_uri(item) {
                track.spotify_uri = Some(uri);
            } else if let Ok(Some(m)) = mbid(item) {
                track.mbid = Some(m);
            } else if !artist.is_empty() {
                track.title = item.to_string();
            } else {
                track.ext_key = Some(format!("csv:{item}"));
            }
            if track.title.is_empty() && !artist.is_empty() && track.ext_key.is_none() {
                track.title = item.to_string();
            }
            match get(time_col)? {
                "" => match count {
                    Some(0) => Ok(Parsed::Ignored("zero plays")),
                    c => {
                        Ok(Parsed::Record(Record::SongCount { user, track, plays: c.unwrap_or(1), last_played: None }))
                    }
                },
                t => {
                    let ts = match t.parse::<i64>() {
                        Ok(n) if n > 100_000_000_000 => n / 1000,
                        Ok(n) => n,
                        Err(_) => rfc3339(t)?,
                    };
                    match count {
                        // One timed row is one listen …
                        None | Some(1) => {
                            Ok(Parsed::Record(Record::Listen { user, ts, track, ms_played: None, skipped: None }))
                        }
                        Some(0) => Ok(Parsed::Ignored("zero plays")),
                        // … a count with a time is a play count and its
                        // last play, as music-library exports write them.
                        Some(c) => {
                            Ok(Parsed::Record(Record::SongCount { user, track, plays: c, last_played: Some(ts) }))
                        }
                    }
                }
            }
        })()
        .unwrap_or_else(Parsed::Malformed);
        if !emit(Item { ordinal: line, line, parsed }) {
            return Ok(());
        }
    }
}

fn to_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Passes CSV bytes through, but never a record over `cap` bytes: once a
/// record (quoted line breaks included) grows past it, the quote is closed,
/// the record ended, the rest of its physical line dropped, and the line
/// the record started on noted in `over_long`. The csv crate would
/// otherwise grow one record to the size of the input (1 GiB of NUL bytes,
/// or an unterminated quote). Line numbers stay those of the input.
struct Capped<R> {
    inner: R,
    cap: usize,
    in_quote: bool,
    record_len: usize,
    line: u64,
    record_line: u64,
    dropping: bool,
    pending: &'static [u8],
    over_long: Rc<RefCell<VecDeque<u64>>>,
}

impl<R: BufRead> Capped<R> {
    fn new(inner: R, cap: usize) -> Capped<R> {
        Capped {
            inner,
            cap,
            in_quote: false,
            record_len: 0,
            line: 1,
            record_line: 1,
            dropping: false,
            pending: b"",
            over_long: Rc::default(),
        }
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(out.len());
                out[..n].copy_from_slice(&self.pending[..n]);
                self.pending = &self.pending[n..];
                return Ok(n);
            }
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() || out.is_empty() {
                return Ok(0);
            }
            if self.dropping {
                // The record was already ended; its line break only
                // brings the line count up to the input's.
                match memchr::memchr(b'\n', avail) {
                    Some(i) => {
                        self.inner.consume(i + 1);
                        self.dropping = false;
                        self.in_quote = false;
                        self.line += 1;
                        self.record_len = 0;
                        self.record_line = self.line;
                    }
                    None => {
                        let n = avail.len();
                        self.inner.consume(n);
                    }
                }
                continue;
            }
            let mut written = 0;
            for &b in avail.iter().take(out.len()) {
                out[written] = b;
                written += 1;
                self.record_len += 1;
                match b {
                    b'"' => self.in_quote = !self.in_quote,
                    b'\n' => {
                        self.line += 1;
                        if !self.in_quote {
                            self.record_len = 0;
                            self.record_line = self.line;
                        }
                    }
                    _ => {}
                }
                if self.record_len > self.cap {
                    self.over_long.borrow_mut().push_back(self.record_line);
                    self.dropping = true;
                    self.pending = if self.in_quote { b"\"\n" } else { b"\n" };
                    break;
                }
            }
            self.inner.consume(written);
            return Ok(written);
        }
    }
}
