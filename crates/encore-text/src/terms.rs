//! The terms of a stretch of words: descriptive unigrams, genre names as one
//! term, and bigrams of neighbouring kept words.

use crate::lexicon::{genres, is_adjective, is_nondescriptive, is_noun};
use crate::tokens::{is_negation, is_stop};

/// One term with its weight factor (adjectives and genre names count more).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Term {
    pub text: String,
    pub factor: f32,
}

/// The words of a normalised sentence with their byte spans.
pub(crate) fn words(norm: &str) -> Vec<(&str, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for w in norm.split(' ') {
        let (s, e) = (pos, pos + w.len());
        pos = e + 1;
        if !w.is_empty() {
            out.push((w, s, e));
        }
    }
    out
}

/// Which words are negated: within three words after a negation cue (the
/// cue itself included), up to a contrast ("not summery but hazy").
pub(crate) fn negated(words: &[&str]) -> Vec<bool> {
    let mut left = 0u32;
    words
        .iter()
        .map(|w| {
            if matches!(*w, "but" | "yet" | "instead" | "rather") {
                left = 0;
            }
            if is_negation(w) {
                left = 3;
                return true;
            }
            let n = left > 0;
            left = left.saturating_sub(1);
            n
        })
        .collect()
}

/// Which of the `n` words of `normalize_name(original)` are written as names
/// in `original` (a capital letter, not the first word): people, places and
/// venues ("engineer Kari Lund from Tromsø") describe no sound. When the
/// original's words do not line up one to one with the normalised ones, none.
pub(crate) fn proper_nouns(original: &str, n: usize) -> Vec<bool> {
    let runs: Vec<&str> = original.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if runs.len() != n {
        return vec![false; n];
    }
    runs.iter().enumerate().map(|(i, w)| i > 0 && w.chars().next().is_some_and(char::is_uppercase)).collect()
}

/// Words before an attributive participle ("the swirling noise").
const DETERMINERS: &[&str] =
    &["the", "a", "an", "of", "with", "and", "its", "their", "his", "her", "in", "by", "some", "such", "this"];

/// Words that may stand between a subject and its verb ("we just want").
const BETWEEN: &[&str] = &[
    "just",
    "always",
    "never",
    "still",
    "also",
    "really",
    "all",
    "both",
    "often",
    "only",
    "even",
    "now",
    "then",
    "simply",
    "mostly",
    "usually",
    "sometimes",
    "already",
    "again",
    "ever",
    "finally",
    "actually",
    "clearly",
];

/// Words after which the next content word is a verb.
const SUBJECTS: &[&str] = &["i", "we", "they", "he", "she", "you", "who", "have", "has", "had", "ve"];

/// Which words are verbs by position: the first content word after a
/// subject pronoun, a form of "have", or a name (`after_name[k]`: word `k`
/// ends a linked name), past a few adverbs: "they opened", "have spent",
/// "we just want", "Ember sings". Copulas and other stop words break the
/// rule ("they were joyous" keeps "joyous").
pub(crate) fn verbs_by_position(words: &[&str], after_name: &[bool]) -> Vec<bool> {
    let mut out = vec![false; words.len()];
    for k in 0..words.len() {
        if !(after_name[k] || SUBJECTS.contains(&words[k])) {
            continue;
        }
        let next = (k + 1..words.len()).find(|&j| !BETWEEN.contains(&words[j]));
        if let Some(j) = next {
            out[j] = !is_stop(words[j]) && !after_name[j];
        }
    }
    out
}

/// Whether a word may be a term on its own.
pub(crate) fn is_descriptive(w: &str) -> bool {
    !is_stop(w) && !is_nondescriptive(w)
}

/// Terms of `words`, skipping the `masked` ones (names, negated words).
/// Genre names ("doom metal") are one term; adjectives and genres weigh
/// `adjective_weight`; a participle is kept before a noun or an adjective
/// ("swirling noise"); bigrams join two neighbouring kept words.
pub(crate) fn terms(words: &[&str], masked: &[bool], bigrams: bool, adjective_weight: f32) -> Vec<Term> {
    let g = genres();
    let mut kept: Vec<Option<&str>> = Vec::with_capacity(words.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if masked[i] {
            kept.push(None);
            i += 1;
            continue;
        }
        let free = masked[i..].iter().position(|&m| m).unwrap_or(words.len() - i);
        if let Some((n, name)) = g.longest_at(&words[i..i + free]) {
            out.push(Term { text: name.to_string(), factor: adjective_weight });
            kept.push(None);
            i += n;
            continue;
        }
        let w = words[i];
        // A participle after a determiner and before a noun or an adjective
        // describes it ("the swirling noise", "of galloping riffs"; not
        // "together playing doom").
        let attributive = (w.ends_with("ing") || w.ends_with("ed"))
            && (i == 0 || DETERMINERS.contains(&words[i - 1]))
            && words.get(i + 1).is_some_and(|n| !is_stop(n) && (is_noun(n) || is_adjective(n)))
            && !masked.get(i + 1).copied().unwrap_or(true);
        if is_descriptive(w) || (attributive && !is_stop(w)) {
            out.push(Term { text: w.to_string(), factor: if is_adjective(w) { adjective_weight } else { 1.0 } });
            kept.push(Some(w));
        } else {
            kept.push(None);
        }
        i += 1;
    }
    if bigrams {
        for pair in kept.windows(2) {
            if let [Some(a), Some(b)] = pair {
                out.push(Term { text: format!("{a} {b}"), factor: 1.0 });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genres_stay_whole_and_verbs_go() {
        let s = "we toured together playing doom metal and jangly post punk";
        let w: Vec<&str> = s.split(' ').collect();
        let t: Vec<String> = terms(&w, &vec![false; w.len()], true, 2.0).into_iter().map(|t| t.text).collect();
        assert_eq!(t, vec!["doom metal", "jangly", "post punk"], "{t:?}");
        let w: Vec<&str> = "not summery but hazy dreamy synths".split(' ').collect();
        let neg = negated(&w);
        let t: Vec<Term> = terms(&w, &neg, true, 2.0);
        let names: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(names, vec!["hazy", "dreamy", "synths", "hazy dreamy", "dreamy synths"]);
        assert_eq!(t[0].factor, 2.0);
        assert_eq!(t[2].factor, 1.0);
    }
}
