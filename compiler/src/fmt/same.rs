//! Whether two trees say the same thing: equal once every span is cleared. The
//! formatter checks its own output with it before anyone sees that output.
//!
//! Spans are cleared rather than fields compared one by one: a field this file
//! forgets makes two equal trees look different (a loud failure in the tests), never
//! two different trees look equal.

use mend_grammar::ast::*;

/// `a` and `b` are the same tree, spans aside.
pub fn same_tree(a: &File, b: &File) -> bool {
    a.items.len() == b.items.len() && without_spans(a) == without_spans(b)
}

/// A copy of `file` with every span set to `0..0`.
pub fn without_spans(file: &File) -> File {
    let mut f = file.clone();
    for item in &mut f.items {
        match item {
            Item::Import(i) => {
                i.span = Span::default();
                string(&mut i.path);
            }
            Item::Component(c) => {
                c.span = Span::default();
                ident(&mut c.name);
                for p in &mut c.properties {
                    property(p);
                }
            }
            Item::Procedure(p) => {
                p.span = Span::default();
                ident(&mut p.name);
                p.params.iter_mut().for_each(ident);
                block(&mut p.body);
            }
            Item::Playbook(p) => {
                p.span = Span::default();
                ident(&mut p.fault);
                ident(&mut p.component);
                block(&mut p.body);
            }
        }
    }
    f
}

fn ident(i: &mut Ident) {
    i.span = Span::default();
}

fn string(s: &mut StringLit) {
    s.span = Span::default();
}

fn number(n: &mut NumberLit) {
    n.span = Span::default();
}

fn duration(d: &mut DurationLit) {
    d.span = Span::default();
}

fn property(p: &mut Property) {
    p.span = Span::default();
    match &mut p.kind {
        PropertyKind::Kind(i)
        | PropertyKind::Ip(i)
        | PropertyKind::Role(i)
        | PropertyKind::Engine(i)
        | PropertyKind::Database(i)
        | PropertyKind::Unknown(i) => ident(i),
        PropertyKind::Select { key, value } => {
            string(key);
            string(value);
        }
        PropertyKind::Store(s)
        | PropertyKind::ProbeLabel(s)
        | PropertyKind::ProbeCommand(s)
        | PropertyKind::Expect(s) => string(s),
        PropertyKind::RoleZk { path, field, map } => {
            string(path);
            ident(field);
            for (n, r) in map {
                number(n);
                ident(r);
            }
        }
    }
}

fn block(b: &mut Block) {
    b.span = Span::default();
    for group in &mut b.seq {
        group.iter_mut().for_each(step);
    }
}

fn step(s: &mut Step) {
    s.span = Span::default();
    s.body_span = Span::default();
    for a in &mut s.allows {
        a.span = Span::default();
        ident(&mut a.code);
        string(&mut a.reason);
    }
    for m in &mut s.modifiers {
        match m {
            Modifier::On(i) => ident(i),
            Modifier::Timeout(d) | Modifier::Within(d) => duration(d),
            Modifier::Retry(n) => number(n),
        }
    }
    match &mut s.kind {
        StepKind::Block(b) => block(b),
        StepKind::Match {
            subject,
            target,
            arms,
        } => {
            ident(subject);
            if let Some(t) = target {
                ident(t);
            }
            for arm in arms {
                arm.span = Span::default();
                arm.patterns.iter_mut().for_each(ident);
                step(&mut arm.body);
            }
        }
        StepKind::When {
            condition,
            then,
            otherwise,
        } => {
            match condition {
                Condition::Flag(a) => ident(a),
                Condition::Equals(a, b) | Condition::Predicate(a, b) => {
                    ident(a);
                    ident(b);
                }
            }
            block(then);
            if let Some(o) = otherwise {
                block(o);
            }
        }
        StepKind::Each {
            var,
            scope,
            of,
            body,
            limit,
        } => {
            ident(var);
            ident(scope);
            if let Some(c) = of {
                ident(c);
            }
            block(body);
            if let Some(n) = limit {
                number(n);
            }
        }
        StepKind::Try {
            body,
            catch,
            finally,
        } => {
            block(body);
            if let Some(c) = catch {
                block(c);
            }
            if let Some(f) = finally {
                block(f);
            }
        }
        StepKind::Call { name, args } => {
            ident(name);
            args.iter_mut().for_each(ident);
        }
        StepKind::Ask(s) | StepKind::Escalate(s) | StepKind::AcceptLoss(s) => string(s),
        StepKind::Action { name, args } => {
            ident(name);
            for a in args {
                match a {
                    Arg::Word(i) => ident(i),
                    Arg::Str(s) | Arg::Secret(s) => string(s),
                    Arg::Number(n) => number(n),
                    Arg::Duration(d) => duration(d),
                    Arg::Equals(sp) => *sp = Span::default(),
                }
            }
        }
    }
}
