//! Tags of audio files, read with `lofty`: ID3v2.3/2.4 and ID3v1 (MP3),
//! Vorbis comments (Ogg Vorbis, Opus, FLAC), MP4 atoms (M4A), RIFF INFO and
//! ID3 chunks (WAV), AIFF text chunks. A file without a usable artist and
//! title falls back to the folder layout people keep,
//! `Artist/Album/NN Title.ext`.

use std::path::Path;

use lofty::prelude::*;
use lofty::tag::{Tag, TagType};
use serde::Serialize;

/// File extensions the scan reads tags from.
pub const TAGGED: [&str; 11] = ["mp3", "ogg", "oga", "opus", "flac", "m4a", "mp4", "wav", "aiff", "aif", "aifc"];

/// Audio file extensions it knows but cannot read (reported as unsupported).
pub const UNSUPPORTED: [&str; 8] = ["wma", "ape", "mpc", "wv", "dsf", "dff", "ra", "mka"];

/// Why the audio of `path` is not decoded here, if it is not: Opus, for
/// which symphonia has no decoder (its tags are read all the same).
pub fn not_decoded(path: &Path) -> Option<String> {
    let ext = path.extension().and_then(|e| e.to_str())?.to_ascii_lowercase();
    (ext == "opus").then(|| format!("audio not decoded: {ext}"))
}

/// What a file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileTags {
    /// Track artist.
    pub artist: String,
    /// Title.
    pub title: String,
    /// Album artist, if tagged.
    pub album_artist: Option<String>,
    /// Album, if tagged (or the folder's name).
    pub album: Option<String>,
    /// Track number.
    pub track: Option<u32>,
    /// Disc number.
    pub disc: Option<u32>,
    /// Release date as tagged (`YYYY`, `YYYY-MM-DD`, …).
    pub date: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Length in milliseconds, from the stream's properties.
    pub duration_ms: Option<u32>,
    /// MusicBrainz recording id (Picard's and beets' `MUSICBRAINZ_TRACKID`).
    pub recording_mbid: Option<String>,
    /// MusicBrainz release-track id.
    pub track_mbid: Option<String>,
    /// MusicBrainz release id.
    pub release_mbid: Option<String>,
    /// MusicBrainz artist id.
    pub artist_mbid: Option<String>,
    /// The tag format the fields came from (`ID3v2`, `VorbisComments`, …),
    /// or `path` for the folder-layout fallback.
    pub source: String,
    /// The container (`Mpeg`, `Opus`, `Flac`, …).
    pub file_type: String,
}

fn clean(s: Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    s.map(|s| s.trim().trim_matches('\0').to_string()).filter(|s| !s.is_empty())
}

fn text(tag: &Tag, key: &ItemKey) -> Option<String> {
    tag.get_string(key).map(|s| s.trim().trim_matches('\0').to_string()).filter(|s| !s.is_empty())
}

/// A MusicBrainz id, lower case, when it is a UUID.
fn mbid(tag: &Tag, key: &ItemKey) -> Option<String> {
    let v = text(tag, key)?;
    // A multi-valued field keeps its first value.
    let first = v.split(['/', ';']).next()?.trim().to_ascii_lowercase();
    encore_types::is_mbid(&first).then_some(first)
}

