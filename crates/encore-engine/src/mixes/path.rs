//! A path of songs from one song to another, named.

use std::collections::HashSet;

use encore_rank::{PathMethod, PathRequest, PathStats};
use serde::Serialize;

use crate::{Engine, Result};

/// One song of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathEntry {
    /// Store id.
    pub song_id: i64,
    /// Title.
    pub title: String,
    /// Artist name.
    pub artist: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Distance in the joint space from the song before.
    pub step: f32,
}

/// A path from one song to another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SongPath {
    /// The songs, first to last.
    pub items: Vec<PathEntry>,
    /// Largest and mean step, and the direct distance.
    pub stats: PathStats,
    /// The joint space: its parts and their weights.
    pub space: Vec<(String, f32)>,
    /// Release (or CF model) version used.
    pub model_version: String,
}

impl Engine {
    /// A path of `n` songs from song `from` to song `to` (store ids).
    pub fn path(&self, from: i64, to: i64, n: usize) -> Result<SongPath> {
        self.path_with(from, to, n, PathMethod::Smooth)
    }

    /// [`Engine::path`] by a chosen method (the baselines are for
    /// evaluation).
    pub fn path_with(&self, from: i64, to: i64, n: usize, method: PathMethod) -> Result<SongPath> {
        let m = self.models();
        let h = m.hybrid()?;
        let req =
            PathRequest { from: self.song_index(&m, from)?, to: self.song_index(&m, to)?, n, exclude: HashSet::new() };
        let r = h.path_with(&req, method)?;
        let c = &m.catalog;
        let items = self.with_store(|store| {
            let mut out = Vec::with_capacity(r.items.len());
            for it in &r.items {
                let id = c.song_ids[it.song];
                let info = store.songs(&[id])?.pop();
                out.push(PathEntry {
                    song_id: id,
                    title: info.as_ref().map_or_else(|| format!("song {id}"), |i| i.title.clone()),
                    artist: info.as_ref().and_then(|i| i.artist.clone()),
                    genre: info.and_then(|i| i.genre),
                    step: it.step,
                });
            }
            Ok(out)
        })?;
        let space = encore_rank::JOINT_WEIGHTS
            .iter()
            .filter(|(k, _)| r.space.contains(k))
            .map(|(k, w)| (k.to_string(), *w))
            .collect();
        Ok(SongPath { items, stats: r.stats, space, model_version: m.version() })
    }
}
