//! Clauses of a sentence, so that a word goes to the artist of its clause
//! and not to every artist of the sentence ("where A is sunny, B are grim").
//!
//! A sentence is cut at `, ; : ( ) [ ] — –` and before the markers below.
//! A comma between two adjectives ("swirling, hazy noise") is a list of
//! adjectives, not a clause break (the first may be a participle). Each clause is a range of the words of
//! the sentence as [`encore_types::normalize_name`] writes them, so it lines
//! up with the linker's mentions.
//!
//! What a clause without a mention of its own describes depends on how it
//! starts (see [`ClauseKind`]); the term model applies that.

use std::ops::Range;

use encore_types::normalize_name;

use crate::lexicon::is_adjective;

/// How a clause starts, which decides whom a clause without a mention of
/// its own describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClauseKind {
    /// No marker: the artist of the clause before ("…, all neon synths").
    Plain,
    /// "but", "where", "while", "whereas", "although", "though", "yet": the
    /// other side of a contrast, or more about the same artist ("…, but the
    /// album never gets darker").
    Contrast,
    /// "than", "unlike", "instead", "compared", "rather": what something is
    /// compared against. Without a mention its words belong to nobody
    /// ("propulsive rather than heavy").
    Target,
    /// "who", "whose", "which", "whom": the nearest mention before ("than
    /// Iron Orchard, who are ferocious").
    Relative,
}

const CONTRAST: &[&str] = &["but", "where", "while", "whilst", "whereas", "although", "though", "yet"];
const TARGET: &[&str] = &["than", "unlike", "instead", "compared"];
const RELATIVE: &[&str] = &["who", "whose", "which", "whom"];

/// One clause: its words in the normalised sentence and how it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    /// Word positions in the normalised sentence.
    pub words: Range<usize>,
    /// How it starts.
    pub kind: ClauseKind,
}

fn kind_of(first_word: &str) -> ClauseKind {
    if CONTRAST.contains(&first_word) {
        ClauseKind::Contrast
    } else if TARGET.contains(&first_word) {
        ClauseKind::Target
    } else if RELATIVE.contains(&first_word) {
        ClauseKind::Relative
    } else {
        ClauseKind::Plain
    }
}

fn is_marker(w: &str) -> bool {
    kind_of(w) != ClauseKind::Plain
}

/// An adjective, or a participle used as one ("swirling, hazy noise").
fn adjective_like(w: &str) -> bool {
    is_adjective(w) || w.ends_with("ing") || w.ends_with("ed")
}

/// The alphanumeric word that ends right before byte `at`, lowercased.
fn word_before(s: &str, at: usize) -> String {
    let head = s[..at].trim_end_matches(|c: char| !c.is_alphanumeric());
    let start = head
        .rfind(|c: char| !c.is_alphanumeric())
        .map_or(0, |i| i + head[i..].chars().next().map_or(1, char::len_utf8));
    head[start..].to_lowercase()
}

/// The alphanumeric word that starts after byte `at`, lowercased.
fn word_after(s: &str, at: usize) -> String {
    let tail = s[at..].trim_start_matches(|c: char| !c.is_alphanumeric());
    let end = tail.find(|c: char| !c.is_alphanumeric()).unwrap_or(tail.len());
    tail[..end].to_lowercase()
}

/// Splits `sentence` (original text) into clauses over the words of
/// `normalize_name(sentence)`.
pub(crate) fn clauses(sentence: &str) -> Vec<Clause> {
    // Byte offsets where a new clause starts.
    let mut cuts: Vec<usize> = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in sentence.char_indices() {
        if c.is_alphanumeric() {
            if word_start.is_none() {
                word_start = Some(i);
                let w = word_after(sentence, i);
                if is_marker(&w) {
                    cuts.push(i);
                }
            }
            continue;
        }
        word_start = None;
        let cut = match c {
            ';' | ':' | '(' | ')' | '[' | ']' | '—' | '–' => true,
            ',' => !(adjective_like(&word_before(sentence, i)) && is_adjective(&word_after(sentence, i + 1))),
            _ => false,
        };
        if cut {
            cuts.push(i + c.len_utf8());
        }
    }
    cuts.push(sentence.len());
    let words_before = |at: usize| normalize_name(&sentence[..at]).split(' ').filter(|w| !w.is_empty()).count();
    let norm = normalize_name(sentence);
    let all: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut from = 0;
    for at in cuts {
        let to = words_before(at).max(from);
        if to > from {
            out.push(Clause { words: from..to, kind: kind_of(all[from]) });
        }
        from = to;
    }
    if from < all.len() {
        // Only reachable if normalisation merged words across a cut.
        out.push(Clause { words: from..all.len(), kind: kind_of(all[from]) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, ClauseKind)> {
        let norm = normalize_name(s);
        let words: Vec<&str> = norm.split(' ').collect();
        clauses(s).into_iter().map(|c| (words[c.words].join(" "), c.kind)).collect()
    }

    #[test]
    fn cuts_at_punctuation_and_markers() {
        use ClauseKind::*;
        assert_eq!(
            texts("Where Harbor Lights are sunny, Ash Cathedral are grim and crushing."),
            vec![
                ("where harbor lights are sunny".into(), Contrast),
                ("ash cathedral are grim and crushing".into(), Plain)
            ]
        );
        assert_eq!(
            texts("Sunday Static are far cozier than Iron Orchard, who are ferocious."),
            vec![
                ("sunday static are far cozier".into(), Plain),
                ("than iron orchard".into(), Target),
                ("who are ferocious".into(), Relative)
            ]
        );
        // A comma between adjectives is no clause break.
        assert_eq!(
            texts("They chose spare, quiet songs instead of the swirling, hazy noise of Paper Satellites."),
            vec![
                ("they chose spare quiet songs".into(), Plain),
                ("instead of the swirling hazy noise of paper satellites".into(), Target)
            ]
        );
        // Words line up with normalize_name even across non-ASCII text.
        assert_eq!(
            texts("Björk — «Jóga», live"),
            vec![("bjork".into(), Plain), ("joga".into(), Plain), ("live".into(), Plain)]
        );
        assert!(texts("").is_empty());
    }
}
