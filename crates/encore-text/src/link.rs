//! Finding the catalog's artists and songs in text.
//!
//! Text and names are normalised alike (Unicode compatibility
//! decomposition, diacritics dropped, lowercase, punctuation to single
//! spaces: "BJÖRK" = "björk" = "Bjork"), then matched with aho-corasick
//! (leftmost-longest) and kept only on word boundaries, so "yes" never
//! matches inside "yesterday" and "The Velvet Harbors" wins over "Velvet
//! Harbors".
//!
//! **Ambiguity policy.** An artist whose name is short (three letters or
//! fewer) or one English word ("Yes", "Low", "Air", "Ember": a WordNet noun,
//! adjective, verb or adverb) is linked only with evidence in the original
//! text: the name written with its capital letter and either not at the
//! start of the sentence or in quotes. Once a document has such evidence,
//! the capitalised name at the start of a sentence is linked too (one sense
//! per document); the lowercase word never is ("the last ember"). A song title is
//! linked only when its artist is mentioned in the same or a neighbouring
//! sentence, or when the title stands in quotes and belongs to one song
//! only. A mention right after a negation cue ("sounds nothing like X",
//! "unlike X", "not X") is marked negated: it gets no descriptive terms and
//! no co-mentions.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use encore_types::normalize_name;
use serde::{Deserialize, Serialize};

use crate::lexicon::{is_adjective, is_nondescriptive, is_noun};
use crate::tokens::{is_negation, STOP_WORDS};

/// Something the linker can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Entity {
    /// An artist, by store id.
    Artist(i64),
    /// A song, by store id.
    Song(i64),
}

/// One mention in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Who or what.
    pub entity: Entity,
    /// Byte span in the normalised sentence.
    pub span: (usize, usize),
    /// Preceded by a negation cue.
    pub negated: bool,
}

#[derive(Debug, Clone)]
struct Target {
    entity: Entity,
    /// Display name as in the catalog.
    display: String,
    /// The song's artist.
    artist: Option<i64>,
    ambiguous: bool,
}

/// Finds catalog entities in sentences.
#[derive(Debug)]
pub struct Linker {
    ac: Option<AhoCorasick>,
    /// Pattern index → targets sharing that normalised name.
    targets: Vec<Vec<Target>>,
}

const COMMON: &[&str] = &[
    "yes", "low", "air", "intro", "outro", "love", "home", "war", "live", "heart", "hope", "free", "blue", "time",
    "rain", "fire", "water", "light", "lights", "dreams", "summer", "nights", "days", "roads", "waves", "tides",
];

fn ambiguous(norm: &str) -> bool {
    norm.len() <= 3
        || (!norm.contains(' ')
            && (COMMON.contains(&norm)
                || STOP_WORDS.contains(&norm)
                || is_noun(norm)
                || is_adjective(norm)
                || is_nondescriptive(norm)))
}

fn on_boundary(text: &str, s: usize, e: usize) -> bool {
    (s == 0 || text.as_bytes()[s - 1] == b' ') && (e == text.len() || text.as_bytes()[e] == b' ')
}

fn quoted(original: &str, name: &str) -> bool {
    [("\"", "\""), ("“", "”"), ("'", "'"), ("‘", "’")].iter().any(|(a, b)| original.contains(&format!("{a}{name}{b}")))
}

