//! Writing a compilation's findings: `human` (rustc-like, on stderr), `short`
//! (one line each), `json` (the schema in docs/ci.md), `sarif` (SARIF 2.1.0 for
//! GitHub code scanning) and `github` (workflow annotations).
//!
//! Every format but `human` writes its findings on stdout and a one-line summary on
//! stderr, so that `> file` keeps only the findings.

mod escape;
mod github;
mod sarif;

use mend_compiler::render::{self, Style};
use mend_compiler::source::SourceFile;
use mend_compiler::{Compilation, Diagnostic, Severity};
use mend_grammar::ast::Span;
use serde_json::json;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-like reports with source and carets, on stderr
    Human,
    /// one line per finding: `file:line:col: error[CODE]: message`
    Short,
    /// a JSON document on stdout (schema in docs/ci.md)
    Json,
    /// SARIF 2.1.0 on stdout, for GitHub code scanning (docs/ci.md)
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=…`) on stdout
    Github,
}

/// What the writers need besides the compilation.
pub struct Context<'a> {
    pub files_checked: usize,
    pub color: bool,
    /// The repository root: SARIF and annotation paths are relative to it.
    pub cwd: &'a Path,
}

pub fn emit(c: &Compilation, format: Format, cx: &Context<'_>) {
    let errors = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = c.diagnostics.len() - errors;
    let summary = summary(cx.files_checked, errors, warnings);
    let mut out = std::io::stdout().lock();
    match format {
        Format::Human => {
            let mut err = std::io::stderr().lock();
            let style = Style {
                color: cx.color,
                width: 100,
            };
            for d in &c.diagnostics {
                let _ = writeln!(err, "{}", render::render(d, &c.sources, style));
            }
            let _ = writeln!(err, "{summary}");
            return;
        }
        Format::Short => {
            for d in &c.diagnostics {
                let _ = writeln!(out, "{}", render::short(d, &c.sources));
            }
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
                "files_checked": cx.files_checked,
                "summary": { "errors": errors, "warnings": warnings },
                "diagnostics": diags,
            });
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
        Format::Sarif => {
            let doc = sarif::document(c, cx.cwd);
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
        Format::Github => {
            for d in &c.diagnostics {
                let _ = writeln!(out, "{}", github::annotation(c, d, cx.cwd));
            }
        }
    }
    let _ = out.flush();
    let _ = writeln!(std::io::stderr(), "{summary}");
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

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

pub fn json_diagnostic(c: &Compilation, d: &Diagnostic) -> serde_json::Value {
    let pos = |file: mend_compiler::FileId, span: Span| {
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
        "severity": severity_name(d.severity),
        "message": d.message,
        "location": pos(d.file, d.span()),
        "labels": labels,
        "help": d.help,
        "notes": d.notes,
    })
}

/// A 1-based region: start line and column, and the end as SARIF counts it (the
/// column just after the last character); columns count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Region {
    pub fn of(file: &SourceFile, span: Span) -> Region {
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end.max(span.start));
        Region {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// The end as GitHub annotations count it: the line and column of the last
    /// character (inclusive), never before the start.
    pub fn inclusive_end(file: &SourceFile, span: Span) -> (usize, usize) {
        let start = file.line_col(span.start);
        let last = file
            .text
            .get(span.start..span.end.min(file.text.len()))
            .and_then(|s| {
                // a span that ends with its line break ends on that line
                let s = s.strip_suffix('\n').unwrap_or(s);
                s.char_indices().last().map(|(i, _)| span.start + i)
            });
        last.map_or(start, |i| file.line_col(i)).max(start)
    }
}

/// The path of a source as the repository sees it: relative to `cwd` with `/`, when
/// it is under `cwd`; `None` when it is outside (or cannot be made relative).
pub fn repo_relative(path: &str, cwd: &Path) -> Option<String> {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        p.strip_prefix(cwd)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/")
    } else {
        path.replace('\\', "/")
    };
    let rel = rel.trim_start_matches("./").to_string();
    if rel.split('/').any(|c| c == "..") || rel.is_empty() {
        return None;
    }
    Some(rel)
}
