//! Resolution and lowering: a playbook's AST, with the names of its scope, becomes a
//! [`CheckedPlaybook`] tree (procedures inlined, ids given), and each step's origin
//! in the source is kept beside it for the checker's diagnostics.

use crate::actions;
use crate::codes::Code;
use crate::component::component_spec;
use crate::diagnostic::Diagnostic;
use crate::plan::{
    self, Action, CheckedPlaybook, Condition, Node, Scope as FanScope, Step, Target,
};
use crate::program::{Program, Scope};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use mend_grammar::ast::{self, Span, StepKind};
use mend_grammar::keywords::FAULTS;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where a step came from: a file and a span in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub span: Span,
}

/// A playbook after lowering: the plan, and for each step id its origin and the
/// codes silenced on it.
#[derive(Debug, Clone)]
pub struct LoweredPlaybook {
    pub plan: CheckedPlaybook,
    pub file: FileId,
    pub header: Span,
    pub origins: BTreeMap<String, Origin>,
    pub allows: BTreeMap<String, Vec<Code>>,
    /// Fan-out variables and the component they range over (`None`: every
    /// container on the host, of any component).
    pub vars: BTreeMap<String, Option<String>>,
}

/// Match subjects and the values each can take.
pub const SUBJECTS: &[(&str, &[&str])] = &[
    ("role", &["master", "slave"]),
    (
        "replica_error",
        &["none", "parallel_mode", "duplicate_key", "other"],
    ),
    ("peer_mode", &["rw", "ro"]),
    ("nodes_down", &["some", "all"]),
];

/// Conditions of `when`: predicates taking a component, and flags.
pub const PREDICATES: &[&str] = &["all_down", "any_down"];

pub struct Lowerer<'p> {
    program: &'p Program,
    scope: &'p Scope<'p>,
    pub diags: Vec<Diagnostic>,
    origins: BTreeMap<String, Origin>,
    allows: BTreeMap<String, Vec<Code>>,
    vars: BTreeMap<String, Option<String>>,
    /// Procedures being inlined, innermost last: for recursion and errors.
    calls: Vec<(String, FileId, Span)>,
    /// Names bound to targets: fan-out variables and procedure parameters.
    bound: Vec<(String, Target)>,
    /// The file of the AST being lowered (changes inside an inlined procedure).
    file: FileId,
    components_used: Vec<String>,
    /// What a step acts on without `on`: `self`, a fan-out's variable, or a
    /// procedure's first parameter.
    default_target: Target,
    /// Block nesting, counted across inlined procedures.
    depth: usize,
    /// Steps lowered so far in this playbook.
    steps: usize,
    /// The budget was exceeded and said so once.
    too_big: bool,
}

/// Nesting deeper than this once procedures are inlined is refused: a chain of
/// procedures must not overflow the stack (found by fuzzing).
pub const MAX_INLINED_DEPTH: usize = 256;

/// Steps in one playbook once procedures are inlined: procedures that each call the
/// next twice would otherwise inline 2^n steps (found by fuzzing).
pub const MAX_INLINED_STEPS: usize = 50_000;

impl<'p> Lowerer<'p> {
    pub fn new(program: &'p Program, scope: &'p Scope<'p>, file: FileId) -> Self {
        Lowerer {
            program,
            scope,
            diags: Vec::new(),
            origins: BTreeMap::new(),
            allows: BTreeMap::new(),
            vars: BTreeMap::new(),
            calls: Vec::new(),
            bound: Vec::new(),
            file,
            components_used: Vec::new(),
            default_target: Target::SelfNode,
            depth: 0,
            steps: 0,
            too_big: false,
        }
    }

    fn error(
        &mut self,
        code: Code,
        span: Span,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::new(code, self.file, message).primary(span, label);
        if let Some(h) = help {
            d = d.help(h);
        }
        self.diags.push(d);
    }

