//! One directory of fixtures per diagnostic code, as ruff names its fixtures by code:
//! `tests/fixtures/codes/E0202/bad.mend` triggers exactly E0202, `good.mend` is its
//! minimal fix and checks clean, `bad_*.mend` / `good_*.mend` are more cases. Every
//! fixture says what it expects on line 1 (`# expect: E0202`, `# expect: clean`), as
//! nickel's test files do; every fixture is also snapshotted with its diagnostics.

use crate::support::{
    check_file, expectation, header_failure, mend_files, read, rel_path, repo_root, show,
    snapshot_text,
};
use mend_compiler::{CODES, Code};
use std::collections::BTreeSet;

const DIR: &str = "tests/fixtures/codes";

/// The sections every page of `docs/diagnostics/` has, in this order (ruff's rule
/// docs, plus how to fix).
const SECTIONS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## How to fix",
];

#[test]
fn every_fixture_reports_what_its_header_expects() {
    let files = mend_files(DIR);
    assert!(files.len() > CODES.len() * 2, "fixtures missing: {files:?}");
    let failures: Vec<String> = files.iter().filter_map(|f| header_failure(f)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures do not report what they expect:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_snapshot_source_and_diagnostics() {
    insta::glob!("../fixtures/codes", "**/*.mend", |path| {
        let rel = rel_path(path);
        let c = check_file(&rel);
        insta::assert_snapshot!("fixture", snapshot_text(&rel, &c));
    });
}

#[test]
fn every_code_has_a_page_and_fixtures() {
    let root = repo_root();
    let mut missing = Vec::new();
    for info in CODES {
        let code = info.code.as_str();
        for rel in [
            format!("docs/diagnostics/{code}.md"),
            format!("{DIR}/{code}/bad.mend"),
            format!("{DIR}/{code}/good.mend"),
        ] {
            if !root.join(&rel).is_file() {
                missing.push(rel);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "every code in `mend_compiler::CODES` needs a page and a bad and a good fixture; missing:\n  {}",
        missing.join("\n  ")
    );
}

/// `bad.mend` is the minimal case of its directory's code and of nothing else;
/// `good.mend` is its fix and reports nothing at all.
#[test]
fn bad_and_good_fixtures_name_their_own_code() {
    let mut wrong = Vec::new();
    for info in CODES {
        let code = info.code;
        let dir = format!("{DIR}/{code}");
        for (file, want) in [
            ("bad.mend", BTreeSet::from([code])),
            ("good.mend", BTreeSet::new()),
        ] {
            let rel = format!("{dir}/{file}");
            if !repo_root().join(&rel).is_file() {
                continue; // reported by every_code_has_a_page_and_fixtures
            }
            match expectation(&read(&rel)) {
                Ok(e) if e.codes() == want => {}
                Ok(e) => wrong.push(format!(
                    "{rel}: header says {}, must say {}",
                    show(&e.codes()),
                    show(&want)
                )),
                Err(why) => wrong.push(format!("{rel}: {why}")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A fixture directory for a code that is not in the table is a stale fixture.
#[test]
fn every_fixture_directory_is_a_code() {
    let entries = std::fs::read_dir(repo_root().join(DIR)).expect("fixtures directory");
    let mut stray = Vec::new();
    for e in entries {
        let e = e.expect("directory entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let known = Code::parse(&name).is_some_and(|c| c.as_str() == name);
        if !e.path().is_dir() || !known {
            stray.push(name);
        }
    }
    assert!(
        stray.is_empty(),
        "{DIR} holds only one directory per code: {stray:?}"
    );
}

#[test]
fn every_page_has_the_sections() {
    let mut wrong = Vec::new();
    for info in CODES {
        let code = info.code.as_str();
        let rel = format!("docs/diagnostics/{code}.md");
        let Ok(page) = std::fs::read_to_string(repo_root().join(&rel)) else {
            continue; // reported by every_code_has_a_page_and_fixtures
        };
        if !page.starts_with(&format!("# {code}: ")) {
            wrong.push(format!("{rel}: the title is not `# {code}: …`"));
        }
        let headings: Vec<&str> = page
            .lines()
            .filter(|l| l.starts_with("## "))
            .map(str::trim_end)
            .collect();
        let found: Vec<&str> = headings
            .iter()
            .copied()
            .filter(|h| SECTIONS.contains(h))
            .collect();
        if found != SECTIONS {
            wrong.push(format!(
                "{rel}: has sections {headings:?}, needs {SECTIONS:?} in that order"
            ));
        }
        // the page built into the binary is the page on disk
        if info.doc != page {
            wrong.push(format!(
                "{rel}: differs from the page built into the compiler (rebuild)"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
