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
    /// The lowered playbooks (empty when `CheckOptions::keep_plans` is off).
    pub playbooks: Vec<LoweredPlaybook>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Threads to check files on (the caller asks the system how many cores).
    pub threads: usize,
    /// Keep the lowered playbooks (`plan`, `run`, `graph`); `check` needs only the
    /// diagnostics, and 10,000 plans are memory nobody reads.
    pub keep_plans: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            threads: 1,
            keep_plans: true,
        }
    }
}

/// Checks `roots` and everything they import, on one thread, keeping the plans.
pub fn check(roots: Vec<SourceFile>, provider: &dyn SourceProvider) -> Compilation {
    check_with(roots, provider, CheckOptions::default())
}

/// Checks `roots` and everything they import.
pub fn check_with(
    roots: Vec<SourceFile>,
    provider: &dyn SourceProvider,
    opts: CheckOptions,
) -> Compilation {
    let mut diags = Vec::new();
    let mut program = Program::load(roots, provider, opts.threads, &mut diags);
    let ids: Vec<FileId> = program.sources.iter().map(|(id, _)| id).collect();
    let results = crate::parallel::map(ids, opts.threads, |id| {
        check_file(&program, id, opts.keep_plans)
    });
    diags.append(&mut crate::repository::check(&program, opts.threads));
    // Freeing thousands of syntax trees takes a tenth of the run on one core, after
    // the work is done: a thread of their own frees them (a process that exits next
    // does not wait for it).
    if program.asts.len() >= 64 {
        let asts = std::mem::take(&mut program.asts);
        std::thread::spawn(move || drop(asts));
    }
    let mut playbooks = Vec::new();
    for (mut d, mut p) in results {
        diags.append(&mut d);
        playbooks.append(&mut p);
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

/// Everything about one file: its components, playbooks (lowered and analysed) and
/// procedures (names resolved).
fn check_file(
    program: &Program,
    id: FileId,
    keep_plans: bool,
) -> (Vec<Diagnostic>, Vec<LoweredPlaybook>) {
    let mut diags = Vec::new();
    let mut playbooks = Vec::new();
    let Some(ast) = &program.asts[id.0] else {
        return (diags, playbooks);
    };
    analysis::rules::plaintext_secret::check_file(ast, id, &mut diags);
    // Duplicates are reported by every file whose scope sees them; `dedup` keeps one.
    let mut reported = HashSet::new();
    let scope = Scope::build(program, id, &mut diags, &mut reported);
    for item in &ast.items {
        match item {
            Item::Component(c) => {
                component_spec(c, id, &mut diags);
            }
            Item::Playbook(pb) => {
                let (lowered, mut d) = Lowerer::new(program, &scope, id).playbook(pb);
                diags.append(&mut d);
                if let Some(l) = lowered {
                    diags.extend(analysis::check_playbook(&l));
                    if keep_plans || !l.allows.is_empty() {
                        playbooks.push(l);
                    }
                }
            }
            Item::Procedure(p) => {
                // A procedure is checked in full where it is called; here only its
                // names, so that one nobody calls is still resolved.
                let mut d = Lowerer::new(program, &scope, id).procedure_names(p);
                diags.append(&mut d);
            }
            Item::Import(_) => {}
        }
    }
    (diags, playbooks)
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
    let mut seen = HashSet::new();
    diags.retain(|d| {
        // A cycle of procedures is one finding, wherever it was entered from.
        let key = if d.code == Code::E0304 {
            (
                FileId::default(),
                d.code,
                mend_grammar::ast::Span::default(),
                d.message.clone(),
            )
        } else {
            (d.file, d.code, d.span(), d.message.clone())
        };
        seen.insert(key)
    });
    diags
}
