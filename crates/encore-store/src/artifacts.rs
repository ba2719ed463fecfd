//! The versioned model-artifact directory.
//!
//! ```text
//! models/<kind>/v000001/header.json   ← ArtifactHeader
//! models/<kind>/v000001/…             ← the artifact's own files
//! models/<kind>/CURRENT               ← "v000001"
//! ```
//!
//! A writer fills a hidden temporary directory, syncs it, renames it to the
//! next version, then replaces `CURRENT` by an atomic rename. A reader that
//! follows `CURRENT` therefore never sees a half-written version, and a
//! writer that dies leaves only a temporary directory that the next writer
//! removes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use encore_types::ArtifactHeader;

use crate::{Error, Result};

const CURRENT: &str = "CURRENT";
const HEADER: &str = "header.json";

/// The versions of one kind of artifact.
#[derive(Debug, Clone)]
pub struct ArtifactDir {
    dir: PathBuf,
    kind: String,
}

/// A version being written; nothing is visible until [`ArtifactWriter::commit`].
#[derive(Debug)]
pub struct ArtifactWriter {
    parent: ArtifactDir,
    tmp: PathBuf,
    header: ArtifactHeader,
    committed: bool,
}

fn sync_dir(path: &Path) -> Result<()> {
    fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| Error::io(path, e))
}

impl ArtifactDir {
    pub(crate) fn open(root: PathBuf, kind: &str) -> Result<ArtifactDir> {
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(Error::Artifact { path: root, reason: format!("invalid artifact kind {kind:?}") });
        }
        let dir = root.join(kind);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(ArtifactDir { dir, kind: kind.to_string() })
    }

    /// The directory of the current version, with its header, if any.
    pub fn current(&self) -> Result<Option<(PathBuf, ArtifactHeader)>> {
        let pointer = self.dir.join(CURRENT);
        let name = match fs::read_to_string(&pointer) {
            Ok(s) => s.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&pointer, e)),
        };
        let path = self.dir.join(&name);
        let header = read_header(&path)?;
        Ok(Some((path, header)))
    }

    /// The directory of the current version, if any, once its header says
    /// it is this kind in a format no newer than `max_version` (an
    /// [`Error::Artifact`] naming the version directory otherwise).
    pub fn current_checked(&self, max_version: u32) -> Result<Option<PathBuf>> {
        let Some((path, header)) = self.current()? else {
            return Ok(None);
        };
        header
            .check(&self.kind, max_version)
            .map_err(|e| Error::Artifact { path: path.clone(), reason: e.to_string() })?;
        Ok(Some(path))
    }

    /// Committed version numbers, ascending.
    pub fn versions(&self) -> Result<Vec<u32>> {
        let mut v = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            if let Some(n) = entry.file_name().to_str().and_then(|s| s.strip_prefix('v')).and_then(|s| s.parse().ok()) {
                v.push(n);
            }
        }
        v.sort_unstable();
        Ok(v)
    }

    /// Starts writing a new version with `header` (its kind must match).
    /// Leftovers of writers that died are removed first.
    pub fn writer(&self, header: ArtifactHeader) -> Result<ArtifactWriter> {
        if header.kind != self.kind {
            return Err(Error::Artifact {
                path: self.dir.clone(),
                reason: format!("header kind {:?} in directory of {:?}", header.kind, self.kind),
            });
        }
        for entry in fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let tmp = self.dir.join(format!(".tmp-{}", std::process::id()));
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(ArtifactWriter { parent: self.clone(), tmp, header, committed: false })
    }
}

