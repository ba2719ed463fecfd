//! Quality against a hand-written expected-terms file, such as
//! `fixtures/text/realistic/expected.tsv`.
//!
//! The file has one row per artist: name, split (`tune` or `heldout`), a
//! short search query, the words a reader would accept as describing the
//! artist, and the words a contrast sentence gives to another artist
//! (comma-separated; `#` starts a comment; the first other row is a
//! header). [`score`] reports, per split:
//!
//! - precision@10: the share of an artist's top ten terms that are right (a
//!   term is right when it is listed, or when every word of it is: "sunny
//!   harmonies"); an artist with fewer than ten terms is scored on those;
//! - contrast leaks: forbidden terms anywhere in an artist's vector (every
//!   term, not only the top ten);
//! - silent artists: listed artists with no terms at all;
//! - search: whether the artist's query ranks it first among artists.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use encore_types::normalize_name;
use serde::Serialize;

use crate::{Entity, Error, Result, TermModel};

/// One row of the expected-terms file.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Artist name as in the catalog.
    pub artist: String,
    /// `tune` or `heldout`.
    pub split: String,
    /// A short description that should find the artist first.
    pub query: String,
    /// Words and phrases that describe the artist (normalised).
    pub terms: HashSet<String>,
    /// Terms that belong to someone else (normalised).
    pub forbidden: Vec<String>,
}

/// Reads an expected-terms file.
pub fn read_expected(path: &Path) -> Result<Vec<Expected>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.into(), source: e })?;
    let list = |s: &str| s.split(',').map(normalize_name).filter(|t| !t.is_empty()).collect::<Vec<_>>();
    let mut out = Vec::new();
    let rows = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()).skip(1);
    for (i, line) in rows {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            return Err(Error::Artifact {
                path: path.into(),
                reason: format!("line {}: expected at least 4 tab-separated fields, got {}", i + 1, f.len()),
            });
        }
        out.push(Expected {
            artist: f[0].trim().to_string(),
            split: f[1].trim().to_string(),
            query: f[2].trim().to_string(),
            terms: list(f[3]).into_iter().collect(),
            forbidden: f.get(4).map(|s| list(s)).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// How one artist fares.
#[derive(Debug, Clone, Serialize)]
pub struct ArtistScore {
    /// Artist name.
    pub artist: String,
    /// Split.
    pub split: String,
    /// Top ten terms.
    pub top: Vec<String>,
    /// Of those, the ones not in the expected list.
    pub wrong: Vec<String>,
    /// Share of the top terms that are right (0 for an artist without terms).
    pub precision_at_10: f64,
    /// Forbidden terms found in the artist's vector.
    pub leaks: Vec<String>,
    /// The query.
    pub query: String,
    /// Rank of the artist among artists for its query (1 = first; none:
    /// not found).
    pub search_rank: Option<usize>,
}

/// Figures of one split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitScore {
    /// `tune`, `heldout` or `all`.
    pub split: String,
    /// Artists scored.
    pub artists: usize,
    /// Mean precision@10.
    pub precision_at_10: f64,
    /// Forbidden terms found, over all artists.
    pub contrast_leaks: usize,
    /// Artists with no terms.
    pub silent_artists: usize,
    /// Share of artists their query ranks first.
    pub search_first: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedQuality {
    /// Per split, then `all`.
    pub splits: Vec<SplitScore>,
    /// Per artist.
    pub artists: Vec<ArtistScore>,
}

fn right(term: &str, expected: &HashSet<String>) -> bool {
    expected.contains(term) || term.split(' ').all(|w| expected.contains(w))
}

/// Scores `model` against `expected`; `artist_ids` maps normalised artist
/// names to ids.
pub fn score(model: &TermModel, expected: &[Expected], artist_ids: &HashMap<String, i64>) -> ExpectedQuality {
    let mut artists = Vec::new();
    for x in expected {
        let id = artist_ids.get(&normalize_name(&x.artist)).copied();
        let all: Vec<String> = id
            .and_then(|a| model.describe(Entity::Artist(a), usize::MAX))
            .map(|d| d.terms.into_iter().map(|t| t.0).collect())
            .unwrap_or_default();
        let top: Vec<String> = all.iter().take(10).cloned().collect();
        let wrong: Vec<String> = top.iter().filter(|t| !right(t, &x.terms)).cloned().collect();
        let precision_at_10 = if top.is_empty() { 0.0 } else { 1.0 - wrong.len() as f64 / top.len() as f64 };
        // A leak is a forbidden word standing as a term or inside one.
        let leaks: Vec<String> = all
            .iter()
            .filter(|t| x.forbidden.iter().any(|f| t.split(' ').any(|w| w == f) || *t == f))
            .cloned()
            .collect();
        let search_rank = id.and_then(|a| {
            model
                .search(&x.query, usize::MAX)
                .into_iter()
                .filter(|h| matches!(h.0, Entity::Artist(_)))
                .position(|h| h.0 == Entity::Artist(a))
                .map(|p| p + 1)
        });
        artists.push(ArtistScore {
            artist: x.artist.clone(),
            split: x.split.clone(),
            top,
            wrong,
            precision_at_10,
            leaks,
            query: x.query.clone(),
            search_rank,
        });
    }
    let mut names: Vec<String> = Vec::new();
    for a in &artists {
        if !names.contains(&a.split) {
            names.push(a.split.clone());
        }
    }
    names.push("all".into());
    let splits = names
        .into_iter()
        .map(|split| {
            let of: Vec<&ArtistScore> = artists.iter().filter(|a| split == "all" || a.split == split).collect();
            let n = of.len().max(1) as f64;
            SplitScore {
                artists: of.len(),
                precision_at_10: of.iter().map(|a| a.precision_at_10).sum::<f64>() / n,
                contrast_leaks: of.iter().map(|a| a.leaks.len()).sum(),
                silent_artists: of.iter().filter(|a| a.top.is_empty()).count(),
                search_first: of.iter().filter(|a| a.search_rank == Some(1)).count() as f64 / n,
                split,
            }
        })
        .collect();
    ExpectedQuality { splits, artists }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("expected.tsv");
        let text = "# comment\nartist\tsplit\tquery\tterms\tforbidden\n\
                    Harbor Lights\ttune\tsunny jangly\tSunny, jangly,beach pop\tgrim\n\
                    Ember\theldout\tsmoky torch\tsmoky\n";
        std::fs::write(&path, text).unwrap();
        let rows = read_expected(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].terms, ["sunny", "jangly", "beach pop"].map(String::from).into_iter().collect());
        assert_eq!(rows[0].forbidden, ["grim"]);
        assert!(rows[1].forbidden.is_empty());

        std::fs::write(&path, format!("{text}Broken\ttune\n")).unwrap();
        let err = read_expected(&path).unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn a_phrase_is_right_when_every_word_is() {
        let expected: HashSet<String> = ["sunny", "harmonies", "doom metal"].map(String::from).into_iter().collect();
        assert!(right("sunny harmonies", &expected));
        assert!(right("doom metal", &expected));
        assert!(!right("office jobs", &expected));
        assert!(!right("sunny office", &expected));
    }
}
