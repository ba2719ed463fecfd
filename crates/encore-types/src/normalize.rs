//! Name normalisation used to match songs and artists across sources that
//! carry no MusicBrainz id.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Normalises a name for matching: Unicode compatibility decomposition
/// (NFKD) with combining marks dropped, lowercase, every run of
/// non-alphanumeric characters turned into one space, trimmed. `"Björk "` and
/// `"BJORK"` give `"bjork"`; `"AC/DC"` gives `"ac dc"`.
pub fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        push_folded(&mut out, s.chars());
    } else {
        push_folded(&mut out, s.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase));
    }
    out
}

fn push_folded(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending_space = false;
    for c in chars {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_space = true;
        }
    }
}

/// The key that identifies a song by name: normalised artist and title joined
/// by a unit separator.
pub fn song_key(artist: &str, title: &str) -> String {
    let mut k = normalize_name(artist);
    k.push('\u{1f}');
    k.push_str(&normalize_name(title));
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_diacritics_and_punctuation() {
        assert_eq!(normalize_name("BJÖRK"), "bjork");
        assert_eq!(normalize_name("  Björk "), "bjork");
        assert_eq!(normalize_name("Bjo\u{308}rk"), "bjork");
        assert_eq!(normalize_name("AC/DC"), "ac dc");
        assert_eq!(normalize_name("Sigur Rós — Hoppípolla!"), "sigur ros hoppipolla");
        assert_eq!(normalize_name("Motörhead"), normalize_name("motorhead"));
        assert_eq!(normalize_name("坂本龍一"), "坂本龍一");
        assert_eq!(normalize_name("!!!"), "");
    }

    #[test]
    fn song_key_separates_artist_and_title() {
        assert_ne!(song_key("a b", "c"), song_key("a", "b c"));
        assert_eq!(song_key("Beyoncé", "Halo"), song_key("BEYONCE", "halo "));
    }
}
