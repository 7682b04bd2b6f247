//! Helpers shared by the integration tests: a file-system [`SourceProvider`] rooted at
//! the repository, header expectations (`# expect: E0202`), and the snapshot text that
//! shows a source and its rendered diagnostics together.

use mend_compiler::render::{Style, render};
use mend_compiler::source::join_relative;
use mend_compiler::{Code, Compilation, SourceFile, SourceProvider, check};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How diagnostics are drawn in snapshots: no colour, a fixed width.
pub(crate) const STYLE: Style = Style {
    color: false,
    width: 80,
};

/// The repository root (the workspace), whatever directory the tests run from.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Reads files under the repository root. Paths are relative to the root, with `/`,
/// so that messages and snapshots are the same on every machine; imports are
/// resolved relative to the importing file, as the CLI does.
pub(crate) struct RepoProvider {
    root: PathBuf,
}

impl RepoProvider {
    pub(crate) fn new() -> Self {
        RepoProvider { root: repo_root() }
    }
}

impl SourceProvider for RepoProvider {
    fn resolve(&self, from: &str, import: &str) -> String {
        join_relative(from, import)
    }

    fn load(&self, path: &str) -> Result<String, String> {
        let bytes = std::fs::read(self.root.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        })?;
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
    }
}

/// `path` (absolute, as `insta::glob!` hands it) relative to the repository root.
pub(crate) fn rel_path(path: &Path) -> String {
    let root = repo_root().canonicalize().expect("repository root");
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or_else(|_| panic!("{} is not under {}", path.display(), root.display()))
        .to_string_lossy()
        .replace('\\', "/")
}

/// The text of a repository file, by its path relative to the root.
pub(crate) fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Checks one file of the repository (and what it imports) as `mend check FILE` would.
pub(crate) fn check_file(rel: &str) -> Compilation {
    check(vec![SourceFile::new(rel, read(rel))], &RepoProvider::new())
}

/// Every `.mend` file under `dir` (relative to the root), recursively, sorted, as
/// root-relative paths with `/`.
pub(crate) fn mend_files(dir: &str) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "mend") {
                let rel = path.strip_prefix(root).expect("under the root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = repo_root();
    let mut out = Vec::new();
    walk(&root, &root.join(dir), &mut out);
    out.sort();
    out
}

/// The codes a compilation reported, once each.
pub(crate) fn codes(c: &Compilation) -> BTreeSet<Code> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

/// What a fixture's first line says it must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expect {
    Clean,
    Codes(BTreeSet<Code>),
}

impl Expect {
    /// The set of codes this expectation allows (empty for `clean`).
    pub(crate) fn codes(&self) -> BTreeSet<Code> {
        match self {
            Expect::Clean => BTreeSet::new(),
            Expect::Codes(c) => c.clone(),
        }
    }
}

/// The words after `# expect:` on line 1, or an error saying what is wrong.
pub(crate) fn header_words(text: &str) -> Result<Vec<&str>, String> {
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("# expect:")
        .ok_or_else(|| format!("line 1 is not `# expect: …`: {first:?}"))?;
    let words: Vec<&str> = rest.split([',', ' ']).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Err("`# expect:` names nothing".into());
    }
    Ok(words)
}

/// Parses the header `# expect: clean`, `# expect: E0202` or `# expect: E0110, E0104`
/// (codes or rule names, as `Code::parse` takes them).
pub(crate) fn expectation(text: &str) -> Result<Expect, String> {
    let words = header_words(text)?;
    if words == ["clean"] {
        return Ok(Expect::Clean);
    }
    words
        .iter()
        .map(|w| Code::parse(w).ok_or_else(|| format!("`{w}` is not a code nor a rule name")))
        .collect::<Result<BTreeSet<_>, _>>()
        .map(Expect::Codes)
}

/// Formats a set of codes for messages: `{E0110, E0104}` or `clean`.
pub(crate) fn show(codes: &BTreeSet<Code>) -> String {
    if codes.is_empty() {
        "clean".into()
    } else {
        let v: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        v.join(", ")
    }
}

/// The snapshot of a checked file: its source, a separator, then every diagnostic as
/// `mend check` draws it (no colour, 80 columns, paths relative to the repository).
pub(crate) fn snapshot_text(root: &str, c: &Compilation) -> String {
    let id = c
        .sources
        .lookup(root)
        .unwrap_or_else(|| panic!("{root} is not in the compilation"));
    let mut out = c.sources.get(id).text.clone();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let n = c.diagnostics.len();
    out.push_str(&match n {
        0 => "=== no diagnostics ===\n".to_string(),
        1 => "=== 1 diagnostic ===\n".to_string(),
        n => format!("=== {n} diagnostics ===\n"),
    });
    for d in &c.diagnostics {
        let drawn = render(d, &c.sources, STYLE);
        assert!(
            !drawn.contains('\u{1b}'),
            "a diagnostic drawn without colour holds an escape"
        );
        out.push_str(drawn.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// Checks `rel` and returns the failure message when its header expectation does not
/// hold, `None` when it does.
pub(crate) fn header_failure(rel: &str) -> Option<String> {
    let text = read(rel);
    let expected = match expectation(&text) {
        Ok(e) => e.codes(),
        Err(why) => return Some(format!("{rel}: {why}")),
    };
    let c = check_file(rel);
    let got = codes(&c);
    (got != expected).then(|| {
        let lines: Vec<String> = c
            .diagnostics
            .iter()
            .map(|d| format!("    {}", mend_compiler::render::short(d, &c.sources)))
            .collect();
        format!(
            "{rel}: expected {}, got {}\n{}",
            show(&expected),
            show(&got),
            lines.join("\n")
        )
    })
}

/// The `mend` binary: `MEND_BIN`, else the newest of `target/{debug,release}/mend`
/// (build it with `cargo build -p mend-cli`; `scripts/test` does).
pub(crate) fn mend_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MEND_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                repo_root().join(t)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"));
    let exe = format!("mend{}", std::env::consts::EXE_SUFFIX);
    ["debug", "release"]
        .iter()
        .map(|profile| target.join(profile).join(&exe))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!(
                "no mend binary in {}/{{debug,release}}: run `cargo build -p mend-cli` before these tests",
                target.display()
            )
        })
}
