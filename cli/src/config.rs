//! `mend.toml`, the `[lint]` table: rule levels and which files `mend check` reads.
//!
//! ```toml
//! [lint]
//! include = ["playbooks/**/*.mend"]      # default: every `*.mend`
//! exclude = ["attic", "**/*.draft.mend"]
//! E0404 = "warning"                      # by code …
//! unused-procedure = "off"               # … or by name; error | warning | off
//! ```
//!
//! The file is found by walking up from the current directory to the repository root
//! (the first directory holding `.git`), or named with `--config`. It is shared with
//! the runtime's inventory (`[docker]`, `[mysql.*]`, …): only `[lint]` is read and
//! checked here, every other table is left alone. A bad `[lint]` is reported as a
//! report of the TOML file with the offending span, and `mend check` exits 2.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use mend_compiler::suggest::did_you_mean;
use mend_compiler::{CODES, Code, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use toml::Spanned;

/// The file searched for.
pub const FILE_NAME: &str = "mend.toml";

/// What a rule is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Off,
}

const LEVELS: &[&str] = &["error", "warning", "off"];

/// The `[lint]` settings, resolved.
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, if one was found.
    pub file: Option<PathBuf>,
    /// The directory globs are relative to: the one holding the file.
    pub root: PathBuf,
    pub levels: HashMap<Code, Level>,
    /// `None`: every `*.mend` file.
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

/// A configuration that cannot be used: the text to print (a report of the file when
/// the problem has a place in it), and exit 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl Config {
    /// `--config PATH`, or the `mend.toml` found walking up from `cwd` to the
    /// repository root, or the defaults.
    pub fn load(explicit: Option<&Path>, cwd: &Path, color: bool) -> Result<Config, ConfigError> {
        let file = match explicit {
            Some(p) => Some(cwd.join(p)),
            None => find(cwd),
        };
        let Some(file) = file else {
            return Ok(Config {
                root: cwd.to_path_buf(),
                ..Config::default()
            });
        };
        let shown = explicit.map_or_else(|| display(&file, cwd), |p| p.display().to_string());
        let text = std::fs::read_to_string(&file).map_err(|e| {
            ConfigError(format!(
                "error: cannot read the configuration `{shown}`: {}",
                crate::files::io_reason(&e)
            ))
        })?;
        let mut config = parse(&text).map_err(|e| ConfigError(e.render(&shown, &text, color)))?;
        config.root = file
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
        config.file = Some(file);
        Ok(config)
    }

    /// The severity a finding of `code` is reported with, `None` when it is off.
    pub fn severity(&self, code: Code, default: Severity) -> Option<Severity> {
        match self.levels.get(&code) {
            None => Some(default),
            Some(Level::Error) => Some(Severity::Error),
            Some(Level::Warning) => Some(Severity::Warning),
            Some(Level::Off) => None,
        }
    }

    /// Whether a file found in a directory is checked. `path` is as found (relative
    /// to `cwd`, or absolute); globs match it relative to [`Config::root`], with `/`.
    /// A file outside the root is checked.
    pub fn selects(&self, path: &Path, cwd: &Path) -> bool {
        if self.include.is_none() && self.exclude.is_none() {
            return true;
        }
        let abs = normalize(&cwd.join(path));
        let Ok(rel) = abs.strip_prefix(normalize(&self.root)) else {
            return true;
        };
        if let Some(inc) = &self.include
            && !inc.is_match(rel)
        {
            return false;
        }
        if let Some(exc) = &self.exclude {
            // the file, or a directory it is in
            let mut p = Some(rel);
            while let Some(q) = p.filter(|q| !q.as_os_str().is_empty()) {
                if exc.is_match(q) {
                    return false;
                }
                p = q.parent();
            }
        }
        true
    }
}

/// The first `mend.toml` from `cwd` up, not above the first directory holding `.git`.
fn find(cwd: &Path) -> Option<PathBuf> {
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

fn display(file: &Path, cwd: &Path) -> String {
    match file.strip_prefix(cwd) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => file.display().to_string(),
    }
}

/// `a/./b/../c` → `a/c`, lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A problem at a place in the file.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub span: Option<std::ops::Range<usize>>,
    pub label: String,
    pub help: Option<String>,
}

