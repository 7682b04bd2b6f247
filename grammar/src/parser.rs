//! Source text → pest pairs → [`ast::File`]. The pairs never leave this file.
//!
//! The lowering asserts the shapes the grammar guarantees (`expect` on a pair the
//! grammar always produces); a broken assertion is a bug in this file, not in the
//! user's input, and the fuzz tests hunt for it.

use crate::ast::*;
use crate::syntax_error::{SyntaxError, SyntaxErrorKind};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "mend.pest"]
pub(crate) struct MendParser;

/// Deeper nesting than this is refused before pest sees it: pest recurses, and a
/// hostile file of 10,000 `<` must not overflow the stack.
pub const MAX_NESTING: usize = 64;

/// pest's call limit: no input may make the parser run away. It grows with the
/// input (a valid file needs about 12 rule calls per byte), so a large but honest
/// file parses, while backtracking that is worse than linear is still stopped.
fn call_limit(len: usize) -> usize {
    5_000_000usize.max(len.saturating_mul(40))
}

/// What parsing produced: a tree when the text had the grammar's shape, and the
/// problems found (a tree can come with problems the grammar tolerates on purpose,
/// such as a block written with braces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub file: Option<File>,
    pub errors: Vec<SyntaxError>,
}

/// Parse a whole file.
pub fn parse(source: &str) -> Parsed {
    if let Some(err) = check_nesting(source) {
        return Parsed {
            file: None,
            errors: vec![err],
        };
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(call_limit(source.len())));
    match MendParser::parse(Rule::file, source) {
        Ok(mut pairs) => {
            let mut lower = Lower { errors: Vec::new() };
            let file = lower.file(pairs.next().expect("file"));
            Parsed {
                file: Some(file),
                errors: lower.errors,
            }
        }
        Err(e) => Parsed {
            file: None,
            errors: vec![crate::syntax_error::from_pest(source, &e)],
        },
    }
}

/// Counts bracket depth outside strings and comments.
fn check_nesting(source: &str) -> Option<SyntaxError> {
    let bytes = source.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'<' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(SyntaxError {
                        kind: SyntaxErrorKind::TooDeep,
                        span: Span::new(i, i + 1),
                        message: format!("blocks are nested more than {MAX_NESTING} deep"),
                        label: "too deep here".into(),
                        help: Some("split the playbook into procedures".into()),
                    });
                }
            }
            // `=>` and `==` close nothing
            b'=' if matches!(bytes.get(i + 1), Some(b'>' | b'=')) => i += 1,
            b'>' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The pair's span without the whitespace and comments pest may leave at its end
/// (an optional modifier tried after a step swallows them).
fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.start() + code_len(pair.as_str()))
}

/// Length of `text` up to the end of its last token that is not a comment.
fn code_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut end) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                end = (i + 1).min(bytes.len());
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => end = i + 1,
        }
        i += 1;
    }
    // never split a UTF-8 character
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

/// Pairs that carry meaning: punctuation and keywords are dropped.
fn meaningful(pairs: Pairs<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pairs.filter(|p| !is_token(p.as_rule()))
}

fn is_token(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        semi | amp
            | lt
            | gt
            | lbrace
            | rbrace
            | lparen
            | rparen
            | comma
            | arrow
            | pipe
            | eqeq
            | eq
            | at
            | kw_import
            | kw_component
            | kw_procedure
            | kw_on
            | kw_match
            | kw_when
            | kw_else
            | kw_each
            | kw_limit
            | kw_try
            | kw_catch
            | kw_finally
            | kw_call
            | kw_ask
            | kw_escalate
            | kw_accept
            | kw_loss
            | kw_secret
            | kw_timeout
            | kw_retry
            | kw_within
            | kw_allow
            | kw_kind
            | kw_select
            | kw_label
            | kw_store
            | kw_ip
            | kw_role
            | kw_zk
            | kw_engine
            | kw_database
            | kw_probe
            | kw_expect
            | EOI
    )
}

struct Lower {
    errors: Vec<SyntaxError>,
}

