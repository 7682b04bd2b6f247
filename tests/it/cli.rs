//! The `mend` binary, run as a user runs it: exit codes (0 clean, 1 findings, 2 usage
//! or IO error), the short and JSON formats, colour, `explain`.
//!
//! The binary belongs to another package (`mend-cli`), so cargo does not build it for
//! this one: build it first with `cargo build -p mend-cli` (or `--release`). The
//! newest of `target/{debug,release}/mend` is used; `MEND_BIN` names another.

use crate::support::{check_file, repo_root};
use mend_compiler::render::short;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    crate::support::mend_binary()
}

/// `mend ARGS…` from the repository root, stdin closed, colour variables cleared.
fn mend(args: &[&str]) -> Output {
    mend_with(args, &[])
}

fn mend_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(repo_root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the mend binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn status(o: &Output) -> Option<i32> {
    o.status.code()
}

/// A scratch directory of its own for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mend-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn arg(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const BAD: &str = "tests/fixtures/codes/E0202/bad.mend";

#[test]
fn check_stdlib_exits_0() {
    let o = mend(&["check", "stdlib-playbooks"]);
    assert_eq!(status(&o), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("0 errors"),
        "a summary line: {}",
        stderr(&o)
    );
}

#[test]
fn a_finding_exits_1_with_file_line_col_and_code() {
    let o = mend(&["check", "--format", "short", BAD]);
    assert_eq!(status(&o), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    // the same lines the compiler draws in process: `file:line:col: error[E0202]: …`
    let c = check_file(BAD);
    let expected: Vec<String> = c.diagnostics.iter().map(|d| short(d, &c.sources)).collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    assert!(
        out.starts_with(&format!("{BAD}:14:3: error[E0202]: ")),
        "{out}"
    );
}

#[test]
fn the_human_format_shows_code_file_and_caret() {
    let o = mend(&["check", BAD]);
    assert_eq!(status(&o), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error[E0202]"), "{err}");
    assert!(err.contains(&format!("{BAD}:14:3")), "{err}");
    assert!(err.contains('┬') || err.contains('^'), "a caret: {err}");
}

#[test]
fn a_missing_path_exits_2() {
    let o = mend(&["check", "no/such/playbook.mend"]);
    assert_eq!(status(&o), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no/such/playbook.mend") && err.contains("no such file"),
        "a clear message: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_non_utf8_file_exits_2() {
    let dir = Scratch::new("latin1");
    std::fs::write(
        dir.path("latin1.mend"),
        b"# caf\xe9\ncomponent c { kind stateless }\n",
    )
    .unwrap();
    let o = mend(&["check", &dir.arg("latin1.mend")]);
    assert_eq!(status(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
}

#[test]
fn a_file_with_a_nul_byte_exits_2() {
    let dir = Scratch::new("nul");
    std::fs::write(dir.path("nul.mend"), b"component c { kind stateless }\0\n").unwrap();
    let o = mend(&["check", &dir.arg("nul.mend")]);
    assert_eq!(status(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("NUL"), "{}", stderr(&o));
}

#[test]
fn a_directory_without_playbooks_exits_2() {
    let dir = Scratch::new("empty");
    std::fs::write(dir.path("README.md"), "no playbooks here\n").unwrap();
    let o = mend(&["check", &dir.arg("")]);
    assert_eq!(status(&o), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no `.mend` files"), "{}", stderr(&o));
}

/// Runs `mend ARGS…` and kills it if it has not finished within `limit`.
fn mend_within(args: &[&str], limit: Duration) -> Option<Output> {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mend binary runs");
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_does_not_hang() {
    use std::os::unix::fs::symlink;
    let dir = Scratch::new("loop");
    std::fs::create_dir_all(dir.path("sub")).unwrap();
    std::fs::write(
        dir.path("sub/ok.mend"),
        "component c { kind stateless }\n\non software_fault(c) < confirm alert; restart; verify within 10m >\n",
    )
    .unwrap();
    symlink(dir.path(""), dir.path("sub/back")).unwrap(); // a directory loop
    symlink(dir.path("a.mend"), dir.path("b.mend")).unwrap(); // a file loop
    symlink(dir.path("b.mend"), dir.path("a.mend")).unwrap();
    let o = mend_within(&["check", &dir.arg("")], Duration::from_secs(60))
        .expect("`mend check` on a directory with a symlink loop did not finish in 60 s");
    assert!(
        matches!(status(&o), Some(0 | 2)),
        "finishes with a result or a clear error: {:?}\n{}",
        status(&o),
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn no_colour_off_a_terminal_nor_with_no_color() {
    // stderr is a pipe here, not a terminal
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let o = mend_with(&["check", BAD], env);
        assert_eq!(status(&o), Some(1));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            !all.contains('\u{1b}'),
            "ANSI escape with {env:?}:\n{all:?}"
        );
        assert!(all.contains("error[E0202]"));
    }
}

#[test]
fn explain_prints_the_page() {
    let page = std::fs::read_to_string(repo_root().join("docs/diagnostics/E0202.md")).unwrap();
    for code in ["E0202", "no-backup"] {
        let o = mend(&["explain", code]);
        assert_eq!(status(&o), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o).trim_end(), page.trim_end());
    }
}

#[test]
fn explain_of_an_unknown_code_exits_2() {
    let o = mend(&["explain", "E9999"]);
    assert_eq!(status(&o), Some(2));
    assert!(stderr(&o).contains("E9999"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[test]
fn the_json_format_parses_and_locates() {
    let o = mend(&["check", "--format", "json", BAD]);
    assert_eq!(status(&o), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let diags = doc["diagnostics"].as_array().expect("`diagnostics` array");
    let c = check_file(BAD);
    assert_eq!(diags.len(), c.diagnostics.len());
    for (j, d) in diags.iter().zip(&c.diagnostics) {
        assert_eq!(j["code"], d.code.as_str());
        let (line, col) = c.sources.get(d.file).line_col(d.span().start);
        assert_eq!(j["location"]["line"], line);
        assert_eq!(j["location"]["column"], col);
        assert_eq!(j["location"]["file"], BAD);
    }
    assert_eq!(diags[0]["code"], "E0202");
    assert_eq!(diags[0]["location"]["line"], 14);
    // clean input: an empty list, exit 0
    let o = mend(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/codes/E0202/good.mend",
    ]);
    assert_eq!(status(&o), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}

/// The path given is the path shown: `mend check` run elsewhere still points at it.
#[test]
fn paths_are_shown_as_given() {
    let abs = repo_root().join(BAD);
    let o = mend(&["check", "--format", "short", &abs.to_string_lossy()]);
    assert_eq!(status(&o), Some(1));
    assert!(
        stdout(&o).starts_with(&format!("{}:14:3:", Path::new(&abs).display())),
        "{}",
        stdout(&o)
    );
}
