//! `mend check PATH…`: parse, resolve and check; report; exit 0 clean, 1 findings,
//! 2 usage or IO error.

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
}

pub fn run(opts: &Options) -> Result<i32, UsageError> {
    let paths = files::discover(&opts.paths)?;
    if paths.is_empty() {
        return Err(UsageError(format!(
            "no `.mend` files in {}",
            opts.paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let roots = files::read_all(&paths, threads)?;
    let compilation = check_with(
        roots,
        &FsProvider,
        CheckOptions {
            threads,
            keep_plans: false,
        },
    );
    output::emit(&compilation, paths.len(), opts.format, opts.color);
    let errors = compilation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = compilation.diagnostics.len() - errors;
    let failing = errors > 0 || (opts.deny_warnings && warnings > 0);
    Ok(if failing && !opts.exit_zero { 1 } else { 0 })
}
