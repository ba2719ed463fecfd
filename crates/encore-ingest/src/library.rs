//! `encore library scan`: the music folders a person keeps, into the
//! catalog. Each audio file's tags ([`crate::tags`]) name a song, matched
//! the way imports match (MusicBrainz recording id, then normalised artist
//! and title), so listens imported before or after attach to the file;
//! songs that are new are created.
//!
//! A re-scan reads only files that are new or whose size or modification
//! time changed; a file whose content hash is that of a file gone from its
//! old place is a move (its song follows it); a stored file no longer on
//! disk is forgotten and its song loses its audio path. Songs are never
//! duplicated: a re-read file matches the song it was.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use encore_store::{ImportStart, LibraryFile, Store};
use encore_types::{ArtistRef, CatalogSong, TrackRef};
use rayon::prelude::*;
use serde::Serialize;

use crate::tags::{self, FileTags};

/// A file the scan could not use, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileIssue {
    /// Path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What a scan found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// The folders scanned (canonical).
    pub roots: Vec<String>,
    /// Audio files found (of the formats read).
    pub files_seen: u64,
    /// Files unchanged since the last scan (not read).
    pub unchanged: u64,
    /// Files not seen before.
    pub new_files: u64,
    /// Files whose size or modification time changed (read again).
    pub changed_files: u64,
    /// Files found at a new path with the content of one gone from its old
    /// path.
    pub moved: u64,
    /// Files stored before and no longer on disk.
    pub deleted: u64,
    /// Songs created by this scan.
    pub new_songs: u64,
    /// Files that named a song already in the catalog.
    pub matched_songs: u64,
    /// Files named by their folders, for want of tags.
    pub named_by_path: u64,
    /// Files read, by the tag format that named them.
    pub tag_formats: BTreeMap<String, u64>,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<FileIssue>,
    /// Unchanged files that could not be read before (not read again).
    pub still_unreadable: u64,
    /// Audio files of formats not read (WMA, APE, …).
    pub unsupported: Vec<FileIssue>,
    /// New, changed and moved files whose audio is to be analysed.
    pub to_analyze: Vec<String>,
}

/// A file's size and modification time (ns).
fn stamp(meta: &std::fs::Metadata) -> (i64, i64) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_nanos() as i64);
    (meta.len() as i64, mtime)
}

fn extension(p: &Path) -> String {
    p.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase()
}

/// A tagged date as `YYYY-MM-DD` (a bare year is its first day).
fn release_date(d: &str) -> Option<String> {
    let d = d.trim();
    let year = d.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
    let md = d.get(4..).unwrap_or_default();
    fn part(s: Option<&str>) -> Option<&str> {
        s.filter(|x| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()))
    }
    let month = part(md.get(1..3)).unwrap_or("01");
    let day = part(md.get(4..6)).unwrap_or("01");
    let date = format!("{year}-{month}-{day}");
    // What the catalog import accepts: a real day.
    chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok().map(|_| date)
}

fn catalog_song(path: &str, t: &FileTags) -> CatalogSong {
    CatalogSong {
        track: TrackRef {
            artist: ArtistRef { name: t.artist.clone(), mbid: t.artist_mbid.clone() },
            title: t.title.clone(),
            mbid: t.recording_mbid.clone(),
            release: t.album.clone(),
            ..TrackRef::default()
        },
        genre: t.genre.clone(),
        duration_ms: t.duration_ms,
        audio_path: Some(path.to_string()),
        released: t.date.as_deref().and_then(release_date),
    }
}

/// One file that needs reading.
struct Todo {
    path: String,
    size: i64,
    mtime: i64,
    changed: bool,
}

/// Scans `roots`; `progress(done, total)` is called as files are read.
pub fn scan(store: &mut Store, roots: &[PathBuf], progress: &(dyn Fn(u64, u64) + Sync)) -> crate::Result<ScanReport> {
    let mut report = ScanReport::default();
    for root in roots {
        let real = std::fs::canonicalize(root).map_err(|e| crate::Error::Io { path: root.clone(), source: e })?;
        if !real.is_dir() {
            return Err(crate::Error::Io {
                path: root.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
            });
        }
        scan_root(store, &real, progress, &mut report)?;
    }
    Ok(report)
}

