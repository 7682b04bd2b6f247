//! `mend fmt`: the one canonical layout of a mend file. Pure: text in, text out.
//!
//! The layout:
//! - two spaces of indentation; a file ends with one newline; no trailing spaces;
//! - top-level items separated by one blank line (two imports in a row may stay
//!   together: a blank line between them is kept only if the source has one);
//! - a component's properties one per line; `role zk "…" f { 0 => master, 1 => slave }`
//!   on one line; an unknown property is written back as it was (so the checker can
//!   still point at it);
//! - a playbook's or procedure's block always one step per line, `;` after every step
//!   but the last; a block with no step and no comment is `<>`;
//! - a block inside a step (`each … < >`, `when … < > else < >`, `try`, an arm's block,
//!   a block step) is written on one line, `< a; b >`, when it has at most three steps,
//!   each an action, `call`, `ask`, `escalate` or `accept loss` without `@allow`, no
//!   comment inside and no blank line between its steps, and the whole line (indentation,
//!   `;` or `,` included, a trailing comment not counted) fits in [`WIDTH`] columns;
//!   otherwise every block of that step is written one step per line;
//! - `a & b & c` on one line when it fits (and no comment or blank line separates two of
//!   its steps), else one step per line with `&` leading;
//! - `match` arms one per line, each with a trailing comma; `=>` with one space on
//!   each side;
//! - `@allow(CODE, "reason")` on a line of its own above its step; modifiers after the
//!   step in source order;
//! - strings as written (never re-escaped), numbers and durations as written.
//!
//! Comments are kept, in order. A comment on a line of its own stays on a line of its
//! own, above the element that follows it (or at the end of its block); a comment after
//! code stays after that code's line, two spaces away (after its `;` or `,`). A comment
//! written inside code that the layout joins into one line goes on a line of its own
//! above that line. Blank lines between elements are kept, at most one in a row.
//!
//! The result is checked before it is returned: it must parse to the same tree (spans
//! aside) and hold the same comments in the same order. If it does not, that is a bug
//! here, reported as [`FmtError::Unstable`], and the caller leaves the file alone.

mod comments;
mod diff;
mod printer;
mod same;

pub use diff::unified_diff;
pub use same::{same_tree, without_spans};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use mend_grammar::{SyntaxError, SyntaxErrorKind, parse};

/// The column a line may reach when blocks or `&` groups are joined into one line
/// (longer lines are left long: a string is never split).
pub const WIDTH: usize = 90;

/// Why a file could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FmtError {
    /// The file does not parse, or parses only with errors (a block in `{ }`): the
    /// same errors `mend check` reports.
    Syntax(Vec<SyntaxError>),
    /// The layout would change what the file says or lose a comment: a bug in the
    /// formatter, never the file's fault.
    Unstable(String),
}

/// The canonical text of `source`.
pub fn format(source: &str) -> Result<String, FmtError> {
    let parsed = parse(source);
    let file = match parsed.file {
        Some(f) if parsed.errors.is_empty() => f,
        _ => return Err(FmtError::Syntax(parsed.errors)),
    };
    let comments = comments::scan(source, &comments::opaque_regions(source, &file));
    let out = printer::print(source, &file, &comments);

    // The output must say the same thing.
    let again = parse(&out);
    let Some(out_file) = again.file.filter(|_| again.errors.is_empty()) else {
        let why = again.errors.first().map_or_else(String::new, |e| {
            format!(": {} at byte {}", e.message, e.span.start)
        });
        return Err(FmtError::Unstable(format!(
            "the formatted text does not parse{why}"
        )));
    };
    if !same_tree(&file, &out_file) {
        return Err(FmtError::Unstable(
            "the formatted text parses to a different playbook".into(),
        ));
    }
    let out_comments = comments::scan(&out, &comments::opaque_regions(&out, &out_file));
    let before = comments.iter().map(|c| c.text(source));
    let after = out_comments.iter().map(|c| c.text(&out));
    if comments.len() != out_comments.len() || !before.eq(after) {
        return Err(FmtError::Unstable(
            "the formatted text would lose or reorder a comment".into(),
        ));
    }
    Ok(out)
}

/// The texts of the comments of `source` (each `#` to the end of its line, trailing
/// whitespace dropped), in order, as the formatter sees them; `None` if it does not
/// parse. Comments inside an unknown property are part of it and not listed.
pub fn comment_texts(source: &str) -> Option<Vec<String>> {
    let file = parse(source).file?;
    let found = comments::scan(source, &comments::opaque_regions(source, &file));
    Some(found.iter().map(|c| c.text(source).to_string()).collect())
}

/// Syntax errors as the diagnostics `mend check` reports for them.
pub fn syntax_diagnostics(file: FileId, errors: &[SyntaxError]) -> Vec<Diagnostic> {
    errors
        .iter()
        .map(|e| {
            let code = match e.kind {
                SyntaxErrorKind::Unexpected => Code::E0001,
                SyntaxErrorKind::BraceBlock => Code::E0002,
                SyntaxErrorKind::TooDeep => Code::E0003,
            };
            let mut d = Diagnostic::new(code, file, e.message.clone()).primary(e.span, &e.label);
            if let Some(h) = &e.help {
                d = d.help(h.clone());
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        match format(src) {
            Ok(s) => s,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn playbook_layout() {
        let src =
            "on host_down(mq_broker) < backup store from self; recreate same_ip; start; verify >";
        assert_eq!(
            fmt(src),
            "on host_down(mq_broker) <\n  backup store from self;\n  recreate same_ip;\n  start;\n  verify\n>\n"
        );
    }

    #[test]
    fn comments_kept() {
        let src =
            "# head\n\non f(c) < # opener\n  a; # one\n  # lead\n  b\n  # end\n> # after\n# tail\n";
        assert_eq!(
            fmt(src),
            "# head\n\non f(c) <  # opener\n  a;  # one\n  # lead\n  b\n  # end\n>  # after\n# tail\n"
        );
    }

    #[test]
    fn flat_fan_out() {
        let src = "on f(c) < each x on host <\n restart ;\n probe > limit 8 >";
        assert_eq!(
            fmt(src),
            "on f(c) <\n  each x on host < restart; probe > limit 8\n>\n"
        );
    }

    #[test]
    fn syntax_error() {
        assert!(matches!(format("on f(c) < a"), Err(FmtError::Syntax(_))));
        assert!(matches!(format("on f(c) { a }"), Err(FmtError::Syntax(_))));
    }

    #[test]
    fn empty() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("  \n\n"), "");
        assert_eq!(fmt("# only\n\n\n# two"), "# only\n\n# two\n");
    }
}
