//! The formats: parsing rows into [`Record`]s, and recognising a format from
//! the first bytes of a file.

mod csv;
mod json;
mod tsv;

use std::io::{self, BufRead};

use encore_types::Record;

use crate::{Error, Result};

/// A format Encore reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Last.fm 1K users: one listen per line, six tab-separated fields.
    Lastfm1k,
    /// Last.fm 360K users: artist-level play counts.
    Lastfm360k,
    /// Million Song Dataset Taste Profile triplets.
    MsdTriplets,
    /// ListenBrainz listens, JSON lines or a JSON array.
    ListenBrainz,
    /// Spotify streaming-history exports (extended and old).
    SpotifyHistory,
    /// Generic CSV with a header.
    Csv,
    /// Catalog JSON lines: songs with metadata, no listens.
    Catalog,
    /// A portable player's `.scrobbler.log` (Rockbox): listens of one
    /// listener, named by `--user`.
    ScrobblerLog,
}

const ALL: [Format; 8] = [
    Format::Lastfm1k,
    Format::Lastfm360k,
    Format::MsdTriplets,
    Format::ListenBrainz,
    Format::SpotifyHistory,
    Format::Csv,
    Format::Catalog,
    Format::ScrobblerLog,
];

/// Options that change how rows become records.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The listener for formats that carry no user name (Spotify exports);
    /// overrides the file's user names when set.
    pub user: Option<String>,
}

/// What one input row turned out to be.
// Nearly every row is a `Record`; boxing it would add an allocation per row
// on the hot path to shrink the rare variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A valid record.
    Record(Record),
    /// A malformed row and why.
    Malformed(String),
    /// A valid row without a music listen (e.g. a podcast episode) and why.
    Ignored(&'static str),
}

/// One input row.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Position in the input's sequence of rows, strictly increasing; the
    /// resume point of an interrupted import.
    pub ordinal: u64,
    /// 1-based line number where the row starts.
    pub line: u64,
    /// The row.
    pub parsed: Parsed,
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| Error::UnknownFormat(s.to_string()))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Lastfm1k => "lastfm-1k",
            Format::Lastfm360k => "lastfm-360k",
            Format::MsdTriplets => "msd-triplets",
            Format::ListenBrainz => "listenbrainz",
            Format::SpotifyHistory => "spotify-history",
            Format::Csv => "csv",
            Format::Catalog => "catalog",
            Format::ScrobblerLog => "scrobbler-log",
        }
    }

    /// All format names.
    pub fn names() -> Vec<&'static str> {
        ALL.iter().map(|f| f.name()).collect()
    }

    /// Parses `input`, calling `emit` for every row whose ordinal is above
    /// `skip`, until the input ends or `emit` returns false. An I/O error
    /// (including a truncated gzip stream) ends the parse with that error;
    /// the rows before it have been emitted.
    pub fn parse(
        self,
        input: Box<dyn BufRead + Send>,
        opts: &ParseOptions,
        skip: u64,
        emit: &mut dyn FnMut(Item) -> bool,
    ) -> io::Result<()> {
        // Reasons quote the input; a 1 MiB field must not become a 4 MiB
        // message (per row, in every summary).
        let emit = &mut |mut item: Item| {
            if let Parsed::Malformed(reason) = &mut item.parsed {
                clip_reason(reason);
            }
            emit(item)
        };
        match self {
            Format::Lastfm1k => tsv::parse(input, skip, emit, |f| tsv::lastfm_1k(f, opts)),
            Format::Lastfm360k => tsv::parse(input, skip, emit, |f| tsv::lastfm_360k(f, opts)),
            Format::MsdTriplets => tsv::parse(input, skip, emit, |f| tsv::msd(f, opts)),
            Format::ListenBrainz => json::parse(input, skip, emit, |v| json::listenbrainz(v, opts)),
            Format::SpotifyHistory => json::parse(input, skip, emit, |v| json::spotify(v, opts)),
            Format::Catalog => json::parse(input, skip, emit, json::catalog),
            Format::Csv => csv::parse(input, skip, emit, opts),
            Format::ScrobblerLog => tsv::parse(input, skip, emit, |f| tsv::scrobbler_log(f, opts)),
        }
    }

    /// Guesses the format of a file from its first bytes (decompressed).
    pub fn detect(sample: &[u8]) -> Option<Format> {
        let text = String::from_utf8_lossy(sample);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with("#AUDIOSCROBBLER/") {
            return Some(Format::ScrobblerLog);
        }
        if text.starts_with('[') || text.starts_with('{') {
            let head: String = text.chars().take(4096).collect();
            return if head.contains("\"listened_at\"") {
                Some(Format::ListenBrainz)
            } else if head.contains("\"ms_played\"") || head.contains("\"msPlayed\"") {
                Some(Format::SpotifyHistory)
            } else if head.contains("\"title\"") && head.contains("\"artist\"") {
                Some(Format::Catalog)
            } else {
                None
            };
        }
        let first = text.lines().find(|l| !l.trim().is_empty())?;
        let fields: Vec<&str> = first.split('\t').collect();
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match fields.len() {
            6 if chrono::DateTime::parse_from_rfc3339(fields[1]).is_ok() => Some(Format::Lastfm1k),
            4 if numeric(fields[3]) => Some(Format::Lastfm360k),
            3 if numeric(fields[2]) => Some(Format::MsdTriplets),
            1 if first.contains(',') => {
                let lower = first.to_ascii_lowercase();
                let cols: Vec<&str> = lower.split(',').map(str::trim).collect();
                (csv::find(&cols, csv::USER).is_some() && csv::find(&cols, csv::ITEM).is_some()).then_some(Format::Csv)
            }
            _ => None,
        }
    }
}

