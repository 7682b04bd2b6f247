//! The syntax tree of a mend file. Every node carries a byte-offset [`Span`] into
//! the source, which is what miette, the formatter and the checker all want.

/// A byte range `start..end` in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    /// The value with escapes resolved.
    pub value: String,
    /// The text between the quotes, as written.
    pub raw: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationLit {
    pub millis: u64,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberLit {
    pub value: u64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Import(Import),
    Component(Component),
    Procedure(Procedure),
    Playbook(Playbook),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Component(c) => c.span,
            Item::Procedure(p) => p.span,
            Item::Playbook(p) => p.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: StringLit,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: Ident,
    pub properties: Vec<Property>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub kind: PropertyKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyKind {
    Kind(Ident),
    Select {
        key: StringLit,
        value: StringLit,
    },
    Store(StringLit),
    Ip(Ident),
    RoleZk {
        path: StringLit,
        field: Ident,
        map: Vec<(NumberLit, Ident)>,
    },
    Role(Ident),
    Engine(Ident),
    Database(Ident),
    ProbeLabel(StringLit),
    ProbeCommand(StringLit),
    Expect(StringLit),
    /// A line starting with a word that is no property; `name` is that word.
    Unknown(Ident),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playbook {
    pub fault: Ident,
    pub component: Ident,
    pub body: Block,
    pub span: Span,
}

impl Playbook {
    /// `on fault(component)`, the part a diagnostic points at for the whole playbook.
    pub fn header_span(&self) -> Span {
        Span::new(self.span.start, self.component.span.end + 1)
    }
}

/// `< a; b & c >`: a sequence of parallel groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub seq: Vec<Vec<Step>>,
    pub span: Span,
    /// Written with `{ }` by mistake; the compiler reports it.
    pub braces: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub allows: Vec<Allow>,
    pub kind: StepKind,
    pub modifiers: Vec<Modifier>,
    /// The whole step, attributes included.
    pub span: Span,
    /// The step without its attributes: what a diagnostic underlines.
    pub body_span: Span,
}

/// `@allow(E0202, "reason")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub code: Ident,
    pub reason: StringLit,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Block(Block),
    Match {
        subject: Ident,
        target: Option<Ident>,
        arms: Vec<Arm>,
    },
    When {
        condition: Condition,
        then: Block,
        otherwise: Option<Block>,
    },
    Each {
        var: Ident,
        scope: Ident,
        /// `each db on host(dbnode)`: only the instances of this component.
        of: Option<Ident>,
        body: Block,
        limit: Option<NumberLit>,
    },
    Try {
        body: Block,
        catch: Option<Block>,
        finally: Option<Block>,
    },
    Call {
        name: Ident,
        args: Vec<Ident>,
    },
    Ask(StringLit),
    Escalate(StringLit),
    AcceptLoss(StringLit),
    Action {
        name: Ident,
        args: Vec<Arg>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    pub patterns: Vec<Ident>,
    pub body: Box<Step>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Flag(Ident),
    Equals(Ident, Ident),
    Predicate(Ident, Ident),
}

impl Condition {
    pub fn span(&self) -> Span {
        match self {
            Condition::Flag(a) => a.span,
            Condition::Equals(a, b) | Condition::Predicate(a, b) => a.span.join(b.span),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Word(Ident),
    Str(StringLit),
    Number(NumberLit),
    Duration(DurationLit),
    Secret(StringLit),
    Equals(Span),
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Word(i) => i.span,
            Arg::Str(s) | Arg::Secret(s) => s.span,
            Arg::Number(n) => n.span,
            Arg::Duration(d) => d.span,
            Arg::Equals(s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modifier {
    On(Ident),
    Timeout(DurationLit),
    Retry(NumberLit),
    Within(DurationLit),
}

impl Modifier {
    pub fn span(&self) -> Span {
        match self {
            Modifier::On(i) => i.span,
            Modifier::Timeout(d) | Modifier::Within(d) => d.span,
            Modifier::Retry(n) => n.span,
        }
    }
}