impl Linker {
    /// A linker for artists `(id, name)` and songs `(id, artist id, title)`.
    pub fn new(artists: &[(i64, String)], songs: &[(i64, Option<i64>, String)]) -> Linker {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut add = |norm: String, t: Target| {
            if norm.is_empty() {
                return;
            }
            let k = *index.entry(norm.clone()).or_insert_with(|| {
                patterns.push(norm);
                targets.push(Vec::new());
                targets.len() - 1
            });
            targets[k].push(t);
        };
        for (id, name) in artists {
            let norm = normalize_name(name);
            let amb = ambiguous(&norm);
            add(norm, Target { entity: Entity::Artist(*id), display: name.clone(), artist: None, ambiguous: amb });
        }
        for (id, artist, title) in songs {
            let norm = normalize_name(title);
            add(norm, Target { entity: Entity::Song(*id), display: title.clone(), artist: *artist, ambiguous: true });
        }
        let ac = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns).expect("valid patterns")
        });
        Linker { ac, targets }
    }

    /// Mentions in a document's sentences: `original[i]` and its normalised
    /// form `normalized[i]`. Songs are resolved with the artists mentioned in
    /// sentences `i − 1 ..= i + 1`.
    pub fn link(&self, original: &[&str], normalized: &[String]) -> Vec<Vec<Mention>> {
        let Some(ac) = &self.ac else { return vec![Vec::new(); normalized.len()] };
        // Candidate matches per sentence.
        let raw: Vec<Vec<(usize, usize, usize)>> = normalized
            .iter()
            .map(|n| {
                ac.find_iter(n.as_str())
                    .filter(|m| on_boundary(n, m.start(), m.end()))
                    .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                    .collect()
            })
            .collect();
        // Pass 1: artists.
        let mut artists_in: Vec<Vec<i64>> = vec![Vec::new(); normalized.len()];
        let mut out: Vec<Vec<Mention>> = vec![Vec::new(); normalized.len()];
        // Ambiguous names: (sentence, pattern, span, artist) written with a
        // capital at the start of a sentence, linked if the document has
        // evidence for the artist elsewhere.
        let mut initial: Vec<(usize, usize, usize, i64)> = Vec::new();
        let mut evidence: Vec<i64> = Vec::new();
        for (i, cands) in raw.iter().enumerate() {
            for &(p, s, e) in cands {
                for t in &self.targets[p] {
                    let Entity::Artist(a) = t.entity else { continue };
                    if t.ambiguous {
                        let orig = original[i];
                        let starts = orig.trim_start_matches(['"', '“', '\'', '‘']).starts_with(&t.display);
                        let cased = orig.contains(&t.display);
                        if !cased {
                            continue;
                        }
                        if starts && !quoted(orig, &t.display) {
                            initial.push((i, s, e, a));
                            continue;
                        }
                        evidence.push(a);
                    }
                    artists_in[i].push(a);
                    out[i].push(Mention { entity: t.entity, span: (s, e), negated: negated(&normalized[i], s) });
                }
            }
        }
        for (i, s, e, a) in initial {
            if evidence.contains(&a) {
                artists_in[i].push(a);
                out[i].push(Mention { entity: Entity::Artist(a), span: (s, e), negated: negated(&normalized[i], s) });
                out[i].sort_by_key(|m| m.span);
            }
        }
        // A cue negates the first name after it only: in "unlike X, Y is
        // calm" Y is not negated.
        for (i, ms) in out.iter_mut().enumerate() {
            for k in 1..ms.len() {
                let prev_end = ms[k - 1].span.1;
                if ms[k].negated && cue_before(&normalized[i], ms[k].span.0).is_some_and(|c| c < prev_end) {
                    ms[k].negated = false;
                }
            }
        }
        // Pass 2: songs, with their artist nearby or in quotes.
        for (i, cands) in raw.iter().enumerate() {
            let near: Vec<i64> = (i.saturating_sub(1)..=(i + 1).min(normalized.len() - 1))
                .flat_map(|j| artists_in[j].iter().copied())
                .collect();
            for &(p, s, e) in cands {
                let songs: Vec<&Target> =
                    self.targets[p].iter().filter(|t| matches!(t.entity, Entity::Song(_))).collect();
                let by_artist: Vec<&&Target> =
                    songs.iter().filter(|t| t.artist.is_some_and(|a| near.contains(&a))).collect();
                let chosen: Vec<&Target> = if !by_artist.is_empty() {
                    by_artist.into_iter().copied().collect()
                } else if songs.len() == 1 && quoted(original[i], &songs[0].display) {
                    songs
                } else {
                    Vec::new()
                };
                for t in chosen {
                    out[i].push(Mention { entity: t.entity, span: (s, e), negated: negated(&normalized[i], s) });
                }
            }
        }
        out
    }
}

