//! GitHub Actions workflow annotations, one line per finding:
//! `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=T::MSG` (`::warning` for
//! a warning). The runner turns each into an annotation on the line of the diff.
//!
//! Escaping (as the runner's own toolkit does it): in the message, `%` → `%25`,
//! CR → `%0D`, LF → `%0A`; in a property value, also `:` → `%3A` and `,` → `%2C`.

use super::escape::{escape_data, escape_property};
use super::{Region, repo_relative};
use mend_compiler::{Compilation, Diagnostic, Severity};
use std::path::Path;

pub fn annotation(c: &Compilation, d: &Diagnostic, cwd: &Path) -> String {
    let f = c.sources.get(d.file);
    let span = d.span();
    let r = Region::of(f, span);
    let (end_line, end_column) = Region::inclusive_end(f, span);
    let path = repo_relative(&f.path, cwd).unwrap_or_else(|| f.path.clone());
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let title = format!("{} ({})", d.code, d.code.info().name);
    let mut message = d.message.clone();
    for l in d.labels.iter().filter(|l| !l.primary) {
        let lf = c.sources.get(l.file);
        let (line, col) = lf.line_col(l.span.start);
        let lpath = repo_relative(&lf.path, cwd).unwrap_or_else(|| lf.path.clone());
        message.push_str(&format!("\n{lpath}:{line}:{col}: {}", l.message));
    }
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    for n in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(n);
    }
    format!(
        "::{command} file={},line={},col={},endLine={end_line},endColumn={end_column},title={}::{}",
        escape_property(&path),
        r.line,
        r.column,
        escape_property(&title),
        escape_data(&message),
    )
}
