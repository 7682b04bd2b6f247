//! `mend fmt [--check] PATH…`.

use crate::files::UsageError;
use std::path::PathBuf;

pub fn run(_paths: &[PathBuf], _check: bool, _color: bool) -> Result<i32, UsageError> {
    Err(UsageError("`mend fmt` is not built yet".into()))
}
