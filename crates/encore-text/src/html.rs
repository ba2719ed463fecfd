//! Readable text from HTML.
//!
//! Drops scripts, styles, navigation, headers, footers, asides, forms and
//! other boilerplate; keeps headings, paragraphs, list items and table
//! cells, each on its own line, so sentence splitting sees the blocks.
//! Broken HTML is parsed as far as it goes (the `tl` parser is lenient).

use std::borrow::Cow;

const SKIP: &[&str] = &[
    "script", "style", "nav", "footer", "header", "aside", "noscript", "form", "svg", "iframe", "template", "button",
    "select",
];
const BLOCK: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "br",
    "div",
    "article",
    "section",
    "tr",
    "td",
    "th",
    "blockquote",
    "dd",
    "dt",
    "pre",
    "time",
    "main",
];

/// Decodes the character references that matter in running text; text
/// without any is returned as it is, without a copy.
pub(crate) fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // Byte search: `rest` may hold multi-byte text right after the '&'.
        let end = rest.bytes().take(12).position(|b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "hellip" => Some('…'),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
                }
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `(title, text)` of an HTML page.
pub fn readable_text(html: &str) -> (Option<String>, String) {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return (None, String::new());
    };
    let parser = dom.parser();
    let mut title = None;
    let mut out = String::new();
    walk(html, dom.children(), parser, &mut title, &mut out);
    let text: Vec<&str> = out.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    (title, text.join("\n"))
}

/// A step of the walk over the tree: enter a node, or leave a block.
enum Step {
    Enter(tl::NodeHandle),
    Leave,
}

/// Walks the tree with a stack of its own, not by recursion: a page of
/// 100,000 unclosed nested tags is as deep as its tree.
fn walk(html: &str, top: &[tl::NodeHandle], parser: &tl::Parser<'_>, title: &mut Option<String>, out: &mut String) {
    let mut stack: Vec<Step> = top.iter().rev().map(|h| Step::Enter(*h)).collect();
    while let Some(step) = stack.pop() {
        let h = match step {
            Step::Leave => {
                out.push('\n');
                continue;
            }
            Step::Enter(h) => h,
        };
        let Some(node) = h.get(parser) else { continue };
        match node {
            tl::Node::Tag(tag) => {
                let name = tag.name().as_bytes();
                let is = |list: &[&str]| list.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(name));
                if name.eq_ignore_ascii_case(b"title") {
                    let t = decode_entities(text_of(h, parser).trim()).into_owned();
                    if title.is_none() && !t.is_empty() {
                        *title = Some(t);
                    }
                    continue;
                }
                if is(SKIP) {
                    continue;
                }
                if is(BLOCK) {
                    out.push('\n');
                    stack.push(Step::Leave);
                }
                stack.extend(tag.children().top().as_slice().iter().rev().map(|c| Step::Enter(*c)));
            }
            tl::Node::Raw(b) => push_text(out, &decode_entities(&source_text(html, b))),
            tl::Node::Comment(_) => {}
        }
    }
}

/// The text of a raw node as a slice of the page: `tl` hands out byte
/// slices of its input, and slicing the page (a `&str`) at their offsets
/// skips the UTF-8 validation of `as_utf8_str`, 5% of `text ingest` under
/// perf. Bytes that are not a slice of the page on character boundaries are
/// read the lossy way.
fn source_text<'a>(html: &'a str, b: &'a tl::Bytes<'_>) -> Cow<'a, str> {
    let bytes = b.as_bytes();
    let start = (bytes.as_ptr() as usize).wrapping_sub(html.as_ptr() as usize);
    match start.checked_add(bytes.len()).and_then(|end| html.get(start..end)) {
        Some(s) if s.as_ptr() == bytes.as_ptr() => Cow::Borrowed(s),
        _ => String::from_utf8_lossy(bytes),
    }
}

/// The raw text under `h`, without recursion.
fn text_of(h: tl::NodeHandle, parser: &tl::Parser<'_>) -> String {
    let mut out = String::new();
    let mut stack = vec![h];
    while let Some(h) = stack.pop() {
        match h.get(parser) {
            Some(tl::Node::Tag(tag)) => {
                let children: Vec<tl::NodeHandle> = tag.children().top().iter().copied().collect();
                stack.extend(children.into_iter().rev());
            }
            Some(tl::Node::Raw(b)) => out.push_str(&b.as_utf8_str()),
            _ => {}
        }
    }
    out
}

