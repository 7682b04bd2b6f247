//! Writing a compilation's findings: `human` (rustc-like, on stderr), `short`
//! (one line each), `json` (the schema in docs/ci.md).

use mend_compiler::render::{self, Style};
use mend_compiler::{Compilation, Severity};
use serde_json::json;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-like reports with source and carets, on stderr
    Human,
    /// one line per finding: `file:line:col: error[CODE]: message`
    Short,
    /// a JSON document on stdout (schema in docs/ci.md)
    Json,
}

pub fn emit(c: &Compilation, files_checked: usize, format: Format, color: bool) {
    let errors = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = c.diagnostics.len() - errors;
    match format {
        Format::Human => {
            let mut err = std::io::stderr().lock();
            let style = Style { color, width: 100 };
            for d in &c.diagnostics {
                let _ = writeln!(err, "{}", render::render(d, &c.sources, style));
            }
            let _ = writeln!(err, "{}", summary(files_checked, errors, warnings));
        }
        Format::Short => {
            let mut out = std::io::stdout().lock();
            for d in &c.diagnostics {
                let _ = writeln!(out, "{}", render::short(d, &c.sources));
            }
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                summary(files_checked, errors, warnings)
            );
        }
        Format::Json => {
            let diags: Vec<_> = c
                .diagnostics
                .iter()
                .map(|d| json_diagnostic(c, d))
                .collect();
            let doc = json!({
                "version": 1,
                "tool": { "name": "mend", "version": env!("CARGO_PKG_VERSION") },
                "files_checked": files_checked,
                "summary": { "errors": errors, "warnings": warnings },
                "diagnostics": diags,
            });
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
    }
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    format!(
        "checked {}: {}, {}",
        plural(files, "file"),
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

pub fn json_diagnostic(c: &Compilation, d: &mend_compiler::Diagnostic) -> serde_json::Value {
    let pos = |file: mend_compiler::FileId, span: mend_grammar::ast::Span| {
        let f = c.sources.get(file);
        let (line, column) = f.line_col(span.start);
        let (end_line, end_column) = f.line_col(span.end);
        json!({
            "file": f.path, "line": line, "column": column,
            "end_line": end_line, "end_column": end_column,
            "start": span.start, "end": span.end,
        })
    };
    let labels: Vec<_> = d
        .labels
        .iter()
        .map(|l| json!({ "message": l.message, "primary": l.primary, "location": pos(l.file, l.span) }))
        .collect();
    json!({
        "code": d.code.as_str(),
        "name": d.code.info().name,
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": d.message,
        "location": pos(d.file, d.span()),
        "labels": labels,
        "help": d.help,
        "notes": d.notes,
    })
}
