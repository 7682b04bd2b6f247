//! `mend check PATH…`: parse, resolve and check; report; exit 0 clean, 1 findings,
//! 2 usage, configuration or IO error.
//!
//! `mend.toml`'s `[lint]` (see `config.rs`) chooses which files a directory
//! contributes (`include`, `exclude`; a file named on the command line is always
//! checked) and the level of each rule (`error`, `warning`, `off`).

use crate::config::Config;
use crate::files::{self, FsProvider, UsageError};
use crate::output::{self, Format};
use mend_compiler::{CheckOptions, Severity, check_with};
use std::path::PathBuf;

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub color: bool,
    pub exit_zero: bool,
    pub deny_warnings: bool,
    pub config: Option<PathBuf>,
}

pub fn run(opts: &Options) -> Result<i32, UsageError> {
    let cwd = std::env::current_dir()
        .map_err(|e| UsageError(format!("cannot read the current directory: {e}")))?;
    let config = match Config::load(opts.config.as_deref(), &cwd, opts.color) {
        Ok(c) => c,
        Err(e) => {
            // a report of mend.toml, drawn like the compiler's
            eprintln!("{}", e.0);
            return Ok(2);
        }
    };
    let mut paths = Vec::new();
    for p in &opts.paths {
        let found = files::discover(std::slice::from_ref(p))?;
        if std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            paths.extend(found.into_iter().filter(|f| config.selects(f, &cwd)));
        } else {
            paths.extend(found);
        }
    }
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return Err(UsageError(format!(
            "no `.mend` files in {}{}",
            opts.paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", "),
            config
                .file
                .as_ref()
                .map(|f| format!(" (after `include`/`exclude` of `{}`)", f.display()))
                .unwrap_or_default()
        )));
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let roots = files::read_all(&paths, threads)?;
    let mut compilation = check_with(
        roots,
        &FsProvider,
        CheckOptions {
            threads,
            keep_plans: false,
        },
    );
    if !config.levels.is_empty() {
        compilation
            .diagnostics
            .retain_mut(|d| match config.severity(d.code, d.severity) {
                Some(s) => {
                    d.severity = s;
                    true
                }
                None => false,
            });
    }
    output::emit(
        &compilation,
        opts.format,
        &output::Context {
            files_checked: paths.len(),
            color: opts.color,
            cwd: &cwd,
        },
    );
    let errors = compilation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = compilation.diagnostics.len() - errors;
    let failing = errors > 0 || (opts.deny_warnings && warnings > 0);
    // The process ends here: freeing every file's syntax tree one by one would only
    // make the user wait (a tenth of the run on a large repository).
    std::mem::forget(compilation);
    Ok(i32::from(failing && !opts.exit_zero))
}
