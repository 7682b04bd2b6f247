//! The playbooks that ship (`stdlib-playbooks/`): they check clean, and every section
//! of the recovery guide (§1.1 … §5.3) is cited by a playbook and has a row in the
//! README's table.

use crate::support::{RepoProvider, check_file, mend_files, read};
use mend_compiler::render::short;
use mend_compiler::{SourceFile, check};

const DIR: &str = "stdlib-playbooks";

/// Every section of `ark-recovery-guide.md` that a playbook or procedure stands for:
/// the component × fault table (§1 software fault, §2 host down, §3 hardware fault)
/// and the methods (§4 DBPaaS, §5 common).
const GUIDE_SECTIONS: &[&str] = &[
    "§1.1", "§1.2", "§1.3", "§1.4", "§1.5", "§1.6", "§1.7", "§1.8", "§1.9", "§1.10", "§1.11",
    "§1.12", //
    "§2.1", "§2.2", "§2.3", "§2.4", "§2.5", "§2.6", "§2.7", "§2.8", "§2.9", "§2.10", "§2.11",
    "§2.12", "§2.13", //
    "§3.1", "§3.2", "§3.3", "§3.4", "§3.5", "§3.6", "§3.7", "§3.8", "§3.9", "§3.10", "§3.11",
    "§3.12", "§3.13", "§3.14", //
    "§4.1", "§4.1.1", "§4.1.2", "§4.1.3", "§4.2", "§4.3", //
    "§5.1", "§5.2", "§5.3",
];

/// Whether `text` cites `section` as a whole: `§1.1` is not cited by `§1.12`, nor
/// `§4.1` by `§4.1.3`.
fn cites(text: &str, section: &str) -> bool {
    text.match_indices(section).any(|(at, _)| {
        let rest = &text.as_bytes()[at + section.len()..];
        match rest {
            [d, ..] if d.is_ascii_digit() => false,
            [b'.', d, ..] if d.is_ascii_digit() => false,
            _ => true,
        }
    })
}

#[test]
fn citation_matches_whole_sections() {
    assert!(cites("# §1.1 dbnode", "§1.1"));
    assert!(cites("(§1.1).", "§1.1"));
    assert!(cites("§1.12 §1.1", "§1.1"));
    assert!(!cites("# §1.12", "§1.1"));
    assert!(!cites("§4.1.3", "§4.1"));
    assert!(cites("§4.1.3", "§4.1.3"));
    assert!(cites("§4.1. then", "§4.1"));
}

#[test]
fn stdlib_checks_clean() {
    let files = mend_files(DIR);
    assert!(!files.is_empty(), "no playbooks in {DIR}");
    // all together, as `mend check stdlib-playbooks` does
    let roots = files.iter().map(|f| SourceFile::new(f, read(f))).collect();
    let c = check(roots, &RepoProvider::new());
    let found: Vec<String> = c.diagnostics.iter().map(|d| short(d, &c.sources)).collect();
    assert!(
        found.is_empty(),
        "{DIR} has findings:\n{}",
        found.join("\n")
    );
    assert!(!c.playbooks.is_empty(), "{DIR} holds no playbook");
    // and each file alone: each imports what it uses
    for f in &files {
        let c = check_file(f);
        let found: Vec<String> = c.diagnostics.iter().map(|d| short(d, &c.sources)).collect();
        assert!(
            found.is_empty(),
            "{f} checked alone has findings:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn every_guide_section_is_cited_by_a_playbook() {
    let texts: Vec<(String, String)> = mend_files(DIR)
        .into_iter()
        .map(|f| {
            let t = read(&f);
            (f, t)
        })
        .collect();
    let uncited: Vec<&str> = GUIDE_SECTIONS
        .iter()
        .copied()
        .filter(|s| !texts.iter().any(|(_, t)| cites(t, s)))
        .collect();
    assert!(
        uncited.is_empty(),
        "no file of {DIR} cites {uncited:?} (as `# §N.M` in a comment)"
    );
}

#[test]
fn every_guide_section_has_a_readme_row() {
    let readme = read(&format!("{DIR}/README.md"));
    // the first cell of each table row: `| §1.1 | dbnode.mend | …`
    let first_cells: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix('|'))
        .filter_map(|l| l.split('|').next())
        .map(str::trim)
        .collect();
    let missing: Vec<&str> = GUIDE_SECTIONS
        .iter()
        .copied()
        .filter(|s| !first_cells.iter().any(|c| cites(c, s)))
        .collect();
    assert!(
        missing.is_empty(),
        "{DIR}/README.md has no row (`| § | file | trigger | … |`) for {missing:?}"
    );
}