/// A row (a line, a CSV record, a JSON array element) longer than this is
/// reported and skipped; it is never held in memory whole, so a gigabyte
/// without a line break costs a megabyte.
pub const MAX_ROW: usize = 1 << 20;

/// Reads `input` line by line (without the line end and a leading byte-order
/// mark) and hands non-blank lines above `skip` to `row`, then the result to
/// `emit` (ordinal = line number). A line over [`MAX_ROW`] bytes is emitted
/// as malformed without being parsed.
pub(crate) fn for_each_line(
    mut input: impl BufRead,
    skip: u64,
    emit: &mut dyn FnMut(Item) -> bool,
    mut row: impl FnMut(&[u8]) -> Parsed,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    let mut line = 0u64;
    loop {
        buf.clear();
        let (read, too_long) = read_line_capped(&mut input, &mut buf, MAX_ROW)?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        if line <= skip {
            continue;
        }
        let parsed = if too_long {
            Parsed::Malformed(format!("line longer than {MAX_ROW} bytes: skipped unread"))
        } else {
            let mut s = &buf[..];
            if line == 1 {
                s = s.strip_prefix(b"\xef\xbb\xbf").unwrap_or(s);
            }
            while let [rest @ .., b'\n' | b'\r'] = s {
                s = rest;
            }
            if s.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            row(s)
        };
        if !emit(Item { ordinal: line, line, parsed }) {
            return Ok(());
        }
    }
}

/// Appends one line (with its `\n`) to `buf` unless it is longer than
/// `cap`, in which case the rest of the line is read and dropped and `buf`
/// is left empty. Returns the bytes consumed and whether the line was too
/// long.
fn read_line_capped(input: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<(usize, bool)> {
    let mut total = 0;
    let mut over = false;
    loop {
        let avail = match input.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((total, over));
        }
        let (n, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !over {
            if buf.len() + n <= cap {
                buf.extend_from_slice(&avail[..n]);
            } else {
                over = true;
                buf.clear();
            }
        }
        input.consume(n);
        total += n;
        if done {
            return Ok((total, over));
        }
    }
}

/// Longest reason kept for a malformed row, in bytes.
pub const MAX_REASON: usize = 300;

fn clip_reason(reason: &mut String) {
    if reason.len() > MAX_REASON {
        let total = reason.len();
        let mut cut = MAX_REASON;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push_str(&format!("… ({total} bytes in all)"));
    }
}

/// `Ok(str)` or a reason naming the first invalid byte.
pub(crate) fn utf8(bytes: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))
}

/// A MusicBrainz id, lowercased, or a reason it is not one; empty is `None`.
pub(crate) fn mbid(s: &str) -> std::result::Result<Option<String>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if encore_types::is_mbid(s) {
        Ok(Some(s.to_ascii_lowercase()))
    } else {
        Err(format!("invalid MusicBrainz id {s:?}"))
    }
}

/// A Spotify track id in any of its spellings as `spotify:track:ID`.
pub(crate) fn spotify_uri(s: &str) -> Option<String> {
    let s = s.trim();
    let id = s
        .strip_prefix("spotify:track:")
        .or_else(|| s.split("open.spotify.com/track/").nth(1).map(|r| r.split(['?', '/']).next().unwrap_or("")))?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| format!("spotify:track:{id}"))
}

