//! Readable text from HTML.
//!
//! Drops scripts, styles, navigation, headers, footers, asides, forms and
//! other boilerplate; keeps headings, paragraphs, list items and table
//! cells, each on its own line, so sentence splitting sees the blocks.
//! Broken HTML is parsed as far as it goes (the `tl` parser is lenient).

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

/// Decodes the character references that matter in running text.
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
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
    out
}

/// `(title, text)` of an HTML page.
pub fn readable_text(html: &str) -> (Option<String>, String) {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return (None, String::new());
    };
    let parser = dom.parser();
    let mut title = None;
    let mut out = String::new();
    walk(dom.children(), parser, &mut title, &mut out);
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
fn walk(top: &[tl::NodeHandle], parser: &tl::Parser<'_>, title: &mut Option<String>, out: &mut String) {
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
                let name = tag.name().as_utf8_str().to_ascii_lowercase();
                if name == "title" {
                    let t = decode_entities(text_of(h, parser).trim());
                    if title.is_none() && !t.is_empty() {
                        *title = Some(t);
                    }
                    continue;
                }
                if SKIP.contains(&name.as_str()) {
                    continue;
                }
                if BLOCK.contains(&name.as_str()) {
                    out.push('\n');
                    stack.push(Step::Leave);
                }
                let children: Vec<tl::NodeHandle> = tag.children().top().iter().copied().collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
            tl::Node::Raw(b) => push_text(out, &decode_entities(&b.as_utf8_str())),
            tl::Node::Comment(_) => {}
        }
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

fn push_text(out: &mut String, t: &str) {
    if t.trim().is_empty() {
        if !out.ends_with([' ', '\n']) && !out.is_empty() && t.contains(char::is_whitespace) {
            out.push(' ');
        }
        return;
    }
    if t.starts_with(char::is_whitespace) && !out.ends_with([' ', '\n']) && !out.is_empty() {
        out.push(' ');
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    out.push_str(&words.join(" "));
    if t.ends_with(char::is_whitespace) {
        out.push(' ');
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
    fn broken_html_still_gives_text() {
        let (_, text) = readable_text("<div><p>Unclosed <i>tags and <b>more text");
        assert!(text.contains("Unclosed tags and more text"), "{text}");
        assert_eq!(decode_entities("a &unknown; b &lt;c&gt; &#x41;"), "a &unknown; b <c> A");
    }
}
