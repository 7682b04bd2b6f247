//! Drawing diagnostics as text: rustc-like reports through miette, and the short
//! one-line form (`file:line:col: error[E0202]: message`) for problem matchers.
//! Drawing is pure: it returns strings.

use crate::codes::Severity;
use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// A diagnostic with its source, as miette wants it.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

/// The headline reads like rustc's: `error[E0202]: message`.
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_related() {
            // a label in another file: no second headline
            return write!(f, "see `{}`", self.source.name());
        }
        let sev = match self.diag.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}", self.diag.code, self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Report<'_> {
    /// A label in another file, drawn under the main report.
    fn is_related(&self) -> bool {
        !self.labels.is_empty()
            && self.labels.iter().all(|l| !l.primary())
            && self.related.is_empty()
    }
}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        if self.is_related() {
            return Some(miette::Severity::Advice);
        }
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.is_related() {
            return None;
        }
        let mut text = self.diag.help.clone().unwrap_or_default();
        for n in &self.diag.notes {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str("note: ");
            text.push_str(n);
        }
        if text.is_empty() {
            None
        } else {
            Some(Box::new(text))
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn span(s: mend_grammar::ast::Span) -> SourceSpan {
    SourceSpan::new(s.start.into(), s.len())
}

/// The rustc-like report of one diagnostic.
pub fn render(diag: &Diagnostic, sources: &SourceMap, style: Style) -> String {
    let file = sources.get(diag.file);
    // miette pads with widths that must fit in a u16; a line that long cannot be
    // drawn usefully anyway.
    let line_too_long = diag.labels.iter().any(|l| {
        let text = &sources.get(l.file).text;
        let start = text[..l.span.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = text[l.span.end.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| l.span.end + i);
        end - start > 4096
    });
    if line_too_long {
        return format!("{} (the line is too long to draw)", short(diag, sources));
    }
    let labels = diag
        .labels
        .iter()
        .filter(|l| l.file == diag.file)
        .map(|l| {
            if l.primary {
                LabeledSpan::new_primary_with_span(Some(l.message.clone()), span(l.span))
            } else {
                LabeledSpan::new_with_span(Some(l.message.clone()), span(l.span))
            }
        })
        .collect();
    // Labels in other files (a procedure in an import) are drawn as related notes.
    let related = diag
        .labels
        .iter()
        .filter(|l| l.file != diag.file)
        .map(|l| Report {
            diag,
            source: NamedSource::new(
                sources.get(l.file).path.clone(),
                sources.get(l.file).text.clone(),
            ),
            labels: vec![LabeledSpan::new_with_span(
                Some(l.message.clone()),
                span(l.span),
            )],
            related: Vec::new(),
        })
        .collect();
    let report = Report {
        diag,
        source: NamedSource::new(file.path.clone(), file.text.clone()).with_language("mend"),
        labels,
        related,
    };
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = short(diag, sources);
    }
    out
}

/// `path:line:col: error[E0202]: message`: one line, for problem matchers and grep.
pub fn short(diag: &Diagnostic, sources: &SourceMap) -> String {
    let file = sources.get(diag.file);
    let (line, col) = file.line_col(diag.span().start);
    let sev = match diag.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{}:{line}:{col}: {sev}[{}]: {}",
        file.path, diag.code, diag.message
    )
}