impl Lower {
    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let items = meaningful(pair.into_inner())
            .map(|p| self.item(p))
            .collect();
        File { items }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let sp = span(&pair);
        match pair.as_rule() {
            Rule::import => {
                let path = string(meaningful(pair.into_inner()).next().expect("import path"));
                Item::Import(Import { path, span: sp })
            }
            Rule::component => {
                let mut inner = meaningful(pair.into_inner());
                let name = ident(inner.next().expect("component name"));
                let properties = inner.map(|p| self.property(p)).collect();
                Item::Component(Component {
                    name,
                    properties,
                    span: sp,
                })
            }
            Rule::procedure => {
                let mut parts: Vec<_> = meaningful(pair.into_inner()).collect();
                let body = self.block(parts.pop().expect("procedure body"));
                let mut idents = parts.into_iter().map(ident);
                let name = idents.next().expect("procedure name");
                Item::Procedure(Procedure {
                    name,
                    params: idents.collect(),
                    body,
                    span: sp,
                })
            }
            Rule::playbook => {
                let mut inner = meaningful(pair.into_inner());
                let fault = ident(inner.next().expect("fault"));
                let component = ident(inner.next().expect("component"));
                let body = self.block(inner.next().expect("playbook body"));
                Item::Playbook(Playbook {
                    fault,
                    component,
                    body,
                    span: sp,
                })
            }
            r => unreachable!("item rule {r:?}"),
        }
    }

    fn property(&mut self, pair: Pair<'_, Rule>) -> Property {
        let sp = span(&pair);
        let rule = pair.as_rule();
        let probe_label = rule == Rule::prop_probe
            && pair
                .clone()
                .into_inner()
                .any(|p| p.as_rule() == Rule::kw_label);
        let mut inner = meaningful(pair.into_inner());
        let mut next = || inner.next().expect("property part");
        let kind = match rule {
            Rule::prop_kind => PropertyKind::Kind(ident(next())),
            Rule::prop_select => {
                let key = string(next());
                let value = string(next());
                PropertyKind::Select { key, value }
            }
            Rule::prop_store => PropertyKind::Store(string(next())),
            Rule::prop_ip => PropertyKind::Ip(ident(next())),
            Rule::prop_role => {
                let p = next();
                if p.as_rule() == Rule::role_zk {
                    let mut z = meaningful(p.into_inner());
                    let path = string(z.next().expect("zk path"));
                    let field = ident(z.next().expect("zk field"));
                    let map = z
                        .map(|entry| {
                            let mut e = meaningful(entry.into_inner());
                            let n = number(e.next().expect("role number"));
                            let r = ident(e.next().expect("role name"));
                            (n, r)
                        })
                        .collect();
                    PropertyKind::RoleZk { path, field, map }
                } else {
                    PropertyKind::Role(ident(p))
                }
            }
            Rule::prop_engine => PropertyKind::Engine(ident(next())),
            Rule::prop_database => PropertyKind::Database(ident(next())),
            Rule::prop_probe if probe_label => PropertyKind::ProbeLabel(string(next())),
            Rule::prop_probe => PropertyKind::ProbeCommand(string(next())),
            Rule::prop_expect => PropertyKind::Expect(string(next())),
            Rule::unknown_property => PropertyKind::Unknown(ident(next())),
            r => unreachable!("property rule {r:?}"),
        };
        Property { kind, span: sp }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Block {
        let sp = span(&pair);
        let braces = pair.as_rule() == Rule::brace_block;
        if braces {
            self.errors.push(SyntaxError {
                kind: SyntaxErrorKind::BraceBlock,
                span: Span::new(sp.start, sp.start + 1),
                message: "a block of steps is written `< … >`, not `{ … }`".into(),
                label: "`{` opens a block of steps here".into(),
                help: Some(
                    "write `<` and `>` around steps; braces are for components and `match` arms"
                        .into(),
                ),
            });
        }
        let mut seq = Vec::new();
        if let Some(s) = meaningful(pair.into_inner()).next() {
            for par in meaningful(s.into_inner()) {
                let mut group: Vec<Step> = meaningful(par.into_inner())
                    .map(|st| self.step(st))
                    .collect();
                // Almost every group holds one step; the collect reserved room for four,
                // which was half the memory of a 10,000-file check.
                group.shrink_to_fit();
                seq.push(group);
            }
        }
        Block {
            seq,
            span: sp,
            braces,
        }
    }

    fn step(&mut self, pair: Pair<'_, Rule>) -> Step {
        let sp = span(&pair);
        let mut allows = Vec::new();
        let mut modifiers = Vec::new();
        let mut kind = None;
        let mut body_start = sp.start;
        for p in meaningful(pair.into_inner()) {
            match p.as_rule() {
                Rule::attribute => {
                    let asp = span(&p);
                    let mut a = meaningful(p.into_inner());
                    let code = ident(a.next().expect("allow code"));
                    let reason = string(a.next().expect("allow reason"));
                    allows.push(Allow {
                        code,
                        reason,
                        span: asp,
                    });
                }
                Rule::on_mod => {
                    modifiers.push(Modifier::On(ident(only(p))));
                }
                Rule::timeout_mod => modifiers.push(Modifier::Timeout(duration(only(p)))),
                Rule::retry_mod => modifiers.push(Modifier::Retry(number(only(p)))),
                Rule::within_mod => modifiers.push(Modifier::Within(duration(only(p)))),
                _ => {
                    body_start = span(&p).start;
                    kind = Some(self.step_kind(p));
                }
            }
        }
        Step {
            allows,
            kind: kind.expect("step body"),
            modifiers,
            span: sp,
            body_span: Span::new(body_start, sp.end),
        }
    }

    fn step_kind(&mut self, pair: Pair<'_, Rule>) -> StepKind {
        let rule = pair.as_rule();
        match rule {
            Rule::block | Rule::brace_block => StepKind::Block(self.block(pair)),
            Rule::match_step => {
                let mut inner = meaningful(pair.into_inner()).peekable();
                let subject = ident(inner.next().expect("match subject"));
                let target = match inner.peek() {
                    Some(p) if p.as_rule() == Rule::on_mod => {
                        Some(ident(only(inner.next().expect("on"))))
                    }
                    _ => None,
                };
                let arms = inner
                    .map(|arm| {
                        let asp = span(&arm);
                        let mut parts: Vec<_> = meaningful(arm.into_inner()).collect();
                        let body = Box::new(self.step(parts.pop().expect("arm body")));
                        Arm {
                            patterns: parts.into_iter().map(ident).collect(),
                            body,
                            span: asp,
                        }
                    })
                    .collect();
                StepKind::Match {
                    subject,
                    target,
                    arms,
                }
            }
            Rule::when_step => {
                let mut inner = meaningful(pair.into_inner());
                let c = inner.next().expect("condition");
                let mut words = meaningful(c.clone().into_inner()).map(ident);
                let first = words.next().expect("condition word");
                let text = c.as_str();
                let condition = match words.next() {
                    None => Condition::Flag(first),
                    Some(second) if text.contains("==") => Condition::Equals(first, second),
                    Some(second) => Condition::Predicate(first, second),
                };
                let then = self.block(inner.next().expect("when block"));
                let otherwise = inner.next().map(|b| self.block(b));
                StepKind::When {
                    condition,
                    then,
                    otherwise,
                }
            }
            Rule::each_step => {
                let mut inner = meaningful(pair.into_inner());
                let var = ident(inner.next().expect("each var"));
                let scope = ident(inner.next().expect("each scope"));
                let mut next = inner.next().expect("each body");
                let of = if next.as_rule() == Rule::ident {
                    let of = ident(next);
                    next = inner.next().expect("each body");
                    Some(of)
                } else {
                    None
                };
                let body = self.block(next);
                let limit = inner.next().map(number);
                StepKind::Each {
                    var,
                    scope,
                    of,
                    body,
                    limit,
                }
            }
            Rule::try_step => {
                // Which optional block is which is told by the keyword before it.
                let mut body = None;
                let mut catch = None;
                let mut finally = None;
                let mut slot = 0;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::kw_catch => slot = 1,
                        Rule::kw_finally => slot = 2,
                        Rule::block | Rule::brace_block => {
                            let b = Some(self.block(p));
                            match slot {
                                0 => body = b,
                                1 => catch = b,
                                _ => finally = b,
                            }
                        }
                        _ => {}
                    }
                }
                StepKind::Try {
                    body: body.expect("try body"),
                    catch,
                    finally,
                }
            }
            Rule::call_step => {
                let mut inner = meaningful(pair.into_inner()).map(ident);
                let name = inner.next().expect("call name");
                StepKind::Call {
                    name,
                    args: inner.collect(),
                }
            }
            Rule::ask_step => StepKind::Ask(string(only(pair))),
            Rule::escalate_step => StepKind::Escalate(string(only(pair))),
            Rule::accept_step => StepKind::AcceptLoss(string(only(pair))),
            Rule::action => {
                let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::EOI);
                let name = ident(inner.next().expect("action name"));
                let args = inner
                    .map(|a| match a.as_rule() {
                        Rule::word => Arg::Word(ident(a)),
                        Rule::string => Arg::Str(string(a)),
                        Rule::number => Arg::Number(number(a)),
                        Rule::duration => Arg::Duration(duration(a)),
                        Rule::secret_ref => Arg::Secret(string(only(a))),
                        Rule::eq => Arg::Equals(span(&a)),
                        r => unreachable!("arg rule {r:?}"),
                    })
                    .collect();
                StepKind::Action { name, args }
            }
            r => unreachable!("step rule {r:?}"),
        }
    }
}

fn only(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    meaningful(pair.into_inner())
        .next()
        .expect("one inner pair")
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(&pair),
    }
}

fn number(pair: Pair<'_, Rule>) -> NumberLit {
    // Saturate rather than fail: a 30-digit retry count is reported by the checker.
    NumberLit {
        value: pair.as_str().parse().unwrap_or(u64::MAX),
        span: span(&pair),
    }
}

fn duration(pair: Pair<'_, Rule>) -> DurationLit {
    let text = pair.as_str();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let n: u64 = text[..digits_end].parse().unwrap_or(u64::MAX);
    let unit = match &text[digits_end..] {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => 3_600_000,
    };
    DurationLit {
        millis: n.saturating_mul(unit),
        span: span(&pair),
    }
}

fn string(pair: Pair<'_, Rule>) -> StringLit {
    let sp = span(&pair);
    let raw = pair.as_str();
    let raw = &raw[1..raw.len() - 1];
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some(other) => value.push(other),
                None => {}
            }
        } else {
            value.push(c);
        }
    }
    StringLit {
        value,
        raw: raw.to_string(),
        span: sp,
    }
}
