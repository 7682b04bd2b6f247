//! The one diagnostic type. It says what is wrong and where; it does not know how it
//! is drawn (see `render.rs` for the terminal, and the CLI for JSON, SARIF, GitHub).

use crate::codes::{Code, Severity};
use crate::source::FileId;
use mend_grammar::ast::Span;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub file: FileId,
    /// Lowercase, names in backticks: "store of `mq_broker` is destroyed with no backup".
    pub message: String,
    /// The first label is the primary one.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    #[serde(skip)]
    pub span: Span,
    pub message: String,
    pub primary: bool,
    /// Labels may point into another file (a procedure in an import).
    pub file: FileId,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.info().severity,
            file,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// The primary label: where the finding is.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Self {
        let file = self.file;
        self.labels.insert(
            0,
            Label {
                span,
                message: message.into(),
                primary: true,
                file,
            },
        );
        self
    }

    /// A secondary label: a step that made the state the finding is about.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        let file = self.file;
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
            file,
        });
        self
    }

    /// A secondary label in another file.
    pub fn secondary_in(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
            file,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Where the finding is: the primary label's span.
    pub fn span(&self) -> Span {
        self.labels
            .iter()
            .find(|l| l.primary)
            .map(|l| l.span)
            .unwrap_or_default()
    }
}
