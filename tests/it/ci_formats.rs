//! `mend check` in CI (issue 7, docs/ci.md): SARIF that GitHub code scanning accepts
//! (checked against the vendored OASIS schema), workflow annotations and their
//! escaping, the JSON document, `mend.toml`'s `[lint]`, and the repository rules on
//! fixtures that spread a problem over several files.
//!
//! Most tests run the `mend` binary, which belongs to another package: build it first
//! with `cargo build -p mend-cli` (the newest of `target/{debug,release}/mend` is
//! used; `MEND_BIN` names another), as for tests/it/cli.rs.

use crate::support::{RepoProvider, read, repo_root};
use mend_compiler::{CODES, Code, SourceFile, check};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The escaping functions the binary uses, included as they are.
#[path = "../../cli/src/output/escape.rs"]
#[allow(dead_code)]
mod escape;

fn binary() -> PathBuf {
    crate::support::mend_binary()
}

/// `mend ARGS…` run in `dir`, stdin closed, colour off.
fn mend_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("the mend binary runs")
}

/// `mend ARGS…` from the repository root.
fn mend(args: &[&str]) -> Output {
    mend_in(&repo_root(), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A repository of its own for one test (a directory with `.git`, so that the search
/// for `mend.toml` stops there), removed when dropped.
struct Repo(PathBuf);

impl Repo {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mend-ci-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".git")).expect("scratch repository");
        Repo(dir)
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("directory");
        std::fs::write(path, text).expect("write");
        self
    }

    /// Copies a file of this repository in.
    fn copy(&self, rel: &str, from: &str) -> &Self {
        self.write(rel, &read(from))
    }

    fn run(&self, args: &[&str]) -> Output {
        mend_in(&self.0, args)
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A playbook that reports E0404 (on line 6) and nothing else.
const E0404_BAD: &str = "tests/fixtures/codes/E0404/bad.mend";
const E0404_LINE: &str = ":6:3: ";

/// Inputs with findings of every shape: a label in another file (E0501 across
/// files), a warning (E0503), a secondary label in the same file (E0204), errors.
const SARIF_INPUTS: &[&str] = &[
    "tests/fixtures/codes/E0501/across",
    "tests/fixtures/codes/E0503/across",
    "tests/fixtures/codes/E0202/bad.mend",
    "tests/fixtures/codes/E0204/bad.mend",
];

fn sarif(args: &[&str]) -> (Output, Value) {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend_from_slice(args);
    let o = mend(&all);
    let doc = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("SARIF is JSON: {e}\n{}", stdout(&o)));
    (o, doc)
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(&read("tests/data/sarif-schema-2.1.0.json"))
        .expect("the vendored schema is JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles as draft-04");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let (o, doc) = sarif(SARIF_INPUTS);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "SARIF fails its schema:\n{}",
        errors.join("\n")
    );
    // and a run with no result at all
    let (o, doc) = sarif(&["tests/fixtures/codes/E0202/good.mend"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "SARIF fails its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_schema_check_catches_a_broken_document() {
    // the validator is not vacuous: a result without `message` is refused
    let (_, mut doc) = sarif(&["tests/fixtures/codes/E0202/bad.mend"]);
    doc["runs"][0]["results"][0]
        .as_object_mut()
        .expect("a result")
        .remove("message");
    doc["version"] = Value::from("2.0");
    assert!(schema_errors(&doc).len() >= 2);
}

fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("{what} is a non-empty string: {v}"))
}

