//! Credentials: resolved from the environment or a file at connect time, and never
//! printed.
//!
//! [`Secret`] has a redacted `Debug` and `Display`, so a secret inside a struct that is
//! logged shows as `<redacted>`. Every resolved value is also registered with a
//! process-wide scrubber, and [`scrub`] replaces it in any text that leaves the runtime
//! (journal records, observer events, plan output, error messages): a server that echoes
//! a password back in an error cannot leak it either.

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// What a redacted value prints as.
pub const REDACTED: &str = "<redacted>";

/// A credential. Its value is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and registers it with the scrubber.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// Reads the value from an environment variable.
    pub fn from_env(var: &str) -> Result<Self, String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(format!("environment variable `{var}` is empty")),
            Err(_) => Err(format!("environment variable `{var}` is not set")),
        }
    }

    /// Reads the value from a file; one trailing newline is dropped.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read password file `{}`: {e}", path.display()))?;
        let value = text.strip_suffix('\n').unwrap_or(&text);
        let value = value.strip_suffix('\r').unwrap_or(value);
        if value.is_empty() {
            return Err(format!("password file `{}` is empty", path.display()));
        }
        Ok(Secret::new(value))
    }

    /// The value, for the one call that needs it (a driver's connect).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

fn registry() -> &'static Mutex<Vec<String>> {
    static KNOWN: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a value so that [`scrub`] removes it from text. Values shorter than four
/// characters are not registered: replacing them would mangle ordinary words, and such
/// a credential is no protection anyway.
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut known = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known.iter().any(|k| k == value) {
        known.push(value.to_owned());
        // Longest first, so that a secret containing another is replaced whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Replaces every registered secret in `text` with `<redacted>`.
pub fn scrub(text: &str) -> String {
    let known = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    for value in known.iter() {
        if out.contains(value.as_str()) {
            out = out.replace(value.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2-secret");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(s.expose(), "hunter2-secret");
    }

    #[test]
    fn scrub_replaces_registered_values() {
        let _s = Secret::new("s3cr3t-value-42");
        assert_eq!(
            scrub("Access denied (pw s3cr3t-value-42)"),
            "Access denied (pw <redacted>)"
        );
    }

    #[test]
    fn file_secret_drops_one_newline() {
        let dir = std::env::temp_dir().join(format!("mend-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("pw");
        std::fs::write(&p, "abcdefg\n").unwrap();
        assert_eq!(Secret::from_file(&p).unwrap().expose(), "abcdefg");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
