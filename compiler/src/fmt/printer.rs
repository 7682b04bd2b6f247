//! The layout. One pass over the tree in source order, writing whole lines; comments
//! are taken from a cursor over the scanned list as the pass goes by them.
//!
//! Every output line stands for a range of the source that ends at `end`, the end of
//! its last token. Before a line is written, the comments that lie before `end` and
//! were not written yet go out as lines of their own above it (they were inside the
//! code the line joins); after it, a comment that follows `end` on the same source line
//! (with only `;`, `,`, `&` between) is written after it, two spaces away.
//!
//! Nothing here is quadratic: the cursor only moves forward, the source between two
//! elements is looked at once (for blank lines), and the questions "is there a comment
//! in this range" are binary searches.

use super::WIDTH;
use super::comments::{Comment, unknown_property};
use mend_grammar::ast::*;

/// At most this many steps in a block written on one line.
const FLAT_STEPS: usize = 3;

pub(crate) fn print(src: &str, file: &File, comments: &[Comment]) -> String {
    let mut p = Printer {
        src,
        bytes: src.as_bytes(),
        comments,
        next: 0,
        out: String::with_capacity(src.len() + src.len() / 8),
        depth: 0,
        last_end: 0,
        fresh: true,
        force_blank: false,
    };
    p.file(file);
    p.out
}

struct Printer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    comments: &'a [Comment],
    /// The first comment not written yet.
    next: usize,
    out: String,
    /// Indentation level (two spaces each).
    depth: usize,
    /// Source offset of the end of what was last written: a blank line in the source
    /// between it and the next element is kept.
    last_end: usize,
    /// Just after an opening `<` or `{` (or at the top of the file): no blank line.
    fresh: bool,
    /// The next line written has a blank line above it (between top-level items).
    force_blank: bool,
}

