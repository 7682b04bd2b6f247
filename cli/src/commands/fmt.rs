//! `mend fmt [--check] PATH…`: rewrites files in the one canonical layout
//! (`mend_compiler::fmt` says what it is), or with `--check` shows what would change.
//!
//! Exit codes:
//! - 0: every file is formatted (without `--check`: was formatted, or is now);
//! - 1: with `--check`, a file is not formatted (its diff is on stdout); in both modes,
//!   a file does not parse: its syntax errors are reported as `mend check` reports
//!   them, and the file is left alone;
//! - 2: usage or IO error (a missing path, an unreadable or non-UTF-8 file: nothing is
//!   written then), a file that could not be written, or a file the formatter could not
//!   lay out without changing it (a bug in mend; the file is left alone).
//!
//! Diffs go to stdout, everything else to stderr. A file is rewritten by writing a
//! temporary file next to it and renaming it over the original, so an interrupted run
//! leaves either the old text or the new, never a mix.

use crate::files::{self, UsageError};
use mend_compiler::fmt::{self, FmtError};
use mend_compiler::render::{self, Style};
use mend_compiler::source::{SourceFile, SourceMap};
use mend_grammar::SyntaxError;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub fn run(paths: &[PathBuf], check: bool, color: bool) -> Result<i32, UsageError> {
    let found = files::discover(paths)?;
    if found.is_empty() {
        return Err(UsageError(format!(
            "no `.mend` files in {}",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Everything is read before anything is written: an unreadable file stops the
    // command with nothing changed.
    let mut sources = Vec::with_capacity(found.len());
    for p in &found {
        sources.push(files::read(p)?);
    }
    let diff_color = color && std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let (mut changed, mut unparsable, mut failed) = (0usize, 0usize, 0usize);
    for (path, file) in found.iter().zip(&sources) {
        match fmt::format(&file.text) {
            Ok(out) if out == file.text => {}
            Ok(out) => {
                if check {
                    changed += 1;
                    let diff = fmt::unified_diff(&file.path, &file.text, &out);
                    let _ = stdout.write_all(paint(&diff, diff_color).as_bytes());
                } else {
                    match write_in_place(path, &out) {
                        Ok(()) => {
                            changed += 1;
                            eprintln!("reformatted {}", file.path);
                        }
                        Err(why) => {
                            failed += 1;
                            eprintln!("error: cannot write `{}`: {why}", file.path);
                        }
                    }
                }
            }
            Err(FmtError::Syntax(errors)) => {
                unparsable += 1;
                report(file, &errors, color);
            }
            Err(FmtError::Unstable(why)) => {
                failed += 1;
                eprintln!(
                    "error: cannot format `{}`: {why}; the file is left as it is \
                     (this is a bug in `mend fmt`: please report it with the file)",
                    file.path
                );
            }
        }
    }
    let _ = stdout.flush();
    eprintln!(
        "{}",
        summary(found.len(), changed, unparsable, failed, check)
    );
    Ok(if failed > 0 {
        2
    } else {
        i32::from(unparsable > 0 || (check && changed > 0))
    })
}

fn summary(total: usize, changed: usize, unparsable: usize, failed: usize, check: bool) -> String {
    let files = |n: usize| {
        if n == 1 {
            "1 file".to_string()
        } else {
            format!("{n} files")
        }
    };
    let untouched = total - changed - unparsable - failed;
    let mut parts = vec![if check {
        format!("{} would be reformatted", files(changed))
    } else {
        format!("{} reformatted", files(changed))
    }];
    parts.push(format!("{} already formatted", files(untouched)));
    if unparsable > 0 {
        parts.push(format!(
            "{} with syntax errors left alone",
            files(unparsable)
        ));
    }
    if failed > 0 {
        parts.push(format!(
            "{} not formatted because of an error",
            files(failed)
        ));
    }
    parts.join(", ")
}

/// The syntax errors of a file, drawn as `mend check` draws them.
fn report(file: &SourceFile, errors: &[SyntaxError], color: bool) {
    let mut sources = SourceMap::default();
    let id = sources.add(file.clone());
    let style = Style { color, width: 100 };
    let mut err = std::io::stderr().lock();
    for d in fmt::syntax_diagnostics(id, errors) {
        let _ = writeln!(err, "{}", render::render(&d, &sources, style));
    }
}

/// Replaces the file's text: a temporary file in the same directory, then a rename.
/// A symbolic link is followed: the file it points at is rewritten, the link kept.
fn write_in_place(path: &Path, text: &str) -> Result<(), String> {
    let target = std::fs::canonicalize(path).map_err(|e| files::io_reason(&e))?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let permissions = std::fs::metadata(&target)
        .map_err(|e| files::io_reason(&e))?
        .permissions();
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(
            ".{name}.mend-fmt-{}-{attempt}.tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(files::io_reason(&e)),
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::set_permissions(&tmp, permissions))
        .and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(files::io_reason(&e));
    }
    Ok(())
}

/// Colours the diff of one file for a terminal: its two header lines bold, hunks cyan, removals red, additions
/// green.
fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for (i, line) in diff.lines().enumerate() {
        let code = if i < 2 {
            "1"
        } else if line.starts_with("@@") {
            "36"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with('+') {
            "32"
        } else {
            ""
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&format!("\x1b[{code}m{line}\x1b[0m"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_in_place_keeping_permissions_and_links() {
        let dir = std::env::temp_dir().join(format!("mend-fmt-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.mend");
        std::fs::write(&file, "on f(c) <a;b>").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
            std::os::unix::fs::symlink("a.mend", dir.join("link.mend")).unwrap();
            write_in_place(&dir.join("link.mend"), "new\n").unwrap();
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
            assert!(
                std::fs::symlink_metadata(dir.join("link.mend"))
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
        #[cfg(not(unix))]
        write_in_place(&file, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
        // no temporary file left behind
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn summaries() {
        assert_eq!(
            summary(3, 1, 0, 0, true),
            "1 file would be reformatted, 2 files already formatted"
        );
        assert_eq!(
            summary(4, 2, 1, 1, false),
            "2 files reformatted, 0 files already formatted, 1 file with syntax errors left \
             alone, 1 file not formatted because of an error"
        );
    }

    #[test]
    fn paint_only_in_colour() {
        let diff = "--- a\n+++ a (formatted)\n@@ -1 +1 @@\n-x\n+y\n";
        assert_eq!(paint(diff, false), diff);
        assert!(paint(diff, true).contains("\x1b[31m-x\x1b[0m"));
    }
}