#[test]
fn sarif_has_every_field_github_code_scanning_uses() {
    let (_, doc) = sarif(SARIF_INPUTS);
    assert!(text(&doc["$schema"], "$schema").contains("sarif-schema-2.1.0"));
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "mend");
    text(&driver["version"], "driver.version");
    assert!(text(&driver["informationUri"], "informationUri").starts_with("https://"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), CODES.len(), "one rule per code");
    for (rule, info) in rules.iter().zip(CODES) {
        let id = info.code.as_str();
        assert_eq!(rule["id"], id);
        assert_eq!(rule["name"], info.name);
        text(&rule["shortDescription"]["text"], "shortDescription");
        text(&rule["fullDescription"]["text"], "fullDescription");
        assert_eq!(rule["help"]["markdown"], info.doc, "{id}: help is its page");
        text(&rule["help"]["text"], "help.text");
        let level = &rule["defaultConfiguration"]["level"];
        assert!(level == "error" || level == "warning", "{id}: {level}");
        let tags = rule["properties"]["tags"].as_array().expect("tags");
        assert!(tags.iter().any(|t| t == "mend"), "{id}: {tags:?}");
    }
    let results = run["results"].as_array().expect("results");
    let codes: BTreeSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId"))
        .collect();
    assert!(
        ["E0202", "E0204", "E0501", "E0503"]
            .iter()
            .all(|c| codes.contains(c)),
        "{codes:?}"
    );
    let mut fingerprints = BTreeSet::new();
    for r in results {
        let id = text(&r["ruleId"], "ruleId");
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id, "ruleIndex points at the rule");
        let level = text(&r["level"], "level");
        let expected = if id == "E0503" { "warning" } else { "error" };
        assert_eq!(level, expected, "{id}");
        text(&r["message"]["text"], "message.text");
        let locations = r["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1);
        for loc in locations
            .iter()
            .chain(r["relatedLocations"].as_array().into_iter().flatten())
        {
            let artifact = &loc["physicalLocation"]["artifactLocation"];
            let uri = text(&artifact["uri"], "uri");
            assert!(
                uri.starts_with("tests/fixtures/codes/")
                    && Path::new(uri).extension().is_some_and(|e| e == "mend"),
                "relative to the repository root: {uri}"
            );
            assert!(repo_root().join(uri).is_file(), "{uri} exists");
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
            let region = &loc["physicalLocation"]["region"];
            for k in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(
                    region[k].as_u64().is_some_and(|n| n >= 1),
                    "{k} 1-based: {region}"
                );
            }
            assert!(
                (region["startLine"].as_u64(), region["startColumn"].as_u64())
                    <= (region["endLine"].as_u64(), region["endColumn"].as_u64())
            );
        }
        let fp = text(
            &r["partialFingerprints"]["mendFingerprint/v1"],
            "fingerprint",
        );
        assert!(
            fingerprints.insert(fp.to_string()),
            "fingerprints differ: {fp}"
        );
    }
    // E0501 labels the other playbook as a related location, in the other file
    let dup = results
        .iter()
        .find(|r| r["ruleId"] == "E0501")
        .expect("E0501");
    let related = dup["relatedLocations"]
        .as_array()
        .expect("relatedLocations");
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/codes/E0501/across/first.mend"
    );
    assert_eq!(
        dup["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/codes/E0501/across/second.mend"
    );
}

#[test]
fn sarif_regions_are_where_the_short_format_points() {
    let (_, doc) = sarif(&["tests/fixtures/codes/E0202/bad.mend"]);
    let o = mend(&[
        "check",
        "--format",
        "short",
        "tests/fixtures/codes/E0202/bad.mend",
    ]);
    let first = stdout(&o).lines().next().expect("a finding").to_string();
    let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    let want = format!(
        "{}:{}:{}: ",
        loc["artifactLocation"]["uri"].as_str().expect("uri"),
        loc["region"]["startLine"],
        loc["region"]["startColumn"]
    );
    assert!(first.starts_with(&want), "{first} vs {want}");
}

#[test]
fn sarif_fingerprints_are_stable_across_runs_and_edits_elsewhere() {
    let repo = Repo::new("fingerprint");
    repo.copy("p.mend", E0404_BAD);
    let fp = |r: &Repo| {
        let o = r.run(&["check", "--format", "sarif", "p.mend"]);
        let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
        doc["runs"][0]["results"][0]["partialFingerprints"]["mendFingerprint/v1"].clone()
    };
    let before = fp(&repo);
    assert_eq!(before, fp(&repo));
    // a comment added above moves the finding two lines down: same fingerprint
    let moved = format!("# a\n# b\n{}", read(E0404_BAD));
    repo.write("p.mend", &moved);
    assert_eq!(before, fp(&repo));
}

#[test]
fn annotation_escaping_of_messages() {
    assert_eq!(escape::escape_data("100%"), "100%25");
    assert_eq!(escape::escape_data("a\r\nb\nc"), "a%0D%0Ab%0Ac");
    assert_eq!(
        escape::escape_data("a: b, c"),
        "a: b, c",
        ": and , stay in data"
    );
    assert_eq!(escape::escape_data("%0A"), "%250A", "% first");
    assert_eq!(escape::escape_data("é — ✓"), "é — ✓");
}

#[test]
fn annotation_escaping_of_properties() {
    assert_eq!(escape::escape_property("a,b"), "a%2Cb");
    assert_eq!(escape::escape_property("a:b"), "a%3Ab");
    assert_eq!(escape::escape_property("50%"), "50%25");
    assert_eq!(escape::escape_property("x\ry\nz"), "x%0Dy%0Az");
    assert_eq!(
        escape::escape_property("dir,1/p:2%.mend"),
        "dir%2C1/p%3A2%25.mend"
    );
}

