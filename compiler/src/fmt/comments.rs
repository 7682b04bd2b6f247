//! Finding comments. The grammar drops them (`COMMENT` is silent), so the formatter
//! scans the source itself: `#` to the end of the line, outside strings.
//!
//! The scan agrees with the grammar exactly on every file that parses: strings are
//! the only tokens that can hold `#` or `"`, a string ends at an unescaped `"` (or, in
//! a file that would not parse, at an unescaped newline), and `\` escapes whatever
//! follows it, a newline included. The one rule that swallows raw text, an unknown
//! component property (`stor "x" # …`, kept so the checker can say "did you mean"),
//! is handed in as a region to skip: the formatter writes such a line back as it was,
//! comments included.

use mend_grammar::ast::{File, Item, PropertyKind, Span};

/// One comment: `#` up to the end of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comment {
    /// Offset of the `#`.
    pub(crate) start: usize,
    /// Offset of the end of the line (the `\n`, or the end of the file).
    pub(crate) end: usize,
    /// End of the text kept: trailing whitespace (a `\r` included) dropped.
    pub(crate) text_end: usize,
}

impl Comment {
    pub(crate) fn text(self, src: &str) -> &str {
        &src[self.start..self.text_end]
    }
}

/// The regions the scan must skip: the text of each unknown property, in order.
pub(crate) fn opaque_regions(src: &str, file: &File) -> Vec<Span> {
    let mut out = Vec::new();
    for item in &file.items {
        if let Item::Component(c) = item {
            out.extend(
                c.properties
                    .iter()
                    .filter(|p| matches!(p.kind, PropertyKind::Unknown(_)))
                    .map(|p| unknown_property(src, p.span)),
            );
        }
    }
    out
}

/// The whole text of an unknown property that starts where `span` does: the grammar
/// takes everything up to the end of the line or the next `}`, a `#` included, with
/// no regard for strings. Trailing whitespace is left out.
pub(crate) fn unknown_property(src: &str, span: Span) -> Span {
    let rest = src.get(span.start..).unwrap_or_default();
    let len = rest.find(['\n', '}']).unwrap_or(rest.len());
    Span::new(span.start, span.start + rest[..len].trim_end().len())
}

/// Every comment of `src` outside the `skip` regions (sorted, not overlapping), in
/// order. Linear in the length of the source.
pub(crate) fn scan(src: &str, skip: &[Span]) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut skip = skip.iter().peekable();
    let mut i = 0;
    while i < bytes.len() {
        while skip.peek().is_some_and(|s| s.end <= i) {
            skip.next();
        }
        if let Some(s) = skip.peek()
            && s.start <= i
        {
            i = s.end;
            continue;
        }
        match bytes[i] {
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                let mut text_end = i;
                while text_end > start && bytes[text_end - 1].is_ascii_whitespace() {
                    text_end -= 1;
                }
                out.push(Comment {
                    start,
                    end: i,
                    text_end,
                });
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        scan(src, &[]).into_iter().map(|c| c.text(src)).collect()
    }

    #[test]
    fn comments_outside_strings() {
        assert_eq!(
            texts("a \"x # y\" # z \r\n# w\nb \"\\\"#\" #v"),
            ["# z", "# w", "#v"]
        );
    }

    #[test]
    fn escaped_newline_stays_in_the_string() {
        assert_eq!(texts("\"a\\\n# no\" # yes"), ["# yes"]);
    }

    #[test]
    fn skipped_regions() {
        let src = "stor \"a\\\n kind x # kept\n";
        let skip = [Span::new(0, 8)];
        assert_eq!(
            scan(src, &skip)
                .into_iter()
                .map(|c| c.text(src))
                .collect::<Vec<_>>(),
            ["# kept"]
        );
    }
}
