//! E0502: a component declared and never used; E0503: a procedure never called.
//!
//! A use is resolved as the lowering resolves it: a name used in file F refers to the
//! declaration of that name in F's scope (F and what it imports, transitively). A
//! declaration is reported when no file of the check uses it, and only in a file the
//! user named that is part of the checked set: a file that holds a playbook, or that
//! another file of the check imports. A file with no playbook that nothing imports is
//! a library checked on its own (`mend check common.mend`): its declarations are what
//! it offers to files that are not in this check, and are not reported.
//!
//! A procedure that a person runs by hand is kept with
//! `@allow(E0503, "why")` on its first step.

use super::{Index, imported, roots};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::program::Program;
use crate::source::FileId;
use mend_grammar::ast::Procedure;
use std::collections::HashMap;

pub fn check(program: &Program, index: &Index<'_>, out: &mut Vec<Diagnostic>) {
    let roots = roots(program);
    let imported = imported(program);
    let reported: Vec<bool> = index
        .files
        .iter()
        .enumerate()
        .map(|(f, ix)| roots[f] && (imported[f] || !ix.playbooks.is_empty()))
        .collect();
    // (file, name) -> used, for every declaration (a use resolves to any of them;
    // only those in `reported` files are reported)
    let mut components: HashMap<(usize, &str), bool> = HashMap::new();
    let mut procedures: HashMap<(usize, &str), bool> = HashMap::new();
    let mut any = false;
    for (f, ix) in index.files.iter().enumerate() {
        any |= reported[f] && !(ix.components.is_empty() && ix.procedures.is_empty());
        components.extend(ix.components.iter().map(|c| ((f, c.name.as_str()), false)));
        procedures.extend(
            ix.procedures
                .iter()
                .map(|p| ((f, p.name.name.as_str()), allowed(p))),
        );
    }
    if !any {
        return;
    }
    for (f, ix) in index.files.iter().enumerate() {
        if ix.component_uses.is_empty() && ix.procedure_uses.is_empty() {
            continue;
        }
        let scope = program.scope_files(FileId(f));
        mark_uses(&scope, &ix.component_uses, &mut components, |d| {
            index.files[d].components.iter().map(|c| c.name.as_str())
        });
        mark_uses(&scope, &ix.procedure_uses, &mut procedures, |d| {
            index.files[d]
                .procedures
                .iter()
                .map(|p| p.name.name.as_str())
        });
    }
    for (f, ix) in index.files.iter().enumerate() {
        if !reported[f] {
            continue;
        }
        for c in &ix.components {
            if components.get(&(f, c.name.as_str())) == Some(&false) {
                out.push(
                    Diagnostic::new(
                        Code::E0502,
                        FileId(f),
                        format!(
                            "component `{}` is declared but no playbook, procedure or fan-out uses it",
                            c.name
                        ),
                    )
                    .primary(c.span, "declared here, never used")
                    .help(
                        "write the playbook that recovers it, or remove it; if playbooks outside \
                         this check use it, check them together (`mend check DIR`)",
                    ),
                );
            }
        }
        for p in &ix.procedures {
            if procedures.get(&(f, p.name.name.as_str())) == Some(&false) {
                out.push(
                    Diagnostic::new(
                        Code::E0503,
                        FileId(f),
                        format!("procedure `{}` is never called", p.name.name),
                    )
                    .primary(p.name.span, "no playbook or procedure calls this")
                    .help(
                        "call it from the playbook that needs it, or remove it; if a person runs \
                         it by hand, say so with `@allow(E0503, \"why\")` on its first step",
                    ),
                );
            }
        }
    }
}

/// Marks the declarations that `uses` (names used in one file) resolve to in `scope`
/// (that file and its imports). A name that resolves to nothing is a typo reported
/// by the lowering (E0101, E0104, E0108) with a "did you mean": the declaration it
/// suggests counts as used, so the typo is not reported twice.
fn mark_uses<'a, I>(
    scope: &[FileId],
    uses: &[&'a str],
    declared: &mut HashMap<(usize, &'a str), bool>,
    names_in: impl Fn(usize) -> I,
) where
    I: Iterator<Item = &'a str>,
{
    for name in uses {
        let mut resolved = false;
        for d in scope {
            if let Some(used) = declared.get_mut(&(d.0, *name)) {
                *used = true;
                resolved = true;
            }
        }
        if !resolved {
            let candidates = scope.iter().flat_map(|d| names_in(d.0));
            if let Some(near) = crate::suggest::closest(name, candidates) {
                for d in scope {
                    if let Some(used) = declared.get_mut(&(d.0, near)) {
                        *used = true;
                    }
                }
            }
        }
    }
}

/// `@allow(E0503, "reason")` (or its name, `unused_procedure`) on the procedure's first step.
fn allowed(p: &Procedure) -> bool {
    p.body
        .seq
        .first()
        .and_then(|group| group.first())
        .is_some_and(|step| {
            step.allows.iter().any(|a| {
                Code::parse(&a.code.name) == Some(Code::E0503) && !a.reason.value.trim().is_empty()
            })
        })
}