/// Reads the tags and length of `path`; `Err` with a reason for a file
/// that is not a readable audio file.
pub fn read(path: &Path) -> Result<FileTags, String> {
    let file = lofty::read_from_path(path).map_err(|e| format!("not a readable audio file: {e}"))?;
    let mut out = FileTags {
        file_type: format!("{:?}", file.file_type()),
        duration_ms: Some(file.properties().duration().as_millis().min(u32::MAX as u128) as u32).filter(|&d| d > 0),
        ..FileTags::default()
    };
    // The file type's own tag first, then any other (an MP3 with only ID3v1).
    let mut tags: Vec<&Tag> = file.primary_tag().into_iter().collect();
    tags.extend(file.tags().iter().filter(|t| Some(t.tag_type()) != file.primary_tag().map(Tag::tag_type)));
    for tag in tags {
        if out.artist.is_empty() {
            out.artist = clean(tag.artist()).or_else(|| text(tag, &ItemKey::AlbumArtist)).unwrap_or_default();
        }
        if out.title.is_empty() {
            out.title = clean(tag.title()).unwrap_or_default();
        }
        if out.source.is_empty() && !out.artist.is_empty() && !out.title.is_empty() {
            out.source = match tag.tag_type() {
                TagType::Id3v2 => "ID3v2",
                TagType::Id3v1 => "ID3v1",
                TagType::VorbisComments => "VorbisComments",
                TagType::Mp4Ilst => "MP4",
                TagType::RiffInfo => "RIFF INFO",
                TagType::AiffText => "AIFF text",
                TagType::Ape => "APE",
                _ => "other",
            }
            .to_string();
        }
        out.album_artist = out.album_artist.or_else(|| text(tag, &ItemKey::AlbumArtist));
        out.album = out.album.or_else(|| clean(tag.album()));
        out.track = out.track.or_else(|| tag.track());
        out.disc = out.disc.or_else(|| tag.disk());
        out.date =
            out.date.or_else(|| text(tag, &ItemKey::RecordingDate)).or_else(|| tag.year().map(|y| y.to_string()));
        out.genre = out.genre.or_else(|| clean(tag.genre()));
        out.recording_mbid = out.recording_mbid.or_else(|| mbid(tag, &ItemKey::MusicBrainzRecordingId));
        out.track_mbid = out.track_mbid.or_else(|| mbid(tag, &ItemKey::MusicBrainzTrackId));
        out.release_mbid = out.release_mbid.or_else(|| mbid(tag, &ItemKey::MusicBrainzReleaseId));
        out.artist_mbid = out.artist_mbid.or_else(|| mbid(tag, &ItemKey::MusicBrainzArtistId));
    }
    if out.artist.is_empty() || out.title.is_empty() {
        from_path(path, &mut out);
    }
    Ok(out)
}

/// Fills artist, album, track and title from `Artist/Album/NN Title.ext`.
fn from_path(path: &Path, out: &mut FileTags) {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
    let rest = stem[digits.len()..].trim_start_matches([' ', '.', '-', '_']).trim();
    let title = if rest.is_empty() { stem } else { rest };
    let album = path.parent();
    let artist = album.and_then(Path::parent);
    let name = |p: Option<&Path>| p.and_then(Path::file_name).and_then(|s| s.to_str()).map(str::to_string);
    if out.title.is_empty() {
        out.title = title.replace('_', " ");
    }
    if out.artist.is_empty() {
        out.artist = name(artist).unwrap_or_default();
    }
    out.album = out.album.take().or_else(|| name(album));
    if out.track.is_none() && !digits.is_empty() && digits.len() <= 3 {
        out.track = digits.parse().ok();
    }
    out.source = "path".into();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_layout_names_a_file_without_tags() {
        let mut t = FileTags::default();
        from_path(Path::new("/music/Sigur Rós/Takk/02 - Hoppípolla.ogg"), &mut t);
        assert_eq!(
            (t.artist.as_str(), t.title.as_str(), t.album.as_deref()),
            ("Sigur Rós", "Hoppípolla", Some("Takk"))
        );
        assert_eq!((t.track, t.source.as_str()), (Some(2), "path"));
        let mut t = FileTags { artist: "Kept".into(), ..FileTags::default() };
        from_path(Path::new("a/b/track_one.mp3"), &mut t);
        assert_eq!((t.artist.as_str(), t.title.as_str(), t.track), ("Kept", "track one", None));
    }

    #[test]
    fn a_file_that_is_not_audio_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.mp3");
        std::fs::write(&p, b"this is not an mp3").unwrap();
        assert!(read(&p).is_err());
    }
}
