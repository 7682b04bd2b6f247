//! SARIF 2.1.0, as GitHub code scanning reads it: every code as a rule (with its
//! page as help), every finding as a result at a path relative to the repository root
//! (`%SRCROOT%`, the current directory) with a 1-based region, secondary labels as
//! related locations, and a fingerprint that survives unrelated edits.
//! The document is checked against the OASIS schema in tests/it/ci_formats.rs.

use super::{Region, repo_relative, severity_name};
use mend_compiler::codes::{Category, CodeInfo};
use mend_compiler::{CODES, Compilation, Diagnostic, FileId};
use mend_grammar::ast::Span;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The OASIS schema of SARIF 2.1.0 (errata 01), the one vendored in tests/data/.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Where the tool is described. The workspace sets no `repository` yet: until it
/// does, the page of the CI integration is named by its path in the repository.
fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://mend.invalid/docs/ci.md",
        uri => uri,
    }
}

const BASE: &str = "%SRCROOT%";

pub fn document(c: &Compilation, cwd: &Path) -> Value {
    let rules: Vec<Value> = CODES.iter().map(rule).collect();
    let mut seen = HashMap::new();
    let results: Vec<Value> = c
        .diagnostics
        .iter()
        .map(|d| result(c, d, cwd, &mut seen))
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "mend",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": information_uri(),
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = file_uri(cwd, true) {
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

fn rule(info: &CodeInfo) -> Value {
    let category = match info.category {
        Category::Syntax => "syntax",
        Category::Names => "names",
        Category::Safety => "safety",
        Category::Order => "order",
        Category::Graph => "graph",
        Category::Hygiene => "hygiene",
        Category::Repository => "repository",
    };
    let mut tags = vec!["mend".to_string(), category.to_string()];
    tags.extend(
        info.guide
            .split(", ")
            .filter(|g| g.starts_with('§'))
            .map(|g| format!("guide {g}")),
    );
    json!({
        "id": info.code.as_str(),
        "name": info.name,
        "shortDescription": { "text": sentence(info.summary) },
        "fullDescription": { "text": what_it_does(info.doc) },
        "help": { "text": info.doc, "markdown": info.doc },
        "defaultConfiguration": { "level": severity_name(info.severity) },
        "properties": { "tags": tags, "precision": "very-high" },
    })
}

/// `store destroyed with no backup` → `Store destroyed with no backup.`
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The paragraph under `## What it does`, on one line.
fn what_it_does(doc: &str) -> String {
    let body = doc
        .split("## What it does")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or("");
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        doc.lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .to_string()
    } else {
        text
    }
}

fn result<'c>(
    c: &'c Compilation,
    d: &'c Diagnostic,
    cwd: &Path,
    seen: &mut HashMap<(String, &'static str, &'c str), usize>,
) -> Value {
    let index = CODES
        .iter()
        .position(|i| i.code == d.code)
        .expect("every code is a rule");
    let primary = d.labels.iter().find(|l| l.primary);
    let mut location = physical(c, d.file, d.span(), cwd);
    if let Some(l) = primary {
        location["message"] = json!({ "text": l.message });
    }
    let related: Vec<Value> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .enumerate()
        .map(|(i, l)| {
            let mut loc = physical(c, l.file, l.span, cwd);
            loc["id"] = json!(i + 1);
            loc["message"] = json!({ "text": l.message });
            loc
        })
        .collect();
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(h);
    }
    for n in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(n);
    }
    // Stable across edits elsewhere in the file: the code, the path and the message,
    // and which of several identical findings in one file this is.
    let path = c.sources.get(d.file).path.clone();
    let n = seen
        .entry((path.clone(), d.code.as_str(), d.message.as_str()))
        .or_insert(0);
    *n += 1;
    let fingerprint = format!(
        "{:016x}:{n}",
        fnv1a(&[d.code.as_str(), &path, &d.message].join("\u{0}"))
    );
    let mut out = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": index,
        "level": severity_name(d.severity),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { "mendFingerprint/v1": fingerprint },
    });
    if !related.is_empty() {
        out["relatedLocations"] = json!(related);
    }
    out
}

fn physical(c: &Compilation, file: FileId, span: Span, cwd: &Path) -> Value {
    let f = c.sources.get(file);
    let r = Region::of(f, span);
    let artifact = match repo_relative(&f.path, cwd) {
        Some(rel) => json!({ "uri": percent_encode(&rel), "uriBaseId": BASE }),
        None => {
            let abs = cwd.join(&f.path);
            json!({ "uri": file_uri(&abs, false).unwrap_or_else(|| percent_encode(&f.path)) })
        }
    };
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": r.line,
                "startColumn": r.column,
                "endLine": r.end_line,
                "endColumn": r.end_column,
            }
        }
    })
}

/// `file:///abs/path` (with a final `/` for a directory), or `None` for a path that
/// is not absolute.
fn file_uri(path: &Path, dir: bool) -> Option<String> {
    if !path.is_absolute() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let mut uri = format!("file:///{}", percent_encode(&parts.join("/")));
    if dir && !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

/// Percent-encodes what a URI path may not hold as it is: everything but letters,
/// digits, `-._~/` and `!$&'()*+,;=@` (`:` too, so a first segment never reads as a
/// scheme).
pub fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 64-bit FNV-1a: stable across platforms and Rust versions, unlike `DefaultHasher`.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_paths_readable() {
        assert_eq!(percent_encode("a/b c,d.mend"), "a/b%20c,d.mend");
        assert_eq!(percent_encode("100%/x:y#z?"), "100%25/x%3Ay%23z%3F");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn file_uris_are_absolute() {
        assert_eq!(
            file_uri(Path::new("/work/my repo"), true).as_deref(),
            Some("file:///work/my%20repo/")
        );
        assert_eq!(file_uri(Path::new("rel"), true), None);
    }

    #[test]
    fn what_it_does_is_the_first_section() {
        let doc = "# E1: x\n\n## What it does\nReports a\nthing.\n\n## Why is this bad?\nBecause.";
        assert_eq!(what_it_does(doc), "Reports a thing.");
        assert_eq!(sentence("store destroyed"), "Store destroyed.");
    }

    #[test]
    fn fnv_is_the_reference_function() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