fn read_header(path: &Path) -> Result<ArtifactHeader> {
    let hp = path.join(HEADER);
    let text = fs::read_to_string(&hp).map_err(|e| Error::io(&hp, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Artifact { path: hp, reason: e.to_string() })
}

impl ArtifactWriter {
    /// The temporary directory to write the artifact's files into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Publishes the version: syncs its files, renames it into place and
    /// points `CURRENT` at it. Returns the version's directory.
    pub fn commit(mut self) -> Result<PathBuf> {
        let hp = self.tmp.join(HEADER);
        let json = serde_json::to_vec_pretty(&self.header).expect("header serialises");
        fs::write(&hp, json).map_err(|e| Error::io(&hp, e))?;
        for entry in fs::read_dir(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?.flatten() {
            if entry.path().is_file() {
                fs::File::open(entry.path()).and_then(|f| f.sync_all()).map_err(|e| Error::io(&entry.path(), e))?;
            }
        }
        sync_dir(&self.tmp)?;
        let next = self.parent.versions()?.last().copied().unwrap_or(0) + 1;
        let name = format!("v{next:06}");
        let dest = self.parent.dir.join(&name);
        fs::rename(&self.tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        let pointer_tmp = self.parent.dir.join(".CURRENT.tmp");
        let mut f = fs::File::create(&pointer_tmp).map_err(|e| Error::io(&pointer_tmp, e))?;
        f.write_all(name.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| Error::io(&pointer_tmp, e))?;
        let pointer = self.parent.dir.join(CURRENT);
        fs::rename(&pointer_tmp, &pointer).map_err(|e| Error::io(&pointer, e))?;
        sync_dir(&self.parent.dir)?;
        self.committed = true;
        Ok(dest)
    }
}

impl Drop for ArtifactWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_is_atomic_and_versions_increase() {
        let root = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::open(root.path().join("models"), "cf-als").unwrap();
        assert!(dir.current().unwrap().is_none());

        let w = dir.writer(ArtifactHeader::new("cf-als", 1)).unwrap();
        fs::write(w.path().join("factors.bin"), b"one").unwrap();
        let v1 = w.commit().unwrap();
        let (cur, h) = dir.current().unwrap().unwrap();
        assert_eq!(cur, v1);
        assert_eq!(h.kind, "cf-als");

        // A writer that is dropped before commit publishes nothing.
        let w = dir.writer(ArtifactHeader::new("cf-als", 1)).unwrap();
        fs::write(w.path().join("factors.bin"), b"half").unwrap();
        drop(w);
        assert_eq!(dir.current().unwrap().unwrap().0, v1);

        // A writer that died (its temporary directory left behind) is cleaned
        // up by the next one, and the next version is v2.
        fs::create_dir_all(dir.dir.join(".tmp-999999")).unwrap();
        let w = dir.writer(ArtifactHeader::new("cf-als", 1)).unwrap();
        fs::write(w.path().join("factors.bin"), b"two").unwrap();
        let v2 = w.commit().unwrap();
        assert!(v2.ends_with("v000002"));
        assert!(!dir.dir.join(".tmp-999999").exists());
        assert_eq!(fs::read(dir.current().unwrap().unwrap().0.join("factors.bin")).unwrap(), b"two");
        assert_eq!(dir.versions().unwrap(), vec![1, 2]);
    }

    #[test]
    fn refuses_foreign_kinds() {
        let root = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::open(root.path().to_path_buf(), "cf-als").unwrap();
        assert!(dir.writer(ArtifactHeader::new("text", 1)).is_err());
        assert!(ArtifactDir::open(root.path().to_path_buf(), "../x").is_err());
    }

    /// A version in a newer format than a reader knows is refused with its
    /// directory; one it knows is handed over.
    #[test]
    fn current_checked_refuses_newer_formats() {
        let root = tempfile::tempdir().unwrap();
        let dir = ArtifactDir::open(root.path().to_path_buf(), "cf-als").unwrap();
        assert!(dir.current_checked(1).unwrap().is_none());
        let v1 = dir.writer(ArtifactHeader::new("cf-als", 2)).unwrap().commit().unwrap();
        assert_eq!(dir.current_checked(2).unwrap(), Some(v1.clone()));
        match dir.current_checked(1) {
            Err(Error::Artifact { path, .. }) => assert_eq!(path, v1),
            other => panic!("expected a refused artifact, got {other:?}"),
        }
    }
}
