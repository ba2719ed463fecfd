//! Retention of model versions: every training publishes new version
//! directories under `models/<kind>/`, and nothing else removes them (1.7 GB
//! after nine trainings on a 10M-listen store). [`collect_garbage`] keeps
//! the newest `keep` releases, every version they name, the newest `keep`
//! versions of every kind and each kind's current version, and removes the
//! rest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use encore_store::Store;
use serde::Serialize;

use crate::{artifact_tail, Manifest, Result, RELEASE_KIND};

/// Versions kept per kind when nobody says otherwise (`train all` and song
/// registration collect after publishing).
pub const DEFAULT_KEEP: usize = 3;

/// What [`collect_garbage`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    /// Versions kept per kind.
    pub keep: usize,
    /// Removed version directories, relative to the data directory.
    pub removed: Vec<String>,
    /// Bytes those held.
    pub bytes_freed: u64,
    /// Versions left, all kinds together.
    pub versions_left: usize,
}

/// Removes old model versions (see the module text). `keep` is at least 1.
pub fn collect_garbage(store: &Store, keep: usize) -> Result<GcReport> {
    let keep = keep.max(1);
    let root = store.dir().join("models");
    let mut report = GcReport { keep, ..Default::default() };
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(report) };
    let kinds: BTreeSet<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();

    // Versions named by the releases that stay.
    let mut named: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    if kinds.contains(RELEASE_KIND) {
        let dir = store.artifacts(RELEASE_KIND)?;
        for v in kept(&dir.versions()?, current(&dir)?, keep) {
            let path = root.join(RELEASE_KIND).join(format!("v{v:06}")).join("manifest.json");
            // An unreadable manifest names nothing; its release is still kept.
            let Ok(m) =
                std::fs::read(&path).map_err(drop).and_then(|b| serde_json::from_slice::<Manifest>(&b).map_err(drop))
            else {
                continue;
            };
            for p in [Some(m.cf), m.text, m.audio, m.fusion].into_iter().flatten() {
                if let Some((kind, v)) = kind_version(Path::new(&p)) {
                    named.entry(kind).or_default().insert(v);
                }
            }
        }
    }
    for kind in &kinds {
        let dir = store.artifacts(kind)?;
        let versions = dir.versions()?;
        let mut stay = kept(&versions, current(&dir)?, keep);
        stay.extend(named.get(kind).into_iter().flatten());
        for v in versions {
            if stay.contains(&v) {
                report.versions_left += 1;
                continue;
            }
            let path = root.join(kind).join(format!("v{v:06}"));
            let bytes = size(&path);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    report.bytes_freed += bytes;
                    report.removed.push(format!("models/{kind}/v{v:06}"));
                }
                Err(e) => {
                    tracing::warn!("could not remove {}: {e}", path.display());
                    report.versions_left += 1;
                }
            }
        }
    }
    Ok(report)
}

/// The newest `keep` of `versions`, and the current one.
fn kept(versions: &[u32], current: Option<u32>, keep: usize) -> BTreeSet<u32> {
    versions.iter().rev().take(keep).copied().chain(current).collect()
}

fn current(dir: &encore_store::ArtifactDir) -> Result<Option<u32>> {
    Ok(dir.current()?.and_then(|(p, _)| kind_version(&p)).map(|(_, v)| v))
}

/// `(kind, version)` of a `…/models/<kind>/v…` path.
fn kind_version(p: &Path) -> Option<(String, u32)> {
    let tail: PathBuf = artifact_tail(p)?;
    let mut parts = tail.iter().skip(1);
    let kind = parts.next()?.to_str()?.to_string();
    let v = parts.next()?.to_str()?.strip_prefix('v')?.parse().ok()?;
    Some((kind, v))
}

fn size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(p).map(|rd| rd.flatten().map(|e| size(&e.path())).sum()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encore_types::ArtifactHeader;

    fn publish(store: &Store, kind: &str) -> String {
        let w = store.artifacts(kind).unwrap().writer(ArtifactHeader::new(kind, 1)).unwrap();
        std::fs::write(w.path().join("data"), vec![0u8; 1000]).unwrap();
        w.commit().unwrap().display().to_string()
    }

    #[test]
    fn keeps_the_newest_and_what_kept_releases_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // cf v1 is named by every release; text gets a version per release.
        let cf1 = publish(&store, "cf");
        for _ in 0..5 {
            let text = publish(&store, "text");
            let m = Manifest { cf: cf1.clone(), text: Some(text), audio: None, fusion: None };
            crate::publish_release(&store, &m).unwrap();
        }
        for _ in 0..4 {
            publish(&store, "cf");
        }
        let r = collect_garbage(&store, 2).unwrap();
        let left = |kind: &str| store.artifacts(kind).unwrap().versions().unwrap();
        assert_eq!(left("release"), vec![4, 5]);
        assert_eq!(left("text"), vec![4, 5]);
        assert_eq!(left("cf"), vec![1, 4, 5], "cf v1 is named by the kept releases");
        assert_eq!(r.removed.len(), 3 + 3 + 2, "{:?}", r.removed);
        assert!(r.bytes_freed >= 5 * 1000, "{}", r.bytes_freed);
        assert_eq!(r.versions_left, 7);
        // The current release still loads its versions: nothing it names went.
        let (cur, _) = store.artifacts("release").unwrap().current().unwrap().unwrap();
        let m: Manifest = serde_json::from_slice(&std::fs::read(cur.join("manifest.json")).unwrap()).unwrap();
        assert!(dir.path().join(&m.cf).is_dir() && dir.path().join(m.text.unwrap()).is_dir());
        // Again: nothing more to do.
        assert!(collect_garbage(&store, 2).unwrap().removed.is_empty());
    }
}
