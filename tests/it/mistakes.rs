//! Realistic operator mistakes (`tests/fixtures/mistakes/`): each file's line 1 names
//! the rule it breaks by its kebab-case name (`# expect: no-backup`), and mend must
//! reject it with exactly that code, and nothing else.

use crate::support::{
    check_file, codes, header_words, mend_files, read, rel_path, show, snapshot_text,
};
use mend_compiler::Code;
use mend_compiler::render::short;
use std::collections::BTreeSet;

const DIR: &str = "tests/fixtures/mistakes";

/// Rule names used by a fixture header that `Code::parse` does not know, mapped to
/// the code the fixture is about, so that the rest of the file is still checked.
/// Each entry is a disagreement between a fixture and `compiler/src/codes.rs` that
/// the lead has to settle (rename the rule, or fix the header); the test fails as soon
/// as the name parses, so the entry is removed then.
const PENDING_RULE_NAMES: &[(&str, Code)] = &[];

fn rule_of(name: &str) -> Result<Code, String> {
    let pending = PENDING_RULE_NAMES.iter().find(|(n, _)| *n == name);
    match (Code::parse(name), pending) {
        (Some(_), Some(_)) => Err(format!(
            "`{name}` now parses: remove it from PENDING_RULE_NAMES"
        )),
        (Some(c), None) => Ok(c),
        (None, Some((_, c))) => Ok(*c),
        (None, None) => Err(format!(
            "`{name}` is not a rule name of compiler/src/codes.rs"
        )),
    }
}

#[test]
fn every_mistake_is_rejected_with_its_rule() {
    let files = mend_files(DIR);
    assert!(!files.is_empty(), "no fixtures in {DIR}");
    let mut failures = Vec::new();
    for rel in &files {
        let text = read(rel);
        let code = match header_words(&text).and_then(|w| match w.as_slice() {
            [one] => rule_of(one),
            _ => Err(format!("names {} rules; a mistake breaks one", w.len())),
        }) {
            Ok(c) => c,
            Err(why) => {
                failures.push(format!("{rel}: {why}"));
                continue;
            }
        };
        let c = check_file(rel);
        let got = codes(&c);
        if got != BTreeSet::from([code]) {
            let lines: Vec<String> = c
                .diagnostics
                .iter()
                .map(|d| format!("    {}", short(d, &c.sources)))
                .collect();
            failures.push(format!(
                "{rel}: expected exactly {code} ({}), got {}\n{}",
                code.info().name,
                show(&got),
                lines.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} mistakes are not rejected as their header says:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn mistakes_snapshot_source_and_diagnostics() {
    insta::glob!("../fixtures/mistakes", "*.mend", |path| {
        let rel = rel_path(path);
        let c = check_file(&rel);
        insta::assert_snapshot!("mistake", snapshot_text(&rel, &c));
    });
}