/// Whether one of the three words before byte `start` is a negation cue.
fn negated(norm: &str, start: usize) -> bool {
    cue_before(norm, start).is_some()
}

/// Byte position of the nearest negation cue among the three words before
/// byte `start`.
fn cue_before(norm: &str, start: usize) -> Option<usize> {
    let head = &norm[..start];
    let mut end = head.len();
    for w in head.split(' ').rev().filter(|w| !w.is_empty()).take(3) {
        let at = head[..end].rfind(w).unwrap_or(0);
        if is_negation(w) {
            return Some(at);
        }
        end = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(linker: &Linker, text: &str) -> Vec<Vec<Mention>> {
        let orig = crate::tokens::sentences(text);
        let norm: Vec<String> = orig.iter().map(|s| normalize_name(s)).collect();
        linker.link(&orig, &norm)
    }

    fn linker() -> Linker {
        Linker::new(
            &[
                (1, "Björk".into()),
                (2, "Yes".into()),
                (3, "The Velvet Harbors".into()),
                (4, "Velvet Harbors".into()),
                (5, "Air".into()),
            ],
            &[
                (10, Some(1), "Jóga".into()),
                (11, Some(2), "Intro".into()),
                (12, Some(5), "Intro".into()),
                (13, Some(3), "Summer Lights".into()),
            ],
        )
    }

    #[test]
    fn normalises_and_respects_word_boundaries() {
        let l = linker();
        let m = run(&l, "BJORK wrote Joga. Yesterday was fine.");
        assert_eq!(m[0].iter().map(|m| m.entity).collect::<Vec<_>>(), vec![Entity::Artist(1), Entity::Song(10)]);
        assert!(m[1].is_empty(), "yes inside yesterday: {:?}", m[1]);
        let m = run(&l, "I saw The Velvet Harbors live.");
        assert_eq!(m[0].iter().map(|m| m.entity).collect::<Vec<_>>(), vec![Entity::Artist(3)]);
    }

    #[test]
    fn ambiguous_names_need_evidence() {
        let l = linker();
        // Sentence-initial "Yes" is the word, a capitalised "Yes" mid-sentence the band.
        assert!(run(&l, "Yes, the air was warm.")[0].is_empty());
        // ... unless the document names the band elsewhere (one sense per document).
        let m = run(&l, "We saw Yes last night. Yes played for three hours. yes, really.");
        assert_eq!(m.iter().map(|m| m.len()).collect::<Vec<_>>(), vec![1, 1, 0]);
        let m = run(&l, "Prog fans still love Yes and Air.");
        assert_eq!(m[0].iter().map(|m| m.entity).collect::<Vec<_>>(), vec![Entity::Artist(2), Entity::Artist(5)]);
        // "Intro" is linked to the song of the artist nearby, not to the other one.
        let m = run(&l, "Fans love Air live. The intro is long.");
        assert_eq!(m[1].iter().map(|m| m.entity).collect::<Vec<_>>(), vec![Entity::Song(12)]);
        assert!(run(&l, "The intro is long.")[0].is_empty());
        // A unique title in quotes stands on its own.
        let m = run(&l, "Nothing beats \"Summer Lights\" today.");
        assert_eq!(m[0].iter().map(|m| m.entity).collect::<Vec<_>>(), vec![Entity::Song(13)]);
    }

    #[test]
    fn negated_mentions_are_marked() {
        let l = linker();
        let m = run(&l, "It sounds nothing like Björk, more like The Velvet Harbors.");
        assert_eq!(m[0].len(), 2);
        assert!(m[0][0].negated && !m[0][1].negated, "{:?}", m[0]);
        // The cue negates the first name after it, not the next one.
        let m = run(&l, "Unlike Björk, Air are calm.");
        assert!(m[0][0].negated && !m[0][1].negated, "{:?}", m[0]);
    }
}