/// Whether the only whitespace of `bytes` is single ASCII spaces: no tab,
/// line break, run of spaces or lead byte of a non-ASCII space (U+0085,
/// U+00A0, U+1680, U+2000–U+205F, U+3000 start with 0xC2, 0xE1, 0xE2 or
/// 0xE3; other characters with those lead bytes only cost the slow path).
/// Folds without early exit, which the compiler vectorises.
fn single_spaced(bytes: &[u8]) -> bool {
    let odd =
        bytes.iter().fold(false, |acc, &b| acc | matches!(b, b'\t' | b'\n' | b'\r' | 0x0B | 0x0C | 0xC2 | 0xE1..=0xE3));
    let runs = bytes.iter().zip(bytes.iter().skip(1)).fold(false, |acc, (&a, &b)| acc | ((a == b' ') & (b == b' ')));
    !odd && !runs
}

/// Appends `t` with every run of whitespace written as one space.
///
/// Hand-written because `split_whitespace` plus a join took 18% of
/// `text ingest` under perf (bench/text_ingest.sh): text whose only
/// whitespace is single spaces, most text nodes, is copied in one piece; the
/// rest goes through [`push_collapsed`].
fn push_text(out: &mut String, t: &str) {
    let bytes = t.as_bytes();
    let open = |out: &String| !out.is_empty() && !out.ends_with([' ', '\n']);
    if single_spaced(bytes) {
        // Most text nodes: copied in one piece.
        let core = t.trim_matches(' ');
        if t.starts_with(' ') && open(out) {
            out.push(' ');
        }
        out.push_str(core);
        if !core.is_empty() && t.ends_with(' ') {
            out.push(' ');
        }
    } else {
        push_collapsed(out, t);
    }
}

/// [`push_text`] for text with tabs, line breaks, runs of spaces or
/// non-ASCII spaces, through `split_whitespace`.
fn push_collapsed(out: &mut String, t: &str) {
    let open = |out: &String| !out.is_empty() && !out.ends_with([' ', '\n']);
    if t.starts_with(char::is_whitespace) && open(out) {
        out.push(' ');
    }
    let mut words = t.split_whitespace();
    if let Some(first) = words.next() {
        out.push_str(first);
        for w in words {
            out.push(' ');
            out.push_str(w);
        }
        if t.ends_with(char::is_whitespace) {
            out.push(' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_drops_boilerplate() {
        let html = r#"<!DOCTYPE html><html><head><title>Review &amp; more</title><script>var x = "<p>no</p>";</script>
            <style>p { color: red }</style></head><body><nav><a href="/">Home</a></nav>
            <article><h1>Summer Lights</h1><p>A <b>sunny</b>, breezy record.</p><p>It&rsquo;s great &#8212; really.</p>
            <ul><li>one</li><li>two</li></ul></article><footer>© 2024</footer></body></html>"#;
        let (title, text) = readable_text(html);
        assert_eq!(title.as_deref(), Some("Review & more"));
        assert_eq!(text, "Summer Lights\nA sunny, breezy record.\nIt’s great — really.\none\ntwo");
    }

    #[test]
    fn entities_next_to_multibyte_text_and_deep_nesting() {
        // Regression (issue 20): a byte index inside a CJK character panicked.
        let (_, text) = readable_text("<p>坂本龍一 &amp; 細野晴臣 &坂本龍一龍一龍一;</p>");
        assert_eq!(text, "坂本龍一 & 細野晴臣 &坂本龍一龍一龍一;");
        assert_eq!(decode_entities("&細野晴臣"), "&細野晴臣");
        // Regression (issue 20): 100,000 unclosed nested tags overflowed the stack.
        let deep = "<b><i>x ".repeat(100_000);
        let (_, text) = readable_text(&format!("<title>t</title>{deep}"));
        assert_eq!(text.split_whitespace().count(), 100_000);
    }

    #[test]
    fn whitespace_runs_become_one_space() {
        let mut out = String::new();
        push_text(&mut out, "  a\t\u{a0}b\u{3000}\u{2003}c  ");
        assert_eq!(out, "a b c ");
        push_text(&mut out, "   ");
        assert_eq!(out, "a b c ");
        push_text(&mut out, "d\u{85}é");
        assert_eq!(out, "a b c d é");
        // The one-piece path and the byte-by-byte path agree.
        for t in [" a b ", "a b", " ", "", "a  b", " a\tb ", "a\u{a0}b", "é è ", " ü"] {
            for start in ["", "x", "x "] {
                let (mut fast, mut slow) = (String::from(start), String::from(start));
                push_text(&mut fast, t);
                push_collapsed(&mut slow, t);
                assert_eq!(fast, slow, "{start:?} + {t:?}");
            }
        }
        let mut out = String::from("x");
        push_text(&mut out, " \n ");
        push_text(&mut out, "y");
        assert_eq!(out, "x y");
    }

    #[test]
    fn broken_html_still_gives_text() {
        let (_, text) = readable_text("<div><p>Unclosed <i>tags and <b>more text");
        assert!(text.contains("Unclosed tags and more text"), "{text}");
        assert_eq!(decode_entities("a &unknown; b &lt;c&gt; &#x41;"), "a &unknown; b <c> A");
    }
}
