//! Finding and reading `.mend` files: the CLI's side of the compiler's IO trait.

use mend_compiler::source::{SourceFile, SourceProvider, join_relative};
use std::path::{Path, PathBuf};

/// Files larger than this are refused: no playbook is 64 MiB, and reading one
/// would only exhaust memory.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// An error that ends the command with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expands the paths given on the command line: files as they are, directories
/// searched (recursively, symlinks to directories not followed) for `*.mend`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| UsageError(format!("cannot read `{}`: {}", p.display(), io_reason(&e))))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), UsageError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        UsageError(format!(
            "cannot read directory `{}`: {}",
            dir.display(),
            io_reason(&e)
        ))
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            UsageError(format!(
                "cannot read directory `{}`: {}",
                dir.display(),
                io_reason(&e)
            ))
        })?;
        let path = entry.path();
        // symlink_metadata: a link to a directory is not followed, so a loop of
        // links cannot make the walk endless.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "mend") && (ft.is_file() || path.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The path as shown in messages: relative to the current directory when under it.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Reads a file as UTF-8 text, with a clear error.
pub fn read(path: &Path) -> Result<SourceFile, UsageError> {
    let shown = display_path(path);
    let meta = std::fs::metadata(path)
        .map_err(|e| UsageError(format!("cannot read `{shown}`: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(UsageError(format!("`{shown}` is a directory")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(UsageError(format!(
            "`{shown}` is {} MiB; mend reads files up to 64 MiB",
            meta.len() >> 20
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read `{shown}`: {}", io_reason(&e))))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        UsageError(format!(
            "`{shown}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    // A byte-order mark is an editor's habit, not text.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    if let Some(pos) = text.find('\0') {
        return Err(UsageError(format!(
            "`{shown}` contains a NUL byte at offset {pos}: not a text file"
        )));
    }
    Ok(SourceFile::new(shown, text))
}

/// Reads many files on `threads` threads; the first error (in path order) wins.
pub fn read_all(paths: &[PathBuf], threads: usize) -> Result<Vec<SourceFile>, UsageError> {
    let chunk = paths.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<Result<SourceFile, UsageError>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|p| read(p)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.into_iter().collect()
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}

/// Imports read from the file system.
pub struct FsProvider;

impl SourceProvider for FsProvider {
    fn resolve(&self, from: &str, import: &str) -> String {
        join_relative(from, import)
    }

    fn load(&self, path: &str) -> Result<String, String> {
        read(Path::new(path)).map(|f| f.text).map_err(|e| {
            // the path is already in the compiler's message
            e.0.split(": ").last().unwrap_or(&e.0).to_string()
        })
    }
}