impl Problem {
    fn at(
        span: std::ops::Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Self {
        Problem {
            message,
            span: Some(span),
            label: label.to_string(),
            help,
        }
    }

    /// A report of the file, as the compiler's are drawn; values of keys that may
    /// hold a credential are masked in the quoted lines (the file is shared with the
    /// runtime's inventory).
    pub fn render(&self, path: &str, text: &str, color: bool) -> String {
        let report = Report {
            message: format!("invalid configuration: {}", self.message),
            source: NamedSource::new(path, mask_secrets(text)).with_language("toml"),
            labels: self
                .span
                .clone()
                .map(|s| {
                    let start = s.start.min(text.len());
                    let len = s.end.min(text.len()).saturating_sub(start);
                    LabeledSpan::new_primary_with_span(
                        Some(self.label.clone()),
                        SourceSpan::new(start.into(), len),
                    )
                })
                .into_iter()
                .collect(),
            help: self.help.clone(),
        };
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_err() {
            out = format!("{path}: {}", report.message);
        }
        out.trim_end().to_string()
    }
}

#[derive(Debug)]
struct Report {
    message: String,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Keys whose value may be a credential: `password = "…"` is refused by the
/// runtime, but a report must not echo it either.
const SECRET_KEYS: &[&str] = &["password", "passwd", "pass", "pwd", "secret", "token"];

/// The text with the values of credential-like keys replaced by `*`, byte for byte,
/// so that spans stay valid.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key_len = trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(trimmed.len());
        let key = trimmed[..key_len].to_ascii_lowercase();
        let after = trimmed[key_len..].trim_start();
        if SECRET_KEYS.contains(&key.as_str())
            && after.starts_with('=')
            && let Some(eq) = line.find('=')
        {
            out.push_str(&line[..=eq]);
            for c in line[eq + 1..].chars() {
                if c.is_whitespace() {
                    out.push(c);
                } else {
                    out.extend(std::iter::repeat_n('*', c.len_utf8()));
                }
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The whole file: only `[lint]` is looked at.
#[derive(Deserialize)]
struct RawFile {
    lint: Option<BTreeMap<Spanned<String>, Spanned<RawValue>>>,
}

/// A value in `[lint]`, typed by hand so that array elements keep their spans.
enum RawValue {
    Str(String),
    List(Vec<Spanned<String>>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawValue, E> {
                Ok(RawValue::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawValue, E> {
                Ok(RawValue::Other("a number"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Spanned<String>>()? {
                    out.push(s);
                }
                Ok(RawValue::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawValue::Other("a table"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses the text of a `mend.toml` (the `[lint]` table; the rest is not ours).
pub fn parse(text: &str) -> Result<Config, Problem> {
    let raw: RawFile = toml::from_str(text).map_err(|e| Problem {
        message: e.message().trim_end().to_string(),
        span: e.span(),
        label: "here".to_string(),
        help: None,
    })?;
    let mut config = Config::default();
    let Some(lint) = raw.lint else {
        return Ok(config);
    };
    let mut set_by: HashMap<Code, (String, std::ops::Range<usize>)> = HashMap::new();
    for (key, value) in lint {
        let key_span = key.span();
        let key = key.into_inner();
        let value_span = value.span();
        let value = value.into_inner();
        match key.as_str() {
            "include" | "exclude" => {
                let globs = match value {
                    RawValue::List(l) => l,
                    RawValue::Str(_) => {
                        return Err(Problem::at(
                            value_span,
                            format!("`{key}` is a list of globs"),
                            "a string",
                            Some(format!("write `{key} = [\"…\"]`")),
                        ));
                    }
                    RawValue::Other(what) => {
                        return Err(Problem::at(
                            value_span,
                            format!("`{key}` is a list of globs, not {what}"),
                            "expected an array of strings",
                            None,
                        ));
                    }
                };
                let set = glob_set(&globs)?;
                if key == "include" {
                    config.include = Some(set);
                } else {
                    config.exclude = Some(set);
                }
            }
            _ => {
                let Some(code) = Code::parse(&key) else {
                    let names = CODES.iter().map(|c| c.name).chain(["include", "exclude"]);
                    return Err(Problem::at(
                        key_span,
                        format!("`{key}` is not a rule"),
                        "unknown key in `[lint]`",
                        Some(did_you_mean(&key, names).unwrap_or_else(|| {
                            "`[lint]` takes `include`, `exclude`, and rule codes or names \
                             (`E0404`, `alert-not-confirmed`); `mend explain` lists them"
                                .to_string()
                        })),
                    ));
                };
                if code.info().category == mend_compiler::codes::Category::Syntax {
                    return Err(Problem::at(
                        key_span,
                        format!("`{key}` ({code}) cannot be configured"),
                        "a syntax error",
                        Some(
                            "a file that does not parse is not checked at all: its findings \
                             cannot be lowered or turned off"
                                .to_string(),
                        ),
                    ));
                }
                let level = match &value {
                    RawValue::Str(s) => match s.as_str() {
                        "error" => Level::Error,
                        "warning" => Level::Warning,
                        "off" => Level::Off,
                        other => {
                            return Err(Problem::at(
                                value_span,
                                format!("`{other}` is not a level"),
                                "unknown level",
                                Some(did_you_mean(other, LEVELS.iter().copied()).map_or_else(
                                    || "a level is `error`, `warning` or `off`".to_string(),
                                    |d| format!("{d} A level is `error`, `warning` or `off`."),
                                )),
                            ));
                        }
                    },
                    RawValue::List(_) => {
                        return Err(Problem::at(
                            value_span,
                            format!("the level of `{key}` is one string, not a list"),
                            "expected `error`, `warning` or `off`",
                            None,
                        ));
                    }
                    RawValue::Other(what) => {
                        return Err(Problem::at(
                            value_span,
                            format!("the level of `{key}` is a string, not {what}"),
                            "expected `error`, `warning` or `off`",
                            None,
                        ));
                    }
                };
                if let Some((first, _)) = set_by.get(&code) {
                    return Err(Problem::at(
                        key_span,
                        format!("{code} is set twice, as `{first}` and as `{key}`"),
                        "set again here",
                        Some("keep one of the two".to_string()),
                    ));
                }
                set_by.insert(code, (key.clone(), key_span));
                config.levels.insert(code, level);
            }
        }
    }
    Ok(config)
}

/// Globs match paths relative to the directory of `mend.toml`, with `/`; `*` stays
/// within one directory, `**` crosses any number; a glob without `/` matches a file
/// or directory name at any depth (as in `.gitignore`).
fn glob_set(globs: &[Spanned<String>]) -> Result<GlobSet, Problem> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let text = g.get_ref().trim_start_matches("./");
        let pattern = if text.contains('/') {
            text.trim_start_matches('/').to_string()
        } else {
            format!("**/{text}")
        };
        let glob: Glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Problem::at(
                    g.span(),
                    format!("`{}` is not a glob: {}", g.get_ref(), glob_reason(&e)),
                    "bad glob",
                    Some(
                        "`*` matches within a directory, `**` across directories, `{a,b}` either"
                            .to_string(),
                    ),
                )
            })?;
        b.add(glob);
    }
    b.build().map_err(|e| Problem {
        message: format!("bad glob: {e}"),
        span: None,
        label: String::new(),
        help: None,
    })
}

fn glob_reason(e: &globset::Error) -> String {
    // globset's message repeats the glob: keep the reason
    match e.kind() {
        globset::ErrorKind::UnclosedClass => "a `[` is not closed".to_string(),
        globset::ErrorKind::InvalidRange(a, b) => format!("`{a}-{b}` is not a range"),
        globset::ErrorKind::UnopenedAlternates => "a `}` has no `{`".to_string(),
        globset::ErrorKind::UnclosedAlternates => "a `{` is not closed".to_string(),
        globset::ErrorKind::NestedAlternates => "`{…}` cannot nest".to_string(),
        globset::ErrorKind::DanglingEscape => "it ends with `\\`".to_string(),
        globset::ErrorKind::InvalidRecursive => {
            "`**` must be a whole path component (`a/**/b`)".to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Problem {
        parse(text).expect_err("a bad configuration")
    }

    fn spanned<'a>(text: &'a str, p: &Problem) -> &'a str {
        &text[p.span.clone().expect("a span")]
    }

    #[test]
    fn levels_by_code_and_name() {
        let c = parse(
            "[lint]\nE0404 = \"warning\"\nno-backup = \"off\"\nunused_procedure = \"error\"\n",
        )
        .unwrap();
        assert_eq!(c.levels[&Code::E0404], Level::Warning);
        assert_eq!(c.levels[&Code::E0202], Level::Off);
        assert_eq!(c.levels[&Code::E0503], Level::Error);
        assert_eq!(c.severity(Code::E0202, Severity::Error), None);
        assert_eq!(
            c.severity(Code::E0404, Severity::Error),
            Some(Severity::Warning)
        );
        assert_eq!(
            c.severity(Code::E0201, Severity::Error),
            Some(Severity::Error)
        );
    }

    #[test]
    fn other_tables_are_not_ours() {
        let text = "state_dir = \"s\"\n[docker]\nhost = \"unix:///x\"\nanything = 3\n\
                    [mysql.db_a]\nport = 3307\n[lint]\nE0404 = \"off\"\n";
        let c = parse(text).unwrap();
        assert_eq!(c.levels[&Code::E0404], Level::Off);
        assert!(parse("[docker]\nhost = 1\n").unwrap().levels.is_empty());
    }

    #[test]
    fn an_unknown_rule_points_at_its_key() {
        let text = "[lint]\nE0404 = \"warning\"\nno-bakup = \"off\"\n";
        let p = problem(text);
        assert_eq!(spanned(text, &p), "no-bakup");
        assert!(p.help.unwrap().contains("no-backup"));
    }

    #[test]
    fn an_unknown_level_points_at_its_value() {
        let text = "[lint]\nE0404 = \"warn\"\n";
        let p = problem(text);
        assert_eq!(spanned(text, &p), "\"warn\"");
        assert!(p.message.contains("`warn` is not a level"), "{}", p.message);
        let p = problem("[lint]\nE0404 = 3\n");
        assert!(p.message.contains("not a number"), "{}", p.message);
    }

    #[test]
    fn a_bad_glob_points_at_itself() {
        let text = "[lint]\nexclude = [\"ok/**\", \"bad/[x\"]\n";
        let p = problem(text);
        assert_eq!(spanned(text, &p), "\"bad/[x\"");
        let text = "[lint]\ninclude = \"*.mend\"\n";
        assert_eq!(spanned(text, &problem(text)), "\"*.mend\"");
    }

    #[test]
    fn toml_errors_keep_their_span() {
        let text = "[lint]\nE0404 = \"warning\n";
        let p = problem(text);
        assert!(p.span.is_some());
        let text = "[lint]\nE0404 = \"off\"\nE0404 = \"error\"\n";
        let p = problem(text);
        assert!(p.message.contains("duplicate"), "{}", p.message);
    }

    #[test]
    fn a_code_set_twice_and_syntax_codes_are_refused() {
        let text = "[lint]\nE0404 = \"off\"\nalert-not-confirmed = \"error\"\n";
        let p = problem(text);
        assert!(p.message.contains("set twice"), "{}", p.message);
        let text = "[lint]\nE0001 = \"off\"\n";
        assert_eq!(spanned(text, &problem(text)), "E0001");
    }

    #[test]
    fn include_and_exclude_match_relative_to_the_root() {
        let c = Config {
            root: PathBuf::from("/repo"),
            ..parse("[lint]\ninclude = [\"playbooks/**/*.mend\"]\nexclude = [\"attic\", \"*.draft.mend\"]\n")
                .unwrap()
        };
        let cwd = Path::new("/repo");
        assert!(c.selects(Path::new("playbooks/a.mend"), cwd));
        assert!(c.selects(Path::new("./playbooks/x/b.mend"), cwd));
        assert!(!c.selects(Path::new("other/a.mend"), cwd));
        assert!(!c.selects(Path::new("playbooks/attic/a.mend"), cwd));
        assert!(!c.selects(Path::new("playbooks/x/a.draft.mend"), cwd));
        // from a subdirectory, and outside the root
        assert!(c.selects(Path::new("a.mend"), Path::new("/repo/playbooks")));
        assert!(!c.selects(Path::new("../other/a.mend"), Path::new("/repo/playbooks")));
        assert!(c.selects(Path::new("/elsewhere/a.mend"), cwd));
    }

    #[test]
    fn secrets_are_masked_in_reports() {
        let text = "[mysql.a]\npassword = \"hunter2\"\nuser = \"root\"\n[lint]\nE0404 = 3\n";
        let masked = mask_secrets(text);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("hunter2"));
        assert!(masked.contains("user = \"root\""));
        let p = problem(text);
        let drawn = p.render("mend.toml", text, false);
        assert!(!drawn.contains("hunter2"), "{drawn}");
        assert!(drawn.contains("mend.toml:5:9"), "{drawn}");
    }
}