    /// Lowers one playbook; `None` when its trigger is unusable.
    pub fn playbook(mut self, pb: &ast::Playbook) -> (Option<LoweredPlaybook>, Vec<Diagnostic>) {
        let mut ok = true;
        if !FAULTS.contains(&pb.fault.name.as_str()) {
            let help = did_you_mean(&pb.fault.name, FAULTS.iter().copied())
                .unwrap_or_else(|| format!("the faults are {}", list(FAULTS)));
            self.error(
                Code::E0102,
                pb.fault.span,
                format!("unknown fault `{}`", pb.fault.name),
                "not a fault mend knows",
                Some(help),
            );
            ok = false;
        }
        if !self
            .scope
            .components
            .contains_key(pb.component.name.as_str())
        {
            self.unknown_component(&pb.component);
            ok = false;
        } else {
            self.components_used.push(pb.component.name.clone());
        }
        let body = self.block(&pb.body, "");
        if !ok {
            return (None, self.diags);
        }
        let mut components: Vec<plan::ComponentSpec> = Vec::new();
        let mut names: Vec<&str> = self.components_used.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            if let Some((f, c)) = self.scope.components.get(name) {
                // Property errors are reported once, by `check_components`.
                let mut sink = Vec::new();
                components.push(component_spec(c, *f, &mut sink));
            }
        }
        let file = self.file;
        let lowered = LoweredPlaybook {
            plan: CheckedPlaybook {
                fault: pb.fault.name.clone(),
                component: pb.component.name.clone(),
                components,
                body,
                file: self.program.sources.get(file).path.clone(),
            },
            file,
            header: pb.header_span(),
            origins: self.origins,
            allows: self.allows,
            vars: self.vars,
        };
        (Some(lowered), self.diags)
    }

    /// Resolves the names of a procedure on its own (it is checked in full where
    /// it is called); parameters stand for themselves.
    pub fn procedure_names(mut self, p: &ast::Procedure) -> Vec<Diagnostic> {
        self.bound = p
            .params
            .iter()
            .map(|x| (x.name.clone(), Target::Var(x.name.clone())))
            .collect();
        if let Some(first) = p.params.first() {
            self.default_target = Target::Var(first.name.clone());
        }
        self.calls
            .push((p.name.name.clone(), self.file, p.name.span));
        let _ = self.block(&p.body, "");
        self.diags
    }

    fn unknown_component(&mut self, name: &ast::Ident) {
        let names: Vec<&str> = self.scope.components.keys().copied().collect();
        let help = did_you_mean(&name.name, names.iter().copied()).or_else(|| {
            Some("declare it with `component NAME { … }` or import the file that does".to_string())
        });
        self.error(
            Code::E0101,
            name.span,
            format!("unknown component `{}`", name.name),
            "no component of this name is in scope",
            help,
        );
    }

    fn block(&mut self, block: &ast::Block, prefix: &str) -> Node {
        if self.depth >= MAX_INLINED_DEPTH || self.steps >= MAX_INLINED_STEPS {
            self.refuse_size(block.span);
            return Node::Seq(Vec::new());
        }
        self.depth += 1;
        let node = self.block_inner(block, prefix);
        self.depth -= 1;
        node
    }

    /// Reports, once, a playbook too deep or too large once procedures are inlined.
    fn refuse_size(&mut self, span: Span) {
        if std::mem::replace(&mut self.too_big, true) {
            return;
        }
        let (what, limit) = if self.depth >= MAX_INLINED_DEPTH {
            (
                "nested more than",
                format!("{MAX_INLINED_DEPTH} blocks deep"),
            )
        } else {
            ("larger than", format!("{MAX_INLINED_STEPS} steps"))
        };
        let mut d = Diagnostic::new(Code::E0003, self.file, format!("with its procedures inlined, this playbook is {what} {limit}"))
            .primary(span, "the limit is reached here")
            .help("procedures that call each other in a long chain, or call the next one several times, multiply: flatten the chain");
        if let Some((n, f, sp)) = self.calls.last() {
            d = d.secondary_in(*f, *sp, format!("inside `{n}`"));
        }
        self.diags.push(d);
    }

    fn block_inner(&mut self, block: &ast::Block, prefix: &str) -> Node {
        let mut seq = Vec::new();
        let mut k = 0;
        for group in &block.seq {
            let mut par = Vec::new();
            for step in group {
                k += 1;
                par.push(self.step(step, &format!("{prefix}{k}")));
            }
            seq.push(if par.len() == 1 {
                par.pop().expect("one")
            } else {
                Node::Par(par)
            });
        }
        Node::Seq(seq)
    }

    fn origin(&mut self, id: &str, span: Span) {
        self.origins.insert(
            id.to_string(),
            Origin {
                file: self.file,
                span,
            },
        );
    }

    fn step(&mut self, step: &ast::Step, id: &str) -> Node {
        self.steps += 1;
        self.origin(id, step.body_span);
        for allow in &step.allows {
            match crate::codes::Code::parse(&allow.code.name) {
                Some(code) if !allow.reason.value.trim().is_empty() => {
                    self.allows.entry(id.to_string()).or_default().push(code);
                }
                Some(_) => self.error(
                    Code::E0111,
                    allow.reason.span,
                    "`@allow` needs a reason".into(),
                    "empty reason",
                    Some("say why the finding does not apply here, for the reviewer".into()),
                ),
                None => self.error(
                    Code::E0111,
                    allow.code.span,
                    format!("`{}` is not a diagnostic code", allow.code.name),
                    "unknown code",
                    Some("write a code such as `E0202`; `mend explain` lists them".into()),
                ),
            }
        }
        let mut target = self.default_target.clone();
        let mut timeout = None;
        let mut retry = 0;
        let mut within = None;
        for m in &step.modifiers {
            match m {
                ast::Modifier::On(t) => target = self.target(t),
                ast::Modifier::Timeout(d) => timeout = Some(Duration::from_millis(d.millis)),
                ast::Modifier::Retry(n) => retry = n.value.min(100) as u32,
                ast::Modifier::Within(d) => within = Some(Duration::from_millis(d.millis)),
            }
        }
        let prefix = format!("{id}.");
        let action = match &step.kind {
            StepKind::Block(b) => return self.block(b, &prefix),
            StepKind::Match {
                subject,
                target: on,
                arms,
            } => {
                let target = on.as_ref().map_or(target, |t| self.target(t));
                return self.match_step(subject, target, arms, id);
            }
            StepKind::When {
                condition,
                then,
                otherwise,
            } => {
                let condition = self.condition(condition);
                let then = Box::new(self.block(then, &format!("{id}.1.")));
                let otherwise = otherwise
                    .as_ref()
                    .map(|b| Box::new(self.block(b, &format!("{id}.2."))));
                return Node::When {
                    id: id.to_string(),
                    condition,
                    then,
                    otherwise,
                };
            }
            StepKind::Each {
                var,
                scope,
                of,
                body,
                limit,
            } => {
                let scope = if scope.name == "host" {
                    match of {
                        Some(c) if self.scope.components.contains_key(c.name.as_str()) => {
                            self.components_used.push(c.name.clone());
                            FanScope::HostOf(c.name.clone())
                        }
                        Some(c) => {
                            self.unknown_component(c);
                            FanScope::Host
                        }
                        None => FanScope::Host,
                    }
                } else if let Some(of) = of {
                    self.error(
                        Code::E0108,
                        of.span,
                        format!("`{}(…)` is not a fan-out scope", scope.name),
                        "only `host(COMPONENT)` takes a component",
                        Some("write `each x on host(COMPONENT)` or `each x on COMPONENT`".into()),
                    );
                    FanScope::Host
                } else if self.scope.components.contains_key(scope.name.as_str()) {
                    self.components_used.push(scope.name.clone());
                    FanScope::Component(scope.name.clone())
                } else {
                    let names: Vec<&str> = self.scope.components.keys().copied().collect();
                    let help = did_you_mean(&scope.name, names.iter().copied().chain(["host"]))
                        .or_else(|| Some("fan out `on host` or on a component".into()));
                    self.error(
                        Code::E0108,
                        scope.span,
                        format!("cannot fan out on `{}`", scope.name),
                        "not `host` nor a component",
                        help,
                    );
                    FanScope::Host
                };
                let over = match &scope {
                    FanScope::Host => None,
                    FanScope::Component(c) | FanScope::HostOf(c) => Some(c.clone()),
                };
                self.vars.insert(var.name.clone(), over);
                self.bound
                    .push((var.name.clone(), Target::Var(var.name.clone())));
                let saved =
                    std::mem::replace(&mut self.default_target, Target::Var(var.name.clone()));
                let body = Box::new(self.block(body, &prefix));
                self.default_target = saved;
                self.bound.pop();
                let limit = limit.map_or(8, |l| l.value.clamp(1, 1024) as usize);
                return Node::Each {
                    id: id.to_string(),
                    var: var.name.clone(),
                    scope,
                    body,
                    limit,
                };
            }
            StepKind::Try {
                body,
                catch,
                finally,
            } => {
                let body = Box::new(self.block(body, &format!("{id}.1.")));
                let catch = catch
                    .as_ref()
                    .map(|b| Box::new(self.block(b, &format!("{id}.2."))));
                let finally = finally
                    .as_ref()
                    .map(|b| Box::new(self.block(b, &format!("{id}.3."))));
                return Node::Try {
                    body,
                    catch,
                    finally,
                };
            }
            StepKind::Call { name, args } => return self.call(name, args, id),
            StepKind::Ask(s) => Action::Ask {
                text: s.value.clone(),
            },
            StepKind::Escalate(s) => Action::Escalate {
                text: s.value.clone(),
            },
            StepKind::AcceptLoss(s) => Action::AcceptLoss {
                reason: s.value.clone(),
            },
            StepKind::Action { name, args } => {
                if !actions::ACTION_NAMES.contains(&name.name.as_str()) {
                    let help = did_you_mean(&name.name, actions::ACTION_NAMES.iter().copied())
                        .or_else(|| Some("the actions are listed in docs/language.md".into()));
                    self.error(
                        Code::E0103,
                        name.span,
                        format!("unknown action `{}`", name.name),
                        "not an action mend knows",
                        help,
                    );
                    return Node::Seq(Vec::new());
                }
                match actions::lower(name, args, within) {
                    Ok(a) => a,
                    Err(e) => {
                        self.error(Code::E0105, e.span, e.message, "wrong argument", e.help);
                        return Node::Seq(Vec::new());
                    }
                }
            }
        };
        if retry > 0 && !action.is_idempotent() {
            let span = step
                .modifiers
                .iter()
                .find(|m| matches!(m, ast::Modifier::Retry(_)))
                .map_or(step.body_span, ast::Modifier::span);
            self.error(
                Code::E0105,
                span,
                "`retry` on a step that is not idempotent".into(),
                "this step may not be repeated",
                Some("a second attempt could repeat a destructive or person-performed step; remove `retry`".into()),
            );
            retry = 0;
        }
        let timeout = timeout.unwrap_or_else(|| actions::default_timeout(&action));
        let text = self.program.sources.get(self.file).text
            [step.body_span.start..step.body_span.end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let line = self
            .program
            .sources
            .get(self.file)
            .line_col(step.body_span.start)
            .0 as u32;
        Node::Step(Step {
            id: id.to_string(),
            action,
            target,
            timeout,
            retry,
            text,
            line,
        })
    }

    fn target(&mut self, t: &ast::Ident) -> Target {
        match t.name.as_str() {
            "self" => return Target::SelfNode,
            "peer" => return Target::Peer,
            _ => {}
        }
        if let Some((_, bound)) = self.bound.iter().rev().find(|(n, _)| *n == t.name) {
            return bound.clone();
        }
        if self.scope.components.contains_key(t.name.as_str()) {
            self.components_used.push(t.name.clone());
            return Target::Component(t.name.clone());
        }
        let names: Vec<String> = self.bound.iter().map(|(n, _)| n.clone()).collect();
        let help = did_you_mean(&t.name, names.iter().map(String::as_str).chain(["self", "peer"]))
            .or_else(|| Some("a target is `self`, `peer`, a fan-out variable, a procedure parameter or a component".into()));
        self.error(
            Code::E0108,
            t.span,
            format!("unknown target `{}`", t.name),
            "not a target in scope",
            help,
        );
        Target::SelfNode
    }

    fn match_step(
        &mut self,
        subject: &ast::Ident,
        target: Target,
        arms: &[ast::Arm],
        id: &str,
    ) -> Node {
        let values = SUBJECTS
            .iter()
            .find(|(s, _)| *s == subject.name)
            .map(|(_, v)| *v);
        if values.is_none() {
            let help = did_you_mean(&subject.name, SUBJECTS.iter().map(|(s, _)| *s))
                .unwrap_or_else(|| {
                    format!(
                        "a `match` is on {}",
                        list(&SUBJECTS.iter().map(|(s, _)| *s).collect::<Vec<_>>())
                    )
                });
            self.error(
                Code::E0112,
                subject.span,
                format!("cannot match on `{}`", subject.name),
                "not known at run time",
                Some(help),
            );
        }
        let mut lowered = Vec::new();
        for (i, arm) in arms.iter().enumerate() {
            let mut pats = Vec::new();
            for p in &arm.patterns {
                if let Some(values) = values
                    && p.name != "_"
                    && !values.contains(&p.name.as_str())
                {
                    let help = did_you_mean(&p.name, values.iter().copied())
                        .unwrap_or_else(|| format!("`{}` is {}", subject.name, list(values)));
                    self.error(
                        Code::E0112,
                        p.span,
                        format!("`{}` is never `{}`", subject.name, p.name),
                        "no such value",
                        Some(help),
                    );
                }
                pats.push(p.name.clone());
            }
            let body = self.step(&arm.body, &format!("{id}.{}", i + 1));
            // keep the arm's whole span for "arm never taken" findings
            self.origin(&format!("{id}.{}", i + 1), arm.span);
            lowered.push((pats, body));
        }
        Node::Match {
            id: id.to_string(),
            subject: subject.name.clone(),
            target,
            arms: lowered,
        }
    }

    fn condition(&mut self, c: &ast::Condition) -> Condition {
        match c {
            ast::Condition::Flag(f) => Condition::Flag(f.name.clone()),
            ast::Condition::Equals(a, b) => {
                if let Some((_, values)) = SUBJECTS.iter().find(|(s, _)| *s == a.name) {
                    if !values.contains(&b.name.as_str()) {
                        let help = did_you_mean(&b.name, values.iter().copied())
                            .unwrap_or_else(|| format!("`{}` is {}", a.name, list(values)));
                        self.error(
                            Code::E0112,
                            b.span,
                            format!("`{}` is never `{}`", a.name, b.name),
                            "no such value",
                            Some(help),
                        );
                    }
                } else {
                    self.error(
                        Code::E0112,
                        a.span,
                        format!("cannot compare `{}`", a.name),
                        "not known at run time",
                        Some(format!(
                            "compare one of {}",
                            list(&SUBJECTS.iter().map(|(s, _)| *s).collect::<Vec<_>>())
                        )),
                    );
                }
                Condition::Equals {
                    subject: a.name.clone(),
                    value: b.name.clone(),
                }
            }
            ast::Condition::Predicate(p, arg) => {
                if !PREDICATES.contains(&p.name.as_str()) {
                    let help = did_you_mean(&p.name, PREDICATES.iter().copied())
                        .unwrap_or_else(|| format!("the conditions are {}", list(PREDICATES)));
                    self.error(
                        Code::E0112,
                        p.span,
                        format!("unknown condition `{}`", p.name),
                        "not a condition mend knows",
                        Some(help),
                    );
                }
                if self.scope.components.contains_key(arg.name.as_str()) {
                    self.components_used.push(arg.name.clone());
                } else {
                    self.unknown_component(arg);
                }
                Condition::Predicate {
                    name: p.name.clone(),
                    argument: arg.name.clone(),
                }
            }
        }
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Ident], id: &str) -> Node {
        let Some(&(pfile, proc_)) = self.scope.procedures.get(name.name.as_str()) else {
            let names: Vec<&str> = self.scope.procedures.keys().copied().collect();
            let help = did_you_mean(&name.name, names.iter().copied()).or_else(|| {
                Some(
                    "declare it with `procedure NAME(…) < … >` or import the file that does".into(),
                )
            });
            self.error(
                Code::E0104,
                name.span,
                format!("unknown procedure `{}`", name.name),
                "no procedure of this name is in scope",
                help,
            );
            return Node::Seq(Vec::new());
        };
        if args.len() != proc_.params.len() {
            self.error(
                Code::E0105,
                name.span,
                format!(
                    "`{}` takes {} target(s) but {} were given",
                    name.name,
                    proc_.params.len(),
                    args.len()
                ),
                "wrong number of arguments",
                Some(format!(
                    "call it as `call {}({})`",
                    name.name,
                    proc_
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            return Node::Seq(Vec::new());
        }
        if let Some(pos) = self.calls.iter().position(|(n, _, _)| *n == name.name) {
            let cycle: Vec<&str> = self.calls[pos..]
                .iter()
                .map(|(n, _, _)| n.as_str())
                .chain([name.name.as_str()])
                .collect();
            // The same cycle is found from each of its procedures: name it the same
            // way every time (starting at its smallest name) so it is reported once.
            let ring = &cycle[..cycle.len() - 1];
            let start = ring
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| **n)
                .map_or(0, |(i, _)| i);
            let canonical: Vec<&str> = ring[start..]
                .iter()
                .chain(&ring[..start])
                .chain(&ring[start..=start])
                .copied()
                .collect();
            let mut d = Diagnostic::new(Code::E0304, self.file, format!("procedures call each other in a cycle: `{}`", canonical.join(" -> ")))
                .primary(name.span, "this call closes the cycle")
                .help("a recovery must end: replace the recursive call with `escalate` or a bounded `retry`");
            for (n, f, sp) in &self.calls[pos..] {
                let is_definition = self
                    .scope
                    .procedures
                    .get(n.as_str())
                    .is_some_and(|(pf, p)| *pf == *f && p.name.span == *sp);
                let label = if is_definition {
                    format!("`{n}` defined here")
                } else {
                    format!("`{n}` called here")
                };
                d = d.secondary_in(*f, *sp, label);
            }
            self.diags.push(d);
            return Node::Seq(Vec::new());
        }
        let targets: Vec<Target> = args.iter().map(|a| self.target(a)).collect();
        let saved_bound = std::mem::take(&mut self.bound);
        let saved_default = std::mem::replace(
            &mut self.default_target,
            targets.first().cloned().unwrap_or(Target::SelfNode),
        );
        self.bound = proc_
            .params
            .iter()
            .map(|p| p.name.clone())
            .zip(targets)
            .collect();
        self.calls.push((name.name.clone(), self.file, name.span));
        let saved_file = std::mem::replace(&mut self.file, pfile);
        let body = self.block(&proc_.body, &format!("{id}."));
        self.file = saved_file;
        self.calls.pop();
        self.bound = saved_bound;
        self.default_target = saved_default;
        body
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