/// Unix seconds from an RFC 3339 timestamp.
pub(crate) fn rfc3339(s: &str) -> std::result::Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .map_err(|_| format!("invalid timestamp {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("parquet-ish".parse::<Format>().is_err());
    }

    #[test]
    fn detects_each_format() {
        let cases: [(&[u8], Format); 9] = [
            (b"#AUDIOSCROBBLER/1.1\n#TZ/UTC\nA\tB\tC\t1\t200\tL\t1714557600\t\n", Format::ScrobblerLog),
            (b"user_000001\t2009-05-04T23:08:57Z\t\tA\t\tB\n", Format::Lastfm1k),
            (b"00000c28\t3bd73256-3905-4f3a-97e2-8b341527f805\tbetty\t2137\n", Format::Lastfm360k),
            (b"b80344d0\tSOAKIMP12A8C130995\t1\n", Format::MsdTriplets),
            (b"{\"listened_at\": 1, \"track_metadata\": {}}\n", Format::ListenBrainz),
            (b"[\n  {\n    \"ts\": \"2021-01-01T00:00:00Z\",\n    \"ms_played\": 5", Format::SpotifyHistory),
            (b"[{\"endTime\":\"2019-02-01 17:45\",\"msPlayed\":1}]", Format::SpotifyHistory),
            (b"user,item,count\nu,i,3\n", Format::Csv),
            (b"{\"artist\":\"A\",\"title\":\"T\"}\n", Format::Catalog),
        ];
        for (sample, f) in cases {
            assert_eq!(Format::detect(sample), Some(f), "{}", String::from_utf8_lossy(sample));
        }
        assert_eq!(Format::detect(b"just some prose\n"), None);
    }

    #[test]
    fn ids_are_validated_and_normalised() {
        assert_eq!(mbid("").unwrap(), None);
        assert_eq!(
            mbid("3BD73256-3905-4F3A-97E2-8B341527F805").unwrap().as_deref(),
            Some("3bd73256-3905-4f3a-97e2-8b341527f805")
        );
        assert!(mbid("3bd73256").is_err());
        assert_eq!(
            spotify_uri("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=x").as_deref(),
            Some("spotify:track:4uLU6hMCjMI75M1A2tKUQC")
        );
        assert_eq!(spotify_uri("spotify:track:abc").as_deref(), Some("spotify:track:abc"));
        assert_eq!(spotify_uri("spotify:episode:abc"), None);
        assert_eq!(rfc3339("2009-05-04T23:08:57Z").unwrap(), 1241478537);
    }

    fn items(format: Format, bytes: Vec<u8>) -> Vec<Item> {
        let mut out = Vec::new();
        format
            .parse(Box::new(io::Cursor::new(bytes)), &ParseOptions::default(), 0, &mut |i| {
                out.push(i);
                true
            })
            .unwrap();
        out
    }

    #[test]
    fn an_over_long_line_is_reported_and_the_rest_read() {
        let good = "u\t2009-05-04T23:08:57Z\t\tA\t\tB\n";
        let mut bytes = good.as_bytes().to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 3 * MAX_ROW));
        bytes.push(b'\n');
        bytes.extend_from_slice(good.as_bytes());
        let got = items(Format::Lastfm1k, bytes);
        assert_eq!(got.len(), 3);
        assert!(matches!(got[0].parsed, Parsed::Record(_)));
        assert!(matches!(&got[1].parsed, Parsed::Malformed(r) if r.contains("longer than")), "{:?}", got[1]);
        assert_eq!((got[1].line, got[2].line), (2, 3));
        assert!(matches!(got[2].parsed, Parsed::Record(_)));
    }

    #[test]
    fn an_over_long_csv_record_is_reported_and_the_rest_read() {
        // NUL bytes without a line break, then an unterminated quote that
        // would swallow the rest of the file: both cut at MAX_ROW.
        let mut bytes = b"user,item,artist\nu,Song,Artist\n".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 2 * MAX_ROW));
        bytes.extend_from_slice(b"\nu,Two,Artist\nu,\"open quote");
        bytes.extend(std::iter::repeat_n(b'x', 2 * MAX_ROW));
        bytes.extend_from_slice(b"\nu,Three,Artist\n");
        let got = items(Format::Csv, bytes);
        let lines: Vec<(u64, bool)> = got.iter().map(|i| (i.line, matches!(i.parsed, Parsed::Record(_)))).collect();
        assert_eq!(lines, vec![(2, true), (3, false), (4, true), (5, false), (6, true)], "{got:?}");
        for bad in [&got[1], &got[3]] {
            assert!(matches!(&bad.parsed, Parsed::Malformed(r) if r.contains("longer than")), "{bad:?}");
        }
    }
}
