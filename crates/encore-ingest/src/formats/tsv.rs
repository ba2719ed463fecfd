//! The tab-separated formats: Last.fm 1K, Last.fm 360K, MSD triplets and
//! portable players' `.scrobbler.log`.

use std::io::{self, BufRead};

use encore_types::{ArtistRef, Record, TrackRef};

use super::{for_each_line, mbid, rfc3339, utf8, Item, ParseOptions, Parsed};

type Row = std::result::Result<Parsed, String>;

pub(super) fn parse(
    input: Box<dyn BufRead + Send>,
    skip: u64,
    emit: &mut dyn FnMut(Item) -> bool,
    row: impl Fn(&[&str]) -> Row,
) -> io::Result<()> {
    for_each_line(input, skip, emit, |bytes| match utf8(bytes) {
        Err(reason) => Parsed::Malformed(reason),
        Ok(text) => row(&text.split('\t').collect::<Vec<_>>()).unwrap_or_else(Parsed::Malformed),
    })
}

fn expect_fields(f: &[&str], n: usize) -> std::result::Result<(), String> {
    if f.len() == n {
        Ok(())
    } else {
        Err(format!("expected {n} tab-separated fields, got {}", f.len()))
    }
}

fn user<'a>(s: &'a str, opts: &'a ParseOptions) -> std::result::Result<&'a str, String> {
    match (opts.user.as_deref(), s.trim()) {
        (Some(u), _) => Ok(u),
        (None, "") => Err("empty user id".into()),
        (None, u) => Ok(u),
    }
}

fn plays(s: &str) -> std::result::Result<u32, String> {
    s.trim().parse::<u32>().map_err(|_| format!("invalid play count {s:?}"))
}

/// `user \t timestamp \t artist-mbid \t artist \t track-mbid \t track`
pub(super) fn lastfm_1k(f: &[&str], opts: &ParseOptions) -> Row {
    expect_fields(f, 6)?;
    let user = user(f[0], opts)?;
    let ts = rfc3339(f[1])?;
    let artist = ArtistRef { name: f[3].trim().to_string(), mbid: mbid(f[2])? };
    if artist.name.is_empty() && artist.mbid.is_none() {
        return Err("no artist name or id".into());
    }
    let track = TrackRef { artist, title: f[5].trim().to_string(), mbid: mbid(f[4])?, ..Default::default() };
    if track.title.is_empty() && track.mbid.is_none() {
        return Err("no track name or id".into());
    }
    Ok(Parsed::Record(Record::Listen { user: user.to_string(), ts, track, ms_played: None, skipped: None }))
}

/// `user \t artist-mbid \t artist \t plays`
pub(super) fn lastfm_360k(f: &[&str], opts: &ParseOptions) -> Row {
    expect_fields(f, 4)?;
    let user = user(f[0], opts)?;
    let artist = ArtistRef { name: f[2].trim().to_string(), mbid: mbid(f[1])? };
    if artist.name.is_empty() && artist.mbid.is_none() {
        return Err("no artist name or id".into());
    }
    let plays = plays(f[3])?;
    if plays == 0 {
        return Ok(Parsed::Ignored("zero plays"));
    }
    Ok(Parsed::Record(Record::ArtistCount { user: user.to_string(), artist, plays }))
}

/// A portable player's `.scrobbler.log` (Audioscrobbler portable player log
/// 1.1, written by Rockbox and others): `#` header lines, then `artist \t
/// album \t title \t track number \t length (s) \t L|S \t timestamp \t
/// recording MBID` — L: listened, S: skipped. The file names no listener:
/// `--user` does. Times are as the player wrote them (UTC when the header
/// says `#TZ/UTC`; a player without a clock writes local time).
pub(super) fn scrobbler_log(f: &[&str], opts: &ParseOptions) -> Row {
    if f.first().is_some_and(|x| x.starts_with('#')) {
        return Ok(Parsed::Ignored("header line"));
    }
    let user = opts.user.as_deref().ok_or("no listener; pass --user to name them")?;
    if f.len() != 7 && f.len() != 8 {
        return Err(format!("expected 8 tab-separated fields, got {}", f.len()));
    }
    let artist = ArtistRef { name: f[0].trim().to_string(), mbid: None };
    let title = f[2].trim().to_string();
    let rec_mbid = mbid(f.get(7).copied().unwrap_or(""))?;
    if artist.name.is_empty() || (title.is_empty() && rec_mbid.is_none()) {
        return Err("no artist or no title".into());
    }
    let skipped = match f[5].trim() {
        "L" => false,
        "S" => true,
        other => return Err(format!("rating must be L or S, got {other:?}")),
    };
    let length: Option<u32> = match f[4].trim() {
        "" => None,
        s => Some(s.parse().map_err(|_| format!("invalid length {s:?}"))?),
    };
    let ts: i64 = f[6].trim().parse().map_err(|_| format!("invalid timestamp {:?}", f[6]))?;
    let album = f[1].trim();
    let track = TrackRef {
        artist,
        title,
        mbid: rec_mbid,
        release: (!album.is_empty()).then(|| album.to_string()),
        ..Default::default()
    };
    Ok(Parsed::Record(Record::Listen {
        user: user.to_string(),
        ts,
        track,
        // A listened track played (at least the half a scrobble needs);
        // its length is the best figure the log has.
        ms_played: if skipped { None } else { length.map(|s| s.saturating_mul(1000)) },
        skipped: Some(skipped),
    }))
}

/// `user \t song \t play_count`
pub(super) fn msd(f: &[&str], opts: &ParseOptions) -> Row {
    expect_fields(f, 3)?;
    let user = user(f[0], opts)?;
    let song = f[1].trim();
    if song.is_empty() {
        return Err("empty song id".into());
    }
    let plays = plays(f[2])?;
    if plays == 0 {
        return Ok(Parsed::Ignored("zero plays"));
    }
    let track = TrackRef { ext_key: Some(format!("msd:{song}")), ..Default::default() };
    Ok(Parsed::Record(Record::SongCount { user: user.to_string(), track, plays, last_played: None }))
}