impl Printer<'_> {
    // ---- comments, blank lines, lines ---------------------------------------------

    /// Source text of a span.
    fn text(&self, span: Span) -> &str {
        self.src.get(span.start..span.end).unwrap_or_default()
    }

    /// The comment that covers byte `pos`, if any.
    fn comment_at(&self, pos: usize) -> Option<Comment> {
        let i = self.comments.partition_point(|c| c.start <= pos);
        let c = *self.comments.get(i.checked_sub(1)?)?;
        (pos < c.end).then_some(c)
    }

    /// Whether a comment starts in `start..end`.
    fn comment_in(&self, start: usize, end: usize) -> bool {
        let i = self.comments.partition_point(|c| c.start < start);
        self.comments.get(i).is_some_and(|c| c.start < end)
    }

    /// The end of the last token of `span`: pest leaves the whitespace and comments
    /// after a rule's last optional part inside the rule's span.
    fn code_end(&self, span: Span) -> usize {
        let mut e = span.end.min(self.bytes.len());
        loop {
            while e > span.start && self.bytes[e - 1].is_ascii_whitespace() {
                e -= 1;
            }
            match self.comment_at(e.saturating_sub(1)) {
                Some(c) if e > span.start && c.start >= span.start => e = c.start,
                _ => return e,
            }
        }
    }

    /// Whether `start..end` holds a blank line (two newlines with only spaces between).
    fn blank_between(&self, start: usize, end: usize) -> bool {
        let Some(gap) = self.bytes.get(start..end) else {
            return false;
        };
        let mut seen_newline = false;
        for &b in gap {
            match b {
                b'\n' if seen_newline => return true,
                b'\n' => seen_newline = true,
                b' ' | b'\t' | b'\r' => {}
                _ => seen_newline = false,
            }
        }
        false
    }

    /// The offset just after `byte`, looked for from `pos` over whitespace, comments
    /// and commas. Falls back to `pos` (never panics) if the tree and the source
    /// disagree, which the final check would then report.
    fn after(&self, pos: usize, byte: u8) -> usize {
        let mut i = pos;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b if b == byte => return i + 1,
                b'#' => {
                    while i < self.bytes.len() && self.bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b if b.is_ascii_whitespace() || b == b',' => i += 1,
                _ => return pos,
            }
        }
        pos
    }

    fn blank_line(&mut self, wanted: bool) {
        if (wanted || self.force_blank)
            && !self.fresh
            && !self.out.is_empty()
            && !self.out.ends_with("\n\n")
        {
            self.out.push('\n');
        }
        self.force_blank = false;
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// Writes the next comment on a line of its own.
    fn comment_line(&mut self, keep_blank: bool) {
        let c = self.comments[self.next];
        self.next += 1;
        let blank = keep_blank && self.blank_between(self.last_end, c.start);
        self.blank_line(blank);
        self.indent();
        self.out.push_str(c.text(self.src));
        self.out.push('\n');
        self.last_end = self.last_end.max(c.end);
        self.fresh = false;
    }

    /// Writes the comments that start before `pos` on lines of their own.
    fn comments_before(&mut self, pos: usize) {
        while self.comments.get(self.next).is_some_and(|c| c.start < pos) {
            self.comment_line(true);
        }
    }

    /// An element (item, property, step, arm) begins at `start`: its leading comments,
    /// then a blank line if the source has one.
    fn begin(&mut self, start: usize) {
        self.comments_before(start);
        let blank = self.blank_between(self.last_end, start);
        self.blank_line(blank);
        self.last_end = self.last_end.max(start);
    }

    /// Writes a line of code standing for the source up to `end`.
    fn line(&mut self, code: &str, end: usize) {
        // comments inside the code this line joins go above it
        while self.comments.get(self.next).is_some_and(|c| c.start < end) {
            self.comment_line(false);
        }
        self.blank_line(false);
        self.indent();
        self.out.push_str(code);
        if let Some(&c) = self.comments.get(self.next)
            && self.bytes.get(end..c.start).is_some_and(|gap| {
                gap.iter()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b';' | b',' | b'&'))
            })
        {
            self.next += 1;
            self.out.push_str("  ");
            self.out.push_str(c.text(self.src));
            self.last_end = self.last_end.max(c.end);
        }
        self.out.push('\n');
        self.last_end = self.last_end.max(end);
        self.fresh = false;
    }

    /// Opens a nested level after an opening line.
    fn open(&mut self) {
        self.depth += 1;
        self.fresh = true;
    }

    /// Closes a nested level: its last comments (those before `end`, the end of the
    /// closing line to come) stay inside it.
    fn close(&mut self, end: usize) {
        self.comments_before(end);
        self.depth -= 1;
    }

    fn fits(&self, code: &str) -> bool {
        self.depth * 2 + code.chars().count() <= WIDTH
    }

    // ---- items ----------------------------------------------------------------------

    fn file(&mut self, file: &File) {
        let mut prev: Option<&Item> = None;
        for item in &file.items {
            if let Some(p) = prev {
                // imports may stay together; every other item has a blank line above
                self.force_blank = !matches!((p, item), (Item::Import(_), Item::Import(_)));
            }
            self.item(item);
            prev = Some(item);
        }
        self.force_blank = false;
        self.comments_before(usize::MAX);
    }

    fn item(&mut self, item: &Item) {
        self.begin(item.span().start);
        match item {
            Item::Import(i) => {
                let end = self.code_end(i.span);
                self.line(&format!("import \"{}\";", i.path.raw), end);
            }
            Item::Component(c) => self.component(c),
            Item::Procedure(p) => {
                let params: Vec<&str> = p.params.iter().map(|i| i.name.as_str()).collect();
                let head = format!("procedure {}({})", p.name.name, params.join(", "));
                self.body(&head, &p.body);
            }
            Item::Playbook(p) => {
                let head = format!("on {}({})", p.fault.name, p.component.name);
                self.body(&head, &p.body);
            }
        }
    }

    fn component(&mut self, c: &Component) {
        let head = format!("component {}", c.name.name);
        let open = self.after(c.name.span.end, b'{');
        let close = c.span.end.saturating_sub(1);
        if c.properties.is_empty() && !self.comment_in(open, close) {
            self.line(&format!("{head} {{}}"), c.span.end);
            return;
        }
        self.line(&format!("{head} {{"), open);
        self.open();
        for p in &c.properties {
            self.begin(p.span.start);
            if let PropertyKind::Unknown(_) = p.kind {
                // written back as it was: a `#` in it is part of it, not a comment
                // (the scan skipped it)
                let whole = unknown_property(self.src, p.span);
                self.line(self.text(whole).to_string().as_str(), whole.end);
            } else {
                let text = self.property(&p.kind);
                self.line(&text, p.span.end);
            }
        }
        self.close(close);
        self.line("}", c.span.end);
    }

    fn property(&self, kind: &PropertyKind) -> String {
        match kind {
            PropertyKind::Kind(i) => format!("kind {}", i.name),
            PropertyKind::Select { key, value } => {
                format!("select label \"{}\" = \"{}\"", key.raw, value.raw)
            }
            PropertyKind::Store(s) => format!("store \"{}\"", s.raw),
            PropertyKind::Ip(i) => format!("ip {}", i.name),
            PropertyKind::RoleZk { path, field, map } => {
                let entries: Vec<String> = map
                    .iter()
                    .map(|(n, r)| format!("{} => {}", self.text(n.span), r.name))
                    .collect();
                format!(
                    "role zk \"{}\" {} {{ {} }}",
                    path.raw,
                    field.name,
                    entries.join(", ")
                )
            }
            PropertyKind::Role(i) => format!("role {}", i.name),
            PropertyKind::Engine(i) => format!("engine {}", i.name),
            PropertyKind::Database(i) => format!("database {}", i.name),
            PropertyKind::ProbeLabel(s) => format!("probe label \"{}\"", s.raw),
            PropertyKind::ProbeCommand(s) => format!("probe \"{}\"", s.raw),
            PropertyKind::Expect(s) => format!("expect \"{}\"", s.raw),
            PropertyKind::Unknown(i) => i.name.clone(),
        }
    }

    /// The body of a playbook or procedure: always one step per line.
    fn body(&mut self, head: &str, b: &Block) {
        if self.empty(b) {
            self.line(&format!("{head} <>"), b.span.end);
            return;
        }
        self.line(&format!("{head} <"), b.span.start + 1);
        self.steps(b, b.span.end);
        self.line(">", b.span.end);
    }

    // ---- blocks and steps -------------------------------------------------------------

    /// The steps of a block, one level deeper, one per line; `end` is the end of the
    /// line that will close the block.
    fn steps(&mut self, b: &Block, end: usize) {
        self.open();
        let n = b.seq.len();
        for (i, group) in b.seq.iter().enumerate() {
            self.group(group, if i + 1 < n { ";" } else { "" });
        }
        self.close(end);
    }

    /// `a & b & c`: on one line when it fits, else one step per line, `&` leading.
    fn group(&mut self, group: &[Step], term: &str) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return;
        };
        if group.len() > 1
            && let Some(code) = self.flat_group(group)
        {
            let code = format!("{code}{term}");
            if self.fits(&code) {
                self.begin(first.span.start);
                let end = self.code_end(last.span);
                self.line(&code, end);
                return;
            }
        }
        for (j, s) in group.iter().enumerate() {
            self.begin(s.span.start);
            let prefix = if j == 0 { "" } else { "& " };
            self.step(s, prefix, if j + 1 == group.len() { term } else { "" });
        }
    }

    /// A group on one line, if none of its steps has an `@allow`, each can be written
    /// on one line, and no comment or blank line lies between two of them.
    fn flat_group(&self, group: &[Step]) -> Option<String> {
        let mut parts = Vec::with_capacity(group.len());
        for (j, s) in group.iter().enumerate() {
            if !s.allows.is_empty() {
                return None;
            }
            if j > 0 {
                let prev_end = self.code_end(group[j - 1].span);
                if self.comment_in(prev_end, s.span.start)
                    || self.blank_between(prev_end, s.span.start)
                {
                    return None;
                }
            }
            parts.push(self.flat(s)?);
        }
        Some(parts.join(" & "))
    }

    /// One step, its `@allow`s on lines of their own above it; `prefix` starts its
    /// first line (`& `, `master => `), `term` ends its last (`;`, `,`).
    fn step(&mut self, s: &Step, prefix: &str, term: &str) {
        let mut prefix = prefix.to_string();
        for a in &s.allows {
            let code = format!("{prefix}@allow({}, \"{}\")", a.code.name, a.reason.raw);
            self.line(&code, a.span.end);
            prefix.clear();
        }
        let end = self.code_end(s.span);
        if let Some(flat) = self.flat(s) {
            let code = format!("{prefix}{flat}{term}");
            if simple(s) || self.fits(&code) {
                self.line(&code, end);
                return;
            }
        }
        let mods = self.modifiers(s);
        let tail = format!("{mods}{term}");
        match &s.kind {
            StepKind::Block(b) => self.broken(&prefix, &[("", b)], &tail, end),
            StepKind::When {
                condition,
                then,
                otherwise,
            } => {
                let head = format!("when {} ", condition_text(condition));
                let mut parts = vec![(head.as_str(), then)];
                parts.extend(otherwise.iter().map(|o| (" else ", o)));
                self.broken(&prefix, &parts, &tail, end);
            }
            StepKind::Each {
                var,
                scope,
                of,
                body,
                ..
            } => {
                let head = format!(
                    "each {} on {}{} ",
                    var.name,
                    scope.name,
                    of_text(of.as_ref())
                );
                let tail = format!("{}{tail}", self.limit(s));
                self.broken(&prefix, &[(head.as_str(), body)], &tail, end);
            }
            StepKind::Try {
                body,
                catch,
                finally,
            } => {
                let mut parts = vec![("try ", body)];
                parts.extend(catch.iter().map(|c| (" catch ", c)));
                parts.extend(finally.iter().map(|f| (" finally ", f)));
                self.broken(&prefix, &parts, &tail, end);
            }
            StepKind::Match {
                subject,
                target,
                arms,
            } => {
                let on = target
                    .as_ref()
                    .map(|t| format!(" on {}", t.name))
                    .unwrap_or_default();
                let open = self.after(target.as_ref().unwrap_or(subject).span.end, b'{');
                self.line(&format!("{prefix}match {}{on} {{", subject.name), open);
                self.open();
                for arm in arms {
                    self.arm(arm);
                }
                self.close(end);
                self.line(&format!("}}{mods}{term}"), end);
            }
            // simple steps are always written flat, above
            _ => {
                let flat = self.flat(s).unwrap_or_default();
                self.line(&format!("{prefix}{flat}{term}"), end);
            }
        }
    }

    /// A step with blocks, one step per line in each: `parts` are the text before each
    /// block (`when x `, ` else `), `tail` what follows the last (` limit 4;`). An empty
    /// block stays `<>` on the line it is on.
    fn broken(&mut self, prefix: &str, parts: &[(&str, &Block)], tail: &str, end: usize) {
        // where the line that closes block `i` ends: at the next `<` that opens a line
        let closing_end = |p: &Self, i: usize| {
            parts[i + 1..]
                .iter()
                .find(|(_, b)| !p.empty(b))
                .map_or(end, |(_, b)| b.span.start + 1)
        };
        let mut current = prefix.to_string();
        for (i, (text, b)) in parts.iter().enumerate() {
            current.push_str(text);
            if self.empty(b) {
                current.push_str("<>");
                continue;
            }
            current.push('<');
            self.line(&current, b.span.start + 1);
            let close = closing_end(self, i);
            self.steps(b, close);
            current = ">".to_string();
        }
        current.push_str(tail);
        self.line(&current, end);
    }

    /// A block with no step and no comment: written `<>`.
    fn empty(&self, b: &Block) -> bool {
        b.seq.is_empty() && !self.comment_in(b.span.start, b.span.end)
    }

    /// `master | slave => step,`.
    fn arm(&mut self, arm: &Arm) {
        self.begin(arm.span.start);
        let patterns: Vec<&str> = arm.patterns.iter().map(|p| p.name.as_str()).collect();
        let patterns = patterns.join(" | ");
        if arm.body.allows.is_empty() {
            self.step(&arm.body, &format!("{patterns} => "), ",");
        } else {
            // `@allow` goes on a line of its own: the arm's step below its patterns
            let last = arm.patterns.last().map_or(arm.span.start, |p| p.span.end);
            let arrow = self.after(last, b'=');
            let arrow = if self.bytes.get(arrow) == Some(&b'>') {
                arrow + 1
            } else {
                arrow
            };
            self.line(&format!("{patterns} =>"), arrow);
            self.depth += 1;
            self.step(&arm.body, "", ",");
            self.depth -= 1;
        }
    }

    /// The step on one line (`@allow`s aside), or `None` when it cannot be: a `match`,
    /// or a block that must be written one step per line (see [`Self::flat_block`]).
    fn flat(&self, s: &Step) -> Option<String> {
        let body = match &s.kind {
            StepKind::Action { name, args } => {
                let mut t = name.name.clone();
                for a in args {
                    t.push(' ');
                    match a {
                        Arg::Word(i) => t.push_str(&i.name),
                        Arg::Str(s) => push_string(&mut t, &s.raw),
                        Arg::Number(n) => t.push_str(self.text(n.span)),
                        Arg::Duration(d) => t.push_str(self.text(d.span)),
                        Arg::Secret(s) => {
                            t.push_str("secret ");
                            push_string(&mut t, &s.raw);
                        }
                        Arg::Equals(_) => t.push('='),
                    }
                }
                t
            }
            StepKind::Call { name, args } => {
                let args: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
                format!("call {}({})", name.name, args.join(", "))
            }
            StepKind::Ask(t) => format!("ask \"{}\"", t.raw),
            StepKind::Escalate(t) => format!("escalate \"{}\"", t.raw),
            StepKind::AcceptLoss(t) => format!("accept loss \"{}\"", t.raw),
            StepKind::Block(b) => self.flat_block(b)?,
            StepKind::When {
                condition,
                then,
                otherwise,
            } => {
                let mut t = format!(
                    "when {} {}",
                    condition_text(condition),
                    self.flat_block(then)?
                );
                if let Some(o) = otherwise {
                    t.push_str(" else ");
                    t.push_str(&self.flat_block(o)?);
                }
                t
            }
            StepKind::Each {
                var,
                scope,
                of,
                body,
                ..
            } => format!(
                "each {} on {}{} {}{}",
                var.name,
                scope.name,
                of_text(of.as_ref()),
                self.flat_block(body)?,
                self.limit(s)
            ),
            StepKind::Try {
                body,
                catch,
                finally,
            } => {
                let mut t = format!("try {}", self.flat_block(body)?);
                if let Some(c) = catch {
                    t.push_str(" catch ");
                    t.push_str(&self.flat_block(c)?);
                }
                if let Some(f) = finally {
                    t.push_str(" finally ");
                    t.push_str(&self.flat_block(f)?);
                }
                t
            }
            StepKind::Match { .. } => return None,
        };
        Some(body + &self.modifiers(s))
    }

    /// A nested block on one line, `< a; b & c >`: at most three steps, each simple
    /// (an action, `call`, `ask`, `escalate`, `accept loss`, no `@allow`), with no
    /// comment inside and no blank line between two steps. Whether it fits is the
    /// caller's question.
    fn flat_block(&self, b: &Block) -> Option<String> {
        let steps = b.seq.iter().map(Vec::len).sum::<usize>();
        if steps > FLAT_STEPS || self.comment_in(b.span.start, b.span.end) {
            return None;
        }
        if steps == 0 {
            return Some("<>".into());
        }
        let mut groups = Vec::with_capacity(b.seq.len());
        let mut prev_end = None;
        for group in &b.seq {
            let mut parts = Vec::with_capacity(group.len());
            for s in group {
                if !simple(s) {
                    return None;
                }
                if let Some(e) = prev_end
                    && self.blank_between(e, s.span.start)
                {
                    return None;
                }
                prev_end = Some(self.code_end(s.span));
                parts.push(self.flat(s)?);
            }
            groups.push(parts.join(" & "));
        }
        Some(format!("< {} >", groups.join("; ")))
    }

    /// ` on peer timeout 5m`, in source order.
    fn modifiers(&self, s: &Step) -> String {
        let mut t = String::new();
        for m in &s.modifiers {
            match m {
                Modifier::On(i) => {
                    t.push_str(" on ");
                    t.push_str(&i.name);
                }
                Modifier::Timeout(d) => {
                    t.push_str(" timeout ");
                    t.push_str(self.text(d.span));
                }
                Modifier::Retry(n) => {
                    t.push_str(" retry ");
                    t.push_str(self.text(n.span));
                }
                Modifier::Within(d) => {
                    t.push_str(" within ");
                    t.push_str(self.text(d.span));
                }
            }
        }
        t
    }

    /// ` limit 4` of an `each`, as written.
    fn limit(&self, s: &Step) -> String {
        match &s.kind {
            StepKind::Each { limit: Some(n), .. } => format!(" limit {}", self.text(n.span)),
            _ => String::new(),
        }
    }
}

/// A step with no block inside and no `@allow`.
fn simple(s: &Step) -> bool {
    s.allows.is_empty()
        && matches!(
            s.kind,
            StepKind::Action { .. }
                | StepKind::Call { .. }
                | StepKind::Ask(_)
                | StepKind::Escalate(_)
                | StepKind::AcceptLoss(_)
        )
}

fn condition_text(c: &Condition) -> String {
    match c {
        Condition::Flag(a) => a.name.clone(),
        Condition::Equals(a, b) => format!("{} == {}", a.name, b.name),
        Condition::Predicate(a, b) => format!("{}({})", a.name, b.name),
    }
}

fn push_string(t: &mut String, raw: &str) {
    t.push('"');
    t.push_str(raw);
    t.push('"');
}

/// `(dbnode)` of `each db on host(dbnode)`, or nothing.
fn of_text(of: Option<&mend_grammar::ast::Ident>) -> String {
    of.map(|c| format!("({})", c.name)).unwrap_or_default()
}