fn scan_root(
    store: &mut Store,
    root: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
    report: &mut ScanReport,
) -> crate::Result<()> {
    let root_s = root.display().to_string();
    report.roots.push(root_s.clone());
    let mut todo = Vec::new();
    let mut on_disk = HashSet::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map_or_else(|| root_s.clone(), |p| p.display().to_string());
                report.unreadable.push(FileIssue { path, reason: e.to_string() });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let p = entry.path();
        let ext = extension(p);
        let path = p.display().to_string();
        if tags::UNSUPPORTED.contains(&ext.as_str()) {
            report.unsupported.push(FileIssue { path, reason: format!("unsupported format: {ext}") });
            continue;
        }
        if !tags::TAGGED.contains(&ext.as_str()) {
            continue;
        }
        report.files_seen += 1;
        on_disk.insert(path.clone());
        let (size, mtime) = match entry.metadata() {
            Ok(m) => stamp(&m),
            Err(e) => {
                report.unreadable.push(FileIssue { path, reason: e.to_string() });
                continue;
            }
        };
        match store.library_file(&path)? {
            Some(f) if f.size == size && f.mtime == mtime => {
                report.unchanged += 1;
                if f.song_id.is_none() {
                    report.still_unreadable += 1;
                }
            }
            known => todo.push(Todo { path, size, mtime, changed: known.is_some() }),
        }
    }
    // Stored files no longer on disk: moved (if a new file has their
    // content) or deleted.
    let gone: Vec<LibraryFile> =
        store.library_files(&root_s)?.into_iter().filter(|f| !on_disk.contains(&f.path)).collect();
    let total = todo.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    // Hash and tags of each, in parallel.
    type Read = Result<(String, Result<FileTags, String>), String>;
    let read: Vec<(Todo, Read)> = todo
        .into_par_iter()
        .map(|t| {
            let p = Path::new(&t.path);
            let r = crate::input::content_hash(p).map_err(|e| e.to_string()).map(|hash| (hash, tags::read(p)));
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, total);
            (t, r)
        })
        .collect();
    let mut gone_by_hash: HashMap<String, LibraryFile> = gone.into_iter().map(|f| (f.hash.clone(), f)).collect();
    let mut rows: Vec<LibraryFile> = Vec::new();
    let mut fresh: Vec<(LibraryFile, FileTags)> = Vec::new();
    for (t, r) in read {
        let (hash, tags) = match r {
            Ok(x) => x,
            Err(reason) => {
                report.unreadable.push(FileIssue { path: t.path, reason });
                continue;
            }
        };
        let row = LibraryFile {
            path: t.path.clone(),
            root: root_s.clone(),
            size: t.size,
            mtime: t.mtime,
            hash: hash.clone(),
            song_id: None,
            note: None,
        };
        if !t.changed {
            if let Some(old) = gone_by_hash.remove(&hash) {
                report.moved += 1;
                report.to_analyze.push(t.path.clone());
                rows.push(LibraryFile { song_id: old.song_id, note: old.note, ..row });
                continue;
            }
        }
        let tags = match tags {
            Ok(tags) => tags,
            Err(reason) => {
                // Kept, so that a re-scan does not read it again until it
                // changes.
                report.unreadable.push(FileIssue { path: t.path, reason: reason.clone() });
                rows.push(LibraryFile { note: Some(reason), ..row });
                continue;
            }
        };
        if t.changed {
            report.changed_files += 1;
        } else {
            report.new_files += 1;
        }
        fresh.push((row, tags));
    }
    // The songs, in one committed import.
    if !fresh.is_empty() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let mut session = match store.begin_import(&format!("library:{root_s}:{nanos}"), &root_s, "library")? {
            ImportStart::Fresh(s) | ImportStart::Resume(s) => s,
            ImportStart::Done(_) => unreachable!("a scan's import key is new"),
        };
        for (mut row, tags) in fresh {
            if tags.source == "path" {
                report.named_by_path += 1;
            }
            *report.tag_formats.entry(tags.source.clone()).or_default() += 1;
            if tags.artist.is_empty() || tags.title.is_empty() {
                row.note = Some("neither tags nor folders name an artist and a title".into());
                report
                    .unreadable
                    .push(FileIssue { path: row.path.clone(), reason: row.note.clone().unwrap_or_default() });
            } else {
                match session.write_song(&catalog_song(&row.path, &tags)) {
                    Ok((id, created)) => {
                        row.song_id = Some(id);
                        if created {
                            report.new_songs += 1;
                        } else {
                            report.matched_songs += 1;
                        }
                    }
                    Err(e) => {
                        row.note = Some(e.to_string());
                        report.unreadable.push(FileIssue { path: row.path.clone(), reason: e.to_string() });
                    }
                }
            }
            if let Some(why) = tags::not_decoded(Path::new(&row.path)) {
                row.note.get_or_insert(why);
            }
            report.to_analyze.push(row.path.clone());
            rows.push(row);
        }
        let n = session.counts().rows_read;
        session.finish(n)?;
    }
    // Then the files, with the songs they are; then what is gone.
    store.in_transaction(|s| {
        for r in &rows {
            s.put_library_file(r)?;
        }
        for f in gone_by_hash.values() {
            s.remove_library_file(&f.path)?;
        }
        Ok(())
    })?;
    report.deleted += gone_by_hash.len() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_dates_become_days() {
        assert_eq!(release_date("2004").as_deref(), Some("2004-01-01"));
        assert_eq!(release_date("2004-09-12").as_deref(), Some("2004-09-12"));
        assert_eq!(release_date("2004-09").as_deref(), Some("2004-09-01"));
        assert_eq!(release_date("Sept 2004"), None);
        assert_eq!(release_date("2004-13-40"), None);
    }
}
