//! The pipeline from source files to diagnostics and checked plans.

use crate::analysis;
use crate::codes::{Code, Severity};
use crate::component::component_spec;
use crate::diagnostic::Diagnostic;
use crate::lower::{LoweredPlaybook, Lowerer};
use crate::program::{Program, Scope};
use crate::source::{FileId, SourceFile, SourceMap, SourceProvider};
use mend_grammar::ast::Item;
use std::collections::HashSet;

/// Everything one `mend check` learned.
pub struct Compilation {
    pub sources: SourceMap,
    /// Sorted by file, then position.
    pub diagnostics: Vec<Diagnostic>,
    pub playbooks: Vec<LoweredPlaybook>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Checks `roots` and everything they import.
pub fn check(roots: Vec<SourceFile>, provider: &dyn SourceProvider) -> Compilation {
    let mut diags = Vec::new();
    let program = Program::load(roots, provider, &mut diags);
    let mut playbooks = Vec::new();
    let mut reported = HashSet::new();
    for (id, _) in program.sources.iter() {
        let Some(ast) = &program.asts[id.0] else {
            continue;
        };
        analysis::rules::plaintext_secret::check_file(ast, id, &mut diags);
        let mut scope = None;
        for item in &ast.items {
            match item {
                Item::Component(c) => {
                    component_spec(c, id, &mut diags);
                }
                Item::Playbook(pb) => {
                    let scope = scope.get_or_insert_with(|| {
                        Scope::build(&program, id, &mut diags, &mut reported)
                    });
                    let (lowered, mut d) = Lowerer::new(&program, scope, id).playbook(pb);
                    diags.append(&mut d);
                    if let Some(l) = lowered {
                        diags.extend(analysis::check_playbook(&l));
                        playbooks.push(l);
                    }
                }
                Item::Procedure(p) => {
                    // A procedure is checked where it is called; here only its names,
                    // so that one nobody calls is still resolved.
                    let scope = scope.get_or_insert_with(|| {
                        Scope::build(&program, id, &mut diags, &mut reported)
                    });
                    let mut d = Lowerer::new(&program, scope, id).procedure_names(p);
                    diags.append(&mut d);
                }
                Item::Import(_) => {}
            }
        }
        if scope.is_none() {
            Scope::build(&program, id, &mut diags, &mut reported);
        }
    }
    let diags = silence(diags, &playbooks);
    let mut diagnostics = dedup(diags);
    diagnostics.sort_by_key(|d| (d.file, d.span().start, d.code));
    Compilation {
        sources: program.sources,
        diagnostics,
        playbooks,
    }
}

/// Drops findings silenced in place with `@allow(CODE, "reason")` on the step they
/// point at (or on a step that contains it).
fn silence(diags: Vec<Diagnostic>, playbooks: &[LoweredPlaybook]) -> Vec<Diagnostic> {
    let mut allowed: Vec<(FileId, usize, usize, Code)> = Vec::new();
    for pb in playbooks {
        for (id, codes) in &pb.allows {
            if let Some(o) = pb.origins.get(id) {
                allowed.extend(codes.iter().map(|c| (o.file, o.span.start, o.span.end, *c)));
            }
        }
    }
    if allowed.is_empty() {
        return diags;
    }
    diags
        .into_iter()
        .filter(|d| {
            let sp = d.span();
            !allowed
                .iter()
                .any(|&(f, s, e, c)| c == d.code && f == d.file && s <= sp.start && sp.end <= e)
        })
        .collect()
}

/// A procedure inlined into several playbooks reports the same finding once.
fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.file, d.code, d.span(), d.message.clone())));
    diags
}