#[test]
fn github_annotations_end_to_end_with_a_comma_in_the_path() {
    let repo = Repo::new("annotations");
    repo.copy("plays, old/a:b%.mend", E0404_BAD);
    repo.write(
        "ok.mend",
        "component dncs_server { kind stateless }\n\non software_fault(dncs_server) <\n  confirm alert;\n  restart;\n  verify within 10m\n>\n",
    );
    let o = repo.run(&["check", "--format", "github", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one line per finding:\n{out}");
    let line = lines[0];
    assert!(
        line.starts_with(
            "::error file=plays%2C old/a%3Ab%25.mend,line=6,col=3,endLine=6,endColumn="
        ),
        "{line}"
    );
    let (props, message) = line
        .strip_prefix("::error ")
        .and_then(|l| l.split_once("::"))
        .expect("::error PROPS::MESSAGE");
    // every property splits cleanly on `,` and `=`
    let keys: Vec<&str> = props
        .split(',')
        .map(|p| p.split_once('=').expect("key=value").0)
        .collect();
    assert_eq!(
        keys,
        ["file", "line", "col", "endLine", "endColumn", "title"]
    );
    assert!(
        props.ends_with(",title=E0404 (alert-not-confirmed)"),
        "{props}"
    );
    // the help is on a second line of the message, escaped
    assert!(message.contains("%0Ahelp: "), "{message}");
    assert!(!message.contains('\n') && !message.contains('\r'));
    assert!(
        stderr(&o).contains("checked 2 files: 1 error"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn github_warnings_are_warning_commands() {
    let o = mend(&[
        "check",
        "--format",
        "github",
        "tests/fixtures/codes/E0503/bad.mend",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning exits 0: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    assert!(
        out.starts_with("::warning file=tests/fixtures/codes/E0503/bad.mend,line=6,col=11,"),
        "{out}"
    );
}

#[test]
fn warnings_exit_0_unless_denied() {
    let dir = "tests/fixtures/codes/E0503/across";
    assert_eq!(mend(&["check", dir]).status.code(), Some(0));
    assert_eq!(
        mend(&["check", "--deny", "warnings", dir]).status.code(),
        Some(1)
    );
    assert_eq!(
        mend(&["check", "--deny", "warnings", "--exit-zero", dir])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        mend(&["check", "--deny", "errors", dir]).status.code(),
        Some(2)
    );
}

/// The JSON document keeps the schema docs/ci.md writes down.
#[test]
fn the_json_document_keeps_its_documented_schema() {
    let o = mend(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/codes/E0501/across",
    ]);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&doc),
        ["diagnostics", "files_checked", "summary", "tool", "version"]
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["files_checked"], 3);
    assert_eq!(
        doc["summary"],
        serde_json::json!({ "errors": 1, "warnings": 0 })
    );
    let d = &doc["diagnostics"][0];
    assert_eq!(
        keys(d),
        [
            "code", "help", "labels", "location", "message", "name", "notes", "severity"
        ]
    );
    assert_eq!(
        keys(&d["location"]),
        [
            "column",
            "end",
            "end_column",
            "end_line",
            "file",
            "line",
            "start"
        ]
    );
    assert_eq!(keys(&d["labels"][0]), ["location", "message", "primary"]);
    assert_eq!(d["code"], "E0501");
    assert_eq!(d["name"], "duplicate-playbook");
    assert_eq!(
        d["labels"][1]["location"]["file"],
        "tests/fixtures/codes/E0501/across/first.mend"
    );
    // every key is written down in docs/ci.md
    let doc_page = read("docs/ci.md");
    for k in keys(&doc)
        .into_iter()
        .chain(keys(d))
        .chain(keys(&d["location"]))
    {
        assert!(
            doc_page.contains(&format!("`{k}`")),
            "docs/ci.md does not document `{k}`"
        );
    }
}

// ---- mend.toml ---------------------------------------------------------------

#[test]
fn config_levels_change_the_severity() {
    let repo = Repo::new("levels");
    repo.copy("p.mend", E0404_BAD);
    let o = repo.run(&["check", "--format", "short", "."]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with(&format!("p.mend{E0404_LINE}error[E0404]")));
    // by code, from a subdirectory: the file is found walking up
    repo.write(
        "mend.toml",
        "[docker]\nhost = \"unix:///var/run/docker.sock\"\n\n[lint]\nE0404 = \"warning\"\n",
    );
    std::fs::create_dir_all(repo.0.join("sub")).expect("sub");
    let o = mend_in(&repo.0.join("sub"), &["check", "--format", "short", ".."]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning exits 0: {}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("warning[E0404]"), "{}", stdout(&o));
    // by name, raised back to an error
    repo.write("mend.toml", "[lint]\nalert-not-confirmed = \"error\"\n");
    let o = repo.run(&["check", "--format", "short", "."]);
    assert_eq!(o.status.code(), Some(1));
    // a warning raised to an error
    repo.copy("q.mend", "tests/fixtures/codes/E0503/bad.mend");
    repo.write(
        "mend.toml",
        "[lint]\nE0404 = \"off\"\nunused-procedure = \"error\"\n",
    );
    let o = repo.run(&["check", "--format", "short", "q.mend"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[E0503]"), "{}", stdout(&o));
}

#[test]
fn config_off_silences() {
    let repo = Repo::new("off");
    repo.copy("p.mend", E0404_BAD);
    repo.write("mend.toml", "[lint]\nE0404 = \"off\"\n");
    let o = repo.run(&["check", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
    // SARIF keeps the rule (with its default level), and has no result
    let o = repo.run(&["check", "--format", "sarif", "."]);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        Some(CODES.len())
    );
}

#[test]
fn config_given_with_dash_dash_config() {
    let repo = Repo::new("explicit");
    repo.copy("p.mend", E0404_BAD);
    repo.write("ci/lint.toml", "[lint]\nE0404 = \"off\"\n");
    assert_eq!(repo.run(&["check", "p.mend"]).status.code(), Some(1));
    let o = repo.run(&["check", "--config", "ci/lint.toml", "p.mend"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = repo.run(&["check", "--config", "ci/none.toml", "p.mend"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ci/none.toml"), "{}", stderr(&o));
}

#[test]
fn config_include_and_exclude_globs() {
    let repo = Repo::new("globs");
    repo.copy("playbooks/a.mend", E0404_BAD)
        .copy("playbooks/attic/b.mend", E0404_BAD)
        .copy("playbooks/c.draft.mend", E0404_BAD)
        .copy("other/d.mend", E0404_BAD);
    let files = |r: &Repo, args: &[&str]| -> BTreeSet<String> {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let o = r.run(&all);
        let doc: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("JSON: {}", stderr(&o)));
        doc["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["code"] == "E0404")
            .map(|d| d["location"]["file"].as_str().expect("file").to_string())
            .collect()
    };
    assert_eq!(files(&repo, &["."]).len(), 4);
    repo.write(
        "mend.toml",
        "[lint]\ninclude = [\"playbooks/**/*.mend\"]\nexclude = [\"attic\", \"*.draft.mend\"]\n",
    );
    assert_eq!(
        files(&repo, &["."]),
        BTreeSet::from(["playbooks/a.mend".to_string()])
    );
    // a file named on the command line is checked whatever the globs say
    assert_eq!(
        files(&repo, &["other/d.mend"]),
        BTreeSet::from(["other/d.mend".to_string()])
    );
    // everything excluded: nothing to check is a usage error
    repo.write("mend.toml", "[lint]\nexclude = [\"**\"]\n");
    let o = repo.run(&["check", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no `.mend` files"), "{}", stderr(&o));
}

/// The report of a bad `mend.toml`: exit 2, and a caret under the bad text with the
/// file's line and column.
fn bad_config(toml: &str, at: &str, says: &str) {
    let repo = Repo::new("bad");
    repo.copy("p.mend", E0404_BAD);
    repo.write("mend.toml", toml);
    let o = repo.run(&["check", "--format", "sarif", "."]);
    assert_eq!(o.status.code(), Some(2), "{toml}: {}", stderr(&o));
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("[mend.toml:{at}]")),
        "{toml}: not at {at}:\n{err}"
    );
    assert!(err.contains(says), "{toml}: does not say {says:?}:\n{err}");
    assert!(
        err.contains('^') || err.contains('┬') || err.contains('─'),
        "{err}"
    );
}

#[test]
fn a_bad_config_exits_2_with_a_span_in_mend_toml() {
    bad_config(
        "[lint]\nE0404 = \"warning\"\nno-bakup = \"off\"\n",
        "3:1",
        "did you mean `no-backup`?",
    );
    bad_config("[lint]\nE0404 = \"warn\"\n", "2:9", "`warn` is not a level");
    bad_config("[lint]\nE9999 = \"off\"\n", "2:1", "`E9999` is not a rule");
    bad_config(
        "[lint]\nexclude = [\"ok/**\", \"bad/[x\"]\n",
        "2:21",
        "is not a glob",
    );
    bad_config("[lint]\ninclude = \"*.mend\"\n", "2:11", "a list of globs");
    // a TOML syntax error anywhere in the file, with toml's own span
    bad_config(
        "[docker]\nhost = \"x\n[lint]\n",
        "2:10",
        "invalid basic string",
    );
    // the runtime's tables are not ours to check, but a secret in them is not echoed
    bad_config(
        "[mysql.db]\npassword = \"hunter2\"\n[lint]\nE0404 = 1\n",
        "4:9",
        "not a number",
    );
    let repo = Repo::new("secret");
    repo.write("p.mend", &read(E0404_BAD));
    repo.write(
        "mend.toml",
        "[mysql.db]\npassword = \"hunter2\"\n[lint]\nE0404 = 1\n",
    );
    let err = stderr(&repo.run(&["check", "."]));
    assert!(!err.contains("hunter2"), "{err}");
}

// ---- repository rules ----------------------------------------------------------

/// `mend check DIR`, in process, as the binary does it: every file under `dir` a root.
fn check_dir(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = crate::support::mend_files(dir);
    files.sort();
    let roots = files.iter().map(|f| SourceFile::new(f, read(f))).collect();
    let c = check(roots, &RepoProvider::new());
    c.diagnostics
        .iter()
        .map(|d| mend_compiler::render::short(d, &c.sources))
        .collect()
}

#[test]
fn duplicate_playbooks_across_files() {
    let found = check_dir("tests/fixtures/codes/E0501/across");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "tests/fixtures/codes/E0501/across/second.mend:5:1: error[E0501]: two playbooks fire on `hardware_fault(dncs_server)`"
        ),
        "{found:#?}"
    );
    // the binary says the same, and labels both
    let o = mend(&["check", "tests/fixtures/codes/E0501/across"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("a second playbook for this alert"), "{err}");
    assert!(err.contains("the first playbook for it"), "{err}");
    assert!(err.contains("across/first.mend:5:1"), "{err}");
}

#[test]
fn unused_component_and_procedure_across_files() {
    let found = check_dir("tests/fixtures/codes/E0502/across");
    assert_eq!(
        found,
        [
            "tests/fixtures/codes/E0502/across/components.mend:8:11: warning[E0502]: component `mq_namesrv` is declared but no playbook, procedure or fan-out uses it"
        ]
    );
    assert_eq!(
        check_dir("tests/fixtures/codes/E0502/across_good"),
        Vec::<String>::new()
    );
    let found = check_dir("tests/fixtures/codes/E0503/across");
    assert_eq!(
        found,
        [
            "tests/fixtures/codes/E0503/across/procedures.mend:7:11: warning[E0503]: procedure `bounce_twice` is never called"
        ]
    );
}

#[test]
fn each_file_of_a_repository_case_is_clean_alone() {
    // a library checked on its own offers its declarations to files outside the check
    for dir in [
        "tests/fixtures/codes/E0501/across",
        "tests/fixtures/codes/E0502/across",
        "tests/fixtures/codes/E0503/across",
    ] {
        for f in crate::support::mend_files(dir) {
            let c = crate::support::check_file(&f);
            assert!(c.diagnostics.is_empty(), "{f} alone: {:?}", c.diagnostics);
        }
    }
}

#[test]
fn an_import_cycle_over_three_files_is_named_whole() {
    let c = crate::support::check_file("tests/fixtures/codes/E0107/bad_three.mend");
    let cycles: Vec<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::E0107)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(cycles.len(), 1, "reported once: {cycles:?}");
    for f in ["bad_three.mend", "cycle3/a.mend", "cycle3/b.mend"] {
        assert!(
            cycles[0].contains(&format!("tests/fixtures/codes/E0107/{f}")),
            "{f}: {}",
            cycles[0]
        );
    }
    assert_eq!(cycles[0].matches(" -> ").count(), 3, "{}", cycles[0]);
}

#[test]
fn repository_rules_stay_quiet_where_uses_are_typos() {
    // `csb_brokr` is E0101 with "did you mean `csb_broker`": the component is not
    // reported unused on top of it
    let c = crate::support::check_file("tests/fixtures/codes/E0101/bad.mend");
    let codes: BTreeSet<Code> = c.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, BTreeSet::from([Code::E0101]));
}
