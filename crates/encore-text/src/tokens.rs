//! Sentences, normalised words, stop words and negation cues.

/// Function words dropped from terms. Adjectives that carry meaning in
/// music writing ("new", "old", "great", "big", "little") are kept.
pub const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "last",
    "least",
    "less",
    "let",
    "like",
    "made",
    "make",
    "makes",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "never",
    "no",
    "nor",
    "not",
    "nothing",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "quite",
    "rather",
    "really",
    "same",
    "says",
    "she",
    "should",
    "so",
    "some",
    "still",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "though",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "its",
    "s",
    "t",
    "re",
    "ve",
    "ll",
    "d",
    "m",
    "get",
    "got",
    "go",
    "goes",
    "going",
    "come",
    "comes",
    "feel",
    "feels",
    "keep",
    "keeps",
    "kept",
    "sound",
    "sounds",
    "song",
    "songs",
    "track",
    "tracks",
    "album",
    "record",
    "music",
    "band",
    "artist",
    "year",
    "years",
    "week",
    "time",
    "way",
    "here",
    "there",
    "something",
    "never",
    "less",
    "expect",
    "few",
    "acts",
    "edge",
    "part",
    "fans",
    "home",
    "shows",
];

/// Words that negate what follows in the same sentence ("not summery",
/// "sounds nothing like X").
pub const NEGATIONS: &[&str] = &[
    "not", "no", "never", "nothing", "unlike", "neither", "nor", "without", "hardly", "isn", "aren", "wasn", "doesn",
    "don", "didn",
];

/// Splits text into sentences: at `.`, `!` or `?` followed by a space or the
/// end, and at line breaks (HTML blocks arrive one per line).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let end = match b {
            b'\n' => Some(i),
            b'.' | b'!' | b'?' => match bytes.get(i + 1) {
                None | Some(b' ') | Some(b'\n') | Some(b'\t') | Some(b'"') | Some(b'\'') => Some(i + 1),
                _ => None,
            },
            _ => None,
        };
        if let Some(e) = end {
            let s = text[start..e].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = e;
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

pub(crate) fn is_stop(w: &str) -> bool {
    w.len() < 3 || STOP_WORDS.contains(&w) || w.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_negation(w: &str) -> bool {
    NEGATIONS.contains(&w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences() {
        assert_eq!(
            sentences("A sunny record. Is it? Yes!\nNext line 3.5 stays"),
            vec!["A sunny record.", "Is it?", "Yes!", "Next line 3.5 stays"]
        );
        assert!(is_stop("the") && is_stop("42") && !is_stop("new") && !is_stop("summery"));
    }
}
