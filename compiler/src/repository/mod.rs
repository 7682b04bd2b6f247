//! Repository rules: findings that only show when the files of one `mend check` are
//! looked at together.
//!
//! - E0501 ([`duplicate_playbook`]): two playbooks fire on the same fault of the same
//!   component.
//! - E0502, E0503 ([`unused`]): a component no playbook, procedure or fan-out uses;
//!   a procedure nothing calls.
//!
//! (Import cycles across files are E0107, found while loading: `program.rs`.)
//!
//! Cost: one walk over each file's syntax tree (on all threads) builds a small
//! [`FileIndex`] of names declared and used; the rules then only hash names. Nothing
//! is quadratic in the number of files: a name is resolved through the scope of the
//! file that uses it (itself and its imports), as the lowering does.

pub mod duplicate_playbook;
pub mod unused;

use crate::diagnostic::Diagnostic;
use crate::program::Program;
use crate::source::FileId;
use mend_grammar::ast::{self, Block, Ident, Item, Modifier, Step, StepKind};

/// What one file declares and uses, by name.
#[derive(Default)]
pub struct FileIndex<'a> {
    pub components: Vec<&'a Ident>,
    pub procedures: Vec<&'a ast::Procedure>,
    pub playbooks: Vec<&'a ast::Playbook>,
    /// Names used where a component is expected (`on X`, `each x on X`,
    /// `host(X)`, `all_down(X)`, a call's arguments, a playbook's trigger), once each.
    pub component_uses: Vec<&'a str>,
    /// Names of procedures called, once each.
    pub procedure_uses: Vec<&'a str>,
}

/// Every file's index, by [`FileId`] (a file that did not parse has an empty one).
pub struct Index<'a> {
    pub files: Vec<FileIndex<'a>>,
}

impl<'a> Index<'a> {
    pub fn build(program: &'a Program, threads: usize) -> Index<'a> {
        let ids: Vec<usize> = (0..program.asts.len()).collect();
        let files = crate::parallel::map(ids, threads, |i| {
            program.asts[i].as_ref().map(index_file).unwrap_or_default()
        });
        Index { files }
    }
}

/// The repository rules over every file of `program`.
pub fn check(program: &Program, threads: usize) -> Vec<Diagnostic> {
    let index = Index::build(program, threads);
    let mut out = Vec::new();
    duplicate_playbook::check(program, &index, &mut out);
    unused::check(program, &index, &mut out);
    out
}

fn index_file(file: &ast::File) -> FileIndex<'_> {
    let mut ix = FileIndex::default();
    let mut walker = Walker {
        ix: &mut ix,
        bound: Vec::new(),
    };
    for item in &file.items {
        match item {
            Item::Component(c) => walker.ix.components.push(&c.name),
            Item::Procedure(p) => {
                walker.ix.procedures.push(p);
                walker.bound = p.params.iter().map(|x| x.name.as_str()).collect();
                walker.block(&p.body);
                walker.bound.clear();
            }
            Item::Playbook(pb) => {
                walker.ix.playbooks.push(pb);
                walker.component(&pb.component);
                walker.block(&pb.body);
            }
            Item::Import(_) => {}
        }
    }
    ix.component_uses.sort_unstable();
    ix.component_uses.dedup();
    ix.procedure_uses.sort_unstable();
    ix.procedure_uses.dedup();
    ix
}

struct Walker<'a, 'i> {
    ix: &'i mut FileIndex<'a>,
    /// Names bound here: procedure parameters and fan-out variables, which shadow
    /// components.
    bound: Vec<&'a str>,
}

impl<'a> Walker<'a, '_> {
    fn component(&mut self, name: &'a Ident) {
        let n = name.name.as_str();
        if n != "self" && n != "peer" && !self.bound.contains(&n) {
            self.ix.component_uses.push(n);
        }
    }

    fn block(&mut self, block: &'a Block) {
        for step in block.seq.iter().flatten() {
            self.step(step);
        }
    }

    fn step(&mut self, step: &'a Step) {
        for m in &step.modifiers {
            if let Modifier::On(t) = m {
                self.component(t);
            }
        }
        match &step.kind {
            StepKind::Block(b) => self.block(b),
            StepKind::Match { target, arms, .. } => {
                if let Some(t) = target {
                    self.component(t);
                }
                for arm in arms {
                    self.step(&arm.body);
                }
            }
            StepKind::When {
                condition,
                then,
                otherwise,
            } => {
                if let ast::Condition::Predicate(_, arg) = condition {
                    self.component(arg);
                }
                self.block(then);
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            StepKind::Each {
                var,
                scope,
                of,
                body,
                ..
            } => {
                if scope.name != "host" {
                    self.component(scope);
                }
                if let Some(c) = of {
                    self.component(c);
                }
                self.bound.push(&var.name);
                self.block(body);
                self.bound.pop();
            }
            StepKind::Try {
                body,
                catch,
                finally,
            } => {
                self.block(body);
                for b in [catch, finally].into_iter().flatten() {
                    self.block(b);
                }
            }
            StepKind::Call { name, args } => {
                self.ix.procedure_uses.push(&name.name);
                for a in args {
                    self.component(a);
                }
            }
            StepKind::Ask(_)
            | StepKind::Escalate(_)
            | StepKind::AcceptLoss(_)
            | StepKind::Action { .. } => {}
        }
    }
}

/// Files that some other file of the program imports.
pub(crate) fn imported(program: &Program) -> Vec<bool> {
    let mut out = vec![false; program.asts.len()];
    for (from, imports) in program.imports.iter().enumerate() {
        for (_, to) in imports {
            if to.0 != from {
                out[to.0] = true;
            }
        }
    }
    out
}

/// `true` for the files the user named.
pub(crate) fn roots(program: &Program) -> Vec<bool> {
    let mut out = vec![false; program.asts.len()];
    for r in &program.roots {
        out[r.0] = true;
    }
    out
}

/// The path shown for a file.
pub(crate) fn path(program: &Program, f: FileId) -> &str {
    program.sources.get(f).path.as_str()
}
