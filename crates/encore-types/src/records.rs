//! Validated records: what every reader in `encore-ingest` produces and what
//! `encore-store` writes.

use serde::{Deserialize, Serialize};

/// A play shorter than this many milliseconds is a *short play*: kept in the
/// store as it is, but counted as a skip, not as a full play, when the
/// interaction matrix is built (Spotify counts a stream from 30 s on).
pub const SHORT_PLAY_MS: u32 = 30_000;

/// How a record names an artist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtistRef {
    /// Display name as written in the source.
    pub name: String,
    /// MusicBrainz artist id, when the source has one.
    pub mbid: Option<String>,
}

/// How a record names a song (a recording).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// The performing artist.
    pub artist: ArtistRef,
    /// Title as written in the source.
    pub title: String,
    /// MusicBrainz recording id.
    pub mbid: Option<String>,
    /// Spotify track URI (`spotify:track:…`).
    pub spotify_uri: Option<String>,
    /// An opaque id from a source that has nothing better, with its namespace
    /// (`msd:SOAKIMP12A8C130995`, `csv:item42`).
    pub ext_key: Option<String>,
    /// Release (album) name.
    pub release: Option<String>,
}

/// One song of a catalog file: metadata that arrives without any listen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogSong {
    /// The song itself.
    pub track: TrackRef,
    /// Genre label, when known.
    pub genre: Option<String>,
    /// Length in milliseconds.
    pub duration_ms: Option<u32>,
    /// Path of an audio file for the song.
    pub audio_path: Option<String>,
    /// Release date, `YYYY-MM-DD`.
    pub released: Option<String>,
}

/// One validated input row.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A single timestamped listen.
    Listen {
        /// The listener's name in the source.
        user: String,
        /// When the play started, Unix seconds (UTC).
        ts: i64,
        /// What was played.
        track: TrackRef,
        /// How long it played, when the source says.
        ms_played: Option<u32>,
        /// Whether the listener skipped it, when the source says.
        skipped: Option<bool>,
    },
    /// An aggregate play count of one song by one user.
    SongCount {
        /// The listener.
        user: String,
        /// The song.
        track: TrackRef,
        /// How many plays.
        plays: u32,
        /// The last of them, Unix seconds, when the source says (library
        /// exports: play count + last played).
        last_played: Option<i64>,
    },
    /// An aggregate play count of one artist by one user (Last.fm 360K).
    ArtistCount {
        /// The listener.
        user: String,
        /// The artist.
        artist: ArtistRef,
        /// How many plays.
        plays: u32,
    },
    /// A catalog entry.
    Catalog(CatalogSong),
}

/// A text document about music (an article, a blog post, a page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Where it came from (URL, or a file path when there is none).
    pub url: String,
    /// Title, when known.
    pub title: Option<String>,
    /// Readable text (HTML already reduced).
    pub text: String,
    /// Publication date as given.
    pub published: Option<String>,
}

/// Latest a listen may lie ahead of the clock, seconds (clock skew between
/// a player and the server).
pub const LISTEN_CLOCK_SLACK: i64 = 86_400;

/// Whether `s` is written as a MusicBrainz id: a UUID, 8-4-4-4-12 hex
/// digits in either case (the one check for imports, tags and the listen
/// API).
pub fn is_mbid(s: &str) -> bool {
    s.len() == 36
        && s.bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() })
}

/// The one rule for a listen's time, for imports and the HTTP API alike:
/// Unix seconds after 1970-01-01 and at most a day after `now`. `Err`
/// says why not.
pub fn check_listen_time(ts: i64, now: i64) -> Result<(), String> {
    if ts <= 0 {
        return Err(format!("timestamp {ts} is not after 1970-01-01 (Unix seconds)"));
    }
    if ts > now.saturating_add(LISTEN_CLOCK_SLACK) {
        return Err(format!("timestamp {ts} is in the future (more than a day after now, {now})"));
    }
    Ok(())
}

#[cfg(test)]
mod listen_time_tests {
    use super::*;

    #[test]
    fn one_rule_for_listen_times() {
        let now = 1_764_400_000;
        assert!(check_listen_time(1, now).is_ok());
        assert!(check_listen_time(now + LISTEN_CLOCK_SLACK, now).is_ok());
        for bad in [0, -1, i64::MIN, i64::MAX, now + LISTEN_CLOCK_SLACK + 1, 32_503_680_000 /* year 3000 */] {
            assert!(check_listen_time(bad, now).is_err(), "{bad}");
        }
    }
}
