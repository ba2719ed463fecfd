//! Word lists the term model consults, all shipped in `data/` with their
//! licences and the scripts that derive them.
//!
//! - WordNet 3.0's single-word adjectives (described words count more) and
//!   nouns (a one-word artist name that is an English word needs evidence to
//!   be linked).
//! - Non-descriptive words derived from WordNet: verbs that are mostly verbs
//!   and the -ed/-ing forms that are not adjectives or nouns ("find",
//!   "toured"), adverbs that are mostly adverbs ("together"). They never
//!   become terms.
//! - The ~1,500 genre names of beets' lastgenre plugin (taken from
//!   Wikipedia): "doom metal", "post-punk", "slowcore" stay one term, and a
//!   two-word genre written as one word ("synthpop") is the same term as
//!   the spaced form ("synth pop").

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use encore_types::normalize_name;

use crate::tokens::is_stop;

const ADJECTIVES: &str = include_str!("../data/adjectives.txt");
const NOUNS: &str = include_str!("../data/nouns.txt");
const NONDESCRIPTIVE: &str = include_str!("../data/nondescriptive.txt");
const GENRES: &str = include_str!("../data/genres.txt");

fn word_set(src: &'static str, cell: &'static OnceLock<HashSet<&'static str>>) -> &'static HashSet<&'static str> {
    cell.get_or_init(|| src.lines().collect())
}

/// Whether `w` is an adjective in WordNet.
pub fn is_adjective(w: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    word_set(ADJECTIVES, &SET).contains(w)
}

/// Whether `w` is a noun in WordNet.
pub(crate) fn is_noun(w: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    word_set(NOUNS, &SET).contains(w)
}

/// Whether `w` is a verb form or an adverb that says nothing about how
/// music sounds ("find", "toured", "together"). Genre words ("swing") are
/// never non-descriptive.
pub fn is_nondescriptive(w: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    word_set(NONDESCRIPTIVE, &SET).contains(w) && !genres().phrases.contains_key(w)
}

/// Genre names, normalised, with their one-word spellings.
pub(crate) struct Genres {
    /// Normalised phrase (spaced or joined) → canonical spaced form.
    phrases: HashMap<String, String>,
    /// First words of the phrases, to skip most positions at once.
    first: HashSet<String>,
    max_words: usize,
}

/// The genre names of `data/genres.txt`.
pub(crate) fn genres() -> &'static Genres {
    static G: OnceLock<Genres> = OnceLock::new();
    G.get_or_init(|| {
        let mut phrases = HashMap::new();
        for line in GENRES.lines() {
            // "ambient music" is "ambient", "folk music" is "folk" (but
            // "were music" is not "were").
            let mut canon = normalize_name(line);
            if let Some(short) = canon.strip_suffix(" music").filter(|s| !is_stop(s)) {
                canon = short.to_string();
            }
            if canon.is_empty() || is_stop(&canon) {
                continue;
            }
            let words: Vec<&str> = canon.split(' ').collect();
            if words.len() == 2 {
                phrases.entry(words.concat()).or_insert_with(|| canon.clone());
            }
            phrases.insert(canon.clone(), canon);
        }
        let first = phrases.keys().map(|p| p.split(' ').next().unwrap_or_default().to_string()).collect();
        let max_words = phrases.keys().map(|p| p.split(' ').count()).max().unwrap_or(1);
        Genres { phrases, first, max_words }
    })
}

impl Genres {
    /// The longest genre name that starts `words`: (words used, canonical name).
    pub(crate) fn longest_at(&self, words: &[&str]) -> Option<(usize, &str)> {
        if !self.first.contains(*words.first()?) {
            return None;
        }
        (1..=self.max_words.min(words.len()))
            .rev()
            .find_map(|n| self.phrases.get(&words[..n].join(" ")).map(|c| (n, c.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_say_what_they_should() {
        assert!(is_adjective("summery") && is_adjective("jangly") && !is_adjective("guitar"));
        assert!(is_noun("ember") && is_noun("guitar") && !is_noun("summery"));
        for w in ["find", "toured", "together", "finds", "released"] {
            assert!(is_nondescriptive(w), "{w}");
        }
        for w in ["tour", "drums", "layered", "distorted", "loud", "swing", "summery"] {
            assert!(!is_nondescriptive(w), "{w}");
        }
        let g = genres();
        assert_eq!(g.longest_at(&["doom", "metal", "band"]), Some((2, "doom metal")));
        assert_eq!(g.longest_at(&["post", "punk"]), Some((2, "post punk")));
        assert_eq!(g.longest_at(&["synthpop"]), Some((1, "synth pop")));
        assert_eq!(g.longest_at(&["slowcore"]), Some((1, "slowcore")));
        assert_eq!(g.longest_at(&["guitar", "pop"]), None);
        assert_eq!(g.longest_at(&["lo", "fi"]), Some((2, "lo fi")));
    }
}
